package optim

import (
	"encoding/binary"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

var kinds = []string{"sgd", "momentum", "adagrad", "adam"}

// run holds a small model's parameters and draws its gradients from a
// seeded stream, so that two runs see the same gradients at the same step.
type run struct {
	params []*tensor.Dense
}

func newRun() *run {
	rng := rand.New(rand.NewPCG(1, 2))
	w1 := make([]float64, 6)
	for i := range w1 {
		w1[i] = rng.NormFloat64()
	}
	return &run{params: []*tensor.Dense{
		dense(tensor.Float64, []int{2, 3}, w1...),
		vec(tensor.Float32, rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()),
		tensor.New(tensor.FromScalar(rng.NormFloat64())),
	}}
}

// grads returns the gradients of step s (1-based), the same in every run.
func (r *run) grads(s int) []*tensor.Dense {
	rng := rand.New(rand.NewPCG(uint64(s), 99))
	gs := make([]*tensor.Dense, len(r.params))
	for i, p := range r.params {
		vals := make([]float64, len(values(p)))
		for j := range vals {
			vals[j] = rng.NormFloat64()
		}
		if p.IsScalar() {
			gs[i] = tensor.New(tensor.FromScalar(vals[0]))
		} else {
			gs[i] = dense(p.Dtype(), p.Shape(), vals...)
		}
	}
	return gs
}

// steps runs steps from+1..to of o on r, halving the learning rate every
// 40 steps as a schedule would.
func (r *run) steps(t testing.TB, o Optimizer, from, to int) {
	t.Helper()
	for s := from + 1; s <= to; s++ {
		if err := o.Step(r.params, r.grads(s)); err != nil {
			t.Fatalf("step %d: %v", s, err)
		}
		if s%40 == 0 {
			o.SetLearningRate(o.LearningRate() * 0.5)
		}
	}
}

// TestRestoreContinues checks that saving after k steps, restoring into a
// fresh optimizer and running the rest gives bit-identical parameters and
// state to never having stopped.
func TestRestoreContinues(t *testing.T) {
	const n = 130 // past the momentum switch at update 100
	for _, kind := range kinds {
		c := Config{Kind: kind, LearningRate: 0.01, WeightDecay: 1e-3}
		ref := newRun()
		o := mustNew(t, c)
		ref.steps(t, o, 0, n)
		want := snapshot(ref.params)
		wantState, err := o.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []int{0, 1, 40, 98, 99, 100, 101, 129, 130} {
			r := newRun()
			first := mustNew(t, c)
			r.steps(t, first, 0, k)
			state, err := first.MarshalBinary()
			if err != nil {
				t.Fatalf("%s after %d steps: MarshalBinary: %v", kind, k, err)
			}
			// A different learning rate, to see that the state's wins.
			second := mustNew(t, Config{Kind: kind, LearningRate: 7, WeightDecay: c.WeightDecay})
			if err := second.UnmarshalBinary(state); err != nil {
				t.Fatalf("%s after %d steps: UnmarshalBinary: %v", kind, k, err)
			}
			if second.Updates() != k || second.LearningRate() != first.LearningRate() {
				t.Fatalf("%s after %d steps: restored Updates %d, LearningRate %v; want %d, %v",
					kind, k, second.Updates(), second.LearningRate(), k, first.LearningRate())
			}
			r.steps(t, second, k, n)
			if got := snapshot(r.params); !sameBits(got, want) {
				t.Errorf("%s stopped after %d steps: parameters differ from the uninterrupted run:\n got %v\nwant %v", kind, k, got, want)
			}
			if got, err := second.MarshalBinary(); err != nil || string(got) != string(wantState) {
				t.Errorf("%s stopped after %d steps: final state differs from the uninterrupted run (err %v)", kind, k, err)
			}
		}
	}
}

func TestMarshalDeterministic(t *testing.T) {
	for _, kind := range kinds {
		r := newRun()
		o := mustNew(t, Config{Kind: kind, LearningRate: 0.01})
		r.steps(t, o, 0, 3)
		a, err := o.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := o.MarshalBinary()
		if string(a) != string(b) {
			t.Errorf("%s: two MarshalBinary calls differ", kind)
		}
		// Restoring and saving again gives the same bytes.
		o2 := mustNew(t, Config{Kind: kind, LearningRate: 1})
		if err := o2.UnmarshalBinary(a); err != nil {
			t.Fatal(err)
		}
		if c, _ := o2.MarshalBinary(); string(c) != string(a) {
			t.Errorf("%s: state changed through a round trip", kind)
		}
		if !strings.HasPrefix(string(a), "GLROPTIM\x01\x00") {
			t.Errorf("%s: state starts % x, want the magic and version 1", kind, a[:10])
		}
	}
}

// reseal recomputes the checksum of a state edited by a test.
func reseal(b []byte) []byte {
	binary.LittleEndian.PutUint32(b[len(b)-4:], crc32.ChecksumIEEE(b[:len(b)-4]))
	return b
}

// edit returns a resealed copy of state with f applied to its body.
func edit(state []byte, f func(b []byte) []byte) []byte {
	b := append([]byte(nil), state[:len(state)-4]...)
	b = f(b)
	return reseal(append(b, 0, 0, 0, 0))
}

func TestUnmarshalErrors(t *testing.T) {
	r := newRun()
	adam := mustNew(t, Config{Kind: "adam", LearningRate: 0.01, WeightDecay: 1e-3})
	r.steps(t, adam, 0, 2)
	state, err := adam.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := mustNew(t, Config{Kind: "adam", LearningRate: 0.01, WeightDecay: 1e-3}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	const (
		kindAt    = 10
		updatesAt = 27
		countAt   = 35
		firstAt   = 39 // the first parameter: dtype, ndims, dims
	)

	tests := []struct {
		name  string
		into  Config
		steps bool // whether the receiver has stepped on r's parameters
		data  []byte
		want  string
	}{
		{name: "empty", data: nil, want: "truncated: 0 bytes"},
		{name: "magic only", data: []byte("GLROPTIM"), want: "truncated: 8 bytes"},
		{name: "not a state", data: []byte("{\"kind\": \"adam\"}"), want: "not an optimizer state (bad magic)"},
		{name: "version", data: edit(state, func(b []byte) []byte { b[8] = 2; return b }), want: "unsupported state version 2 (want 1)"},
		{name: "checksum", data: func() []byte { b := append([]byte(nil), state...); b[50] ^= 1; return b }(), want: "corrupt or truncated: checksum"},
		{name: "truncated", data: state[:len(state)-9], want: "corrupt or truncated: checksum"},
		{name: "trailing bytes", data: edit(state, func(b []byte) []byte { return append(b, 0) }), want: "1 unexpected bytes after the last parameter"},
		{name: "truncated moments", data: edit(state, func(b []byte) []byte { return b[:len(b)-8] }), want: "parameter 2: truncated: 2 moments of 1 values in 8 bytes"},
		{
			// The first parameter, (2, 3) float64, ends at 39 + 2 + 16 + 2·6·8.
			name: "truncated between parameters",
			data: edit(state, func(b []byte) []byte { return b[:153] }),
			want: "parameter 1: truncated at byte 153: want 1 more bytes, have 0",
		},
		{
			name: "truncated dimensions",
			data: edit(state, func(b []byte) []byte { return b[:firstAt+9] }),
			want: "parameter 0: truncated: 2 dimensions in 7 bytes",
		},
		{name: "unknown kind", data: edit(state, func(b []byte) []byte { b[kindAt] = 9; return b }), want: "unknown optimizer kind 9"},
		{name: "other kind", into: Config{Kind: "adagrad"}, data: state, want: "the state is of kind adam, this optimizer adagrad"},
		{name: "other weight decay", into: Config{Kind: "adam", WeightDecay: 0}, data: state, want: "the state has weight decay 0.001, this optimizer 0"},
		{
			name: "updates without parameters",
			data: edit(fresh, func(b []byte) []byte { b[updatesAt] = 1; return b }),
			want: "0 parameters after 1 updates",
		},
		{
			name: "parameters without updates",
			data: edit(state, func(b []byte) []byte { clear(b[updatesAt : updatesAt+8]); return b }),
			want: "3 parameters after 0 updates",
		},
		{
			name: "huge update count",
			data: edit(state, func(b []byte) []byte { binary.LittleEndian.PutUint64(b[updatesAt:], math.MaxUint64); return b }),
			want: "update count 18446744073709551615 out of range",
		},
		{
			name: "huge parameter count",
			data: edit(state, func(b []byte) []byte { binary.LittleEndian.PutUint32(b[countAt:], math.MaxUint32); return b }),
			want: "truncated: 4294967295 parameters in",
		},
		{
			name: "unknown dtype",
			data: edit(state, func(b []byte) []byte { b[firstAt] = 7; return b }),
			want: "parameter 0: unknown dtype code 7",
		},
		{
			name: "too many dimensions",
			data: edit(state, func(b []byte) []byte { b[firstAt+1] = 200; return b }),
			want: "parameter 0: 200 dimensions (at most 32)",
		},
		{
			name: "huge dimension",
			data: edit(state, func(b []byte) []byte { binary.LittleEndian.PutUint64(b[firstAt+2:], math.MaxUint64); return b }),
			want: "parameter 0: dimension 0 of size 18446744073709551615 makes too large a tensor",
		},
		{
			name: "overflowing shape",
			data: edit(state, func(b []byte) []byte {
				binary.LittleEndian.PutUint64(b[firstAt+2:], 1<<32)
				binary.LittleEndian.PutUint64(b[firstAt+10:], 1<<32)
				return b
			}),
			want: "parameter 0: dimension 1 of size 4294967296 makes too large a tensor",
		},
		{
			name: "shape larger than the data",
			data: edit(state, func(b []byte) []byte { binary.LittleEndian.PutUint64(b[firstAt+2:], 1000); return b }),
			want: "parameter 0: truncated: 2 moments of 3000 values in",
		},
		{
			name: "fewer parameters than the receiver",
			into: Config{Kind: "adam", WeightDecay: 1e-3}, steps: true,
			data: fresh,
			want: "the state holds 0 parameters, this optimizer 3",
		},
		{
			name: "other shape than the receiver",
			into: Config{Kind: "adam", WeightDecay: 1e-3}, steps: true,
			data: edit(state, func(b []byte) []byte {
				// (2, 3) becomes (3, 2): same size, other shape.
				binary.LittleEndian.PutUint64(b[firstAt+2:], 3)
				binary.LittleEndian.PutUint64(b[firstAt+10:], 2)
				return b
			}),
			want: "parameter 0 is (3, 2) float64, this optimizer holds (2, 3) float64",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.into
			if c.Kind == "" {
				c = Config{Kind: "adam", WeightDecay: 1e-3}
			}
			c.LearningRate = 0.5
			o := mustNew(t, c)
			if tt.steps {
				newRun().steps(t, o, 0, 1)
			}
			before, _ := o.MarshalBinary()
			err := o.UnmarshalBinary(tt.data)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), c.Kind+": restore state: ") {
				t.Fatalf("UnmarshalBinary error = %v, want %q", err, tt.want)
			}
			if after, _ := o.MarshalBinary(); string(after) != string(before) {
				t.Errorf("a failed UnmarshalBinary changed the optimizer")
			}
		})
	}
}

// TestUnmarshalCorruption feeds every truncation and every single-bit flip
// of a state to UnmarshalBinary: each must be an error, never a panic.
func TestUnmarshalCorruption(t *testing.T) {
	for _, kind := range kinds {
		r := newRun()
		o := mustNew(t, Config{Kind: kind, LearningRate: 0.01})
		r.steps(t, o, 0, 2)
		state, err := o.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n < len(state); n++ {
			if err := mustNew(t, Config{Kind: kind, LearningRate: 1}).UnmarshalBinary(state[:n]); err == nil {
				t.Fatalf("%s: a state truncated to %d of %d bytes restored", kind, n, len(state))
			}
		}
		for i := range state {
			for bit := 0; bit < 8; bit++ {
				b := append([]byte(nil), state...)
				b[i] ^= 1 << bit
				if err := mustNew(t, Config{Kind: kind, LearningRate: 1}).UnmarshalBinary(b); err == nil {
					t.Fatalf("%s: a state with bit %d of byte %d flipped restored", kind, bit, i)
				}
			}
		}
	}
}

// FuzzUnmarshal checks that no input makes UnmarshalBinary panic, and that
// whatever it accepts saves back to the same bytes.
func FuzzUnmarshal(f *testing.F) {
	for _, kind := range kinds {
		r := newRun()
		o := mustNew(f, Config{Kind: kind, LearningRate: 0.01})
		r.steps(f, o, 0, 1)
		state, _ := o.MarshalBinary()
		f.Add(state)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		inputs := [][]byte{data}
		if len(data) >= 4 { // also past the checksum, to reach the parser
			inputs = append(inputs, reseal(append([]byte(nil), data...)))
		}
		for _, in := range inputs {
			for _, kind := range kinds {
				o := mustNew(t, Config{Kind: kind, LearningRate: 0.01})
				if err := o.UnmarshalBinary(in); err != nil {
					continue
				}
				got, err := o.MarshalBinary()
				if err != nil || string(got) != string(in) {
					t.Errorf("%s: accepted state does not save back to itself (err %v)", kind, err)
				}
			}
		}
	})
}
