package checkpoint

import (
	"bytes"
	"encoding/gob"
	"math/rand/v2"
	"testing"
)

// mnistState is the reference code's network after an epoch: 785×50 and
// 50×10 weights.
func mnistState() *State {
	rng := rand.New(rand.NewPCG(1, 2))
	s := small()
	s.Params = []Param{
		{Name: "layer1/W", Shape: []int{785, 50}, Values: make([]float64, 785*50)},
		{Name: "layer2/W", Shape: []int{50, 10}, Values: make([]float64, 50*10)},
	}
	for _, p := range s.Params {
		for j := range p.Values {
			p.Values[j] = rng.NormFloat64() * 0.1
		}
	}
	return s
}

// BenchmarkDecode measures decoding and validating an MNIST-sized
// checkpoint from memory; BenchmarkDecodeGob is the gob decoding the runner
// uses today, without any check, for the ratio.
func BenchmarkDecode(b *testing.B) {
	data, err := marshal(mnistState())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		s, err := unmarshal(data)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeGob(b *testing.B) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(mnistState()); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		var s State
		if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	s := mnistState()
	for b.Loop() {
		if err := s.Validate(); err != nil {
			b.Fatal(err)
		}
		if _, err := marshal(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeGob(b *testing.B) {
	s := mnistState()
	for b.Loop() {
		var buf bytes.Buffer
		if err := gob.NewEncoder(&buf).Encode(s); err != nil {
			b.Fatal(err)
		}
	}
}
