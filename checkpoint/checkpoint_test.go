package checkpoint

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// small returns a small valid state: two parameters, optimizer state and
// records, about 300 bytes on disk.
func small() *State {
	return &State{
		Arm:        "glr-sigmoid",
		ConfigHash: "3f2a9c",
		Epoch:      4,
		Dtype:      Float64,
		Params: []Param{
			{Name: "layer1/W", Shape: []int{3, 2}, Values: []float64{0.1, -0.25, 1.5, 0, -3e-5, 7}},
			{Name: "layer1/b", Shape: []int{2}, Values: []float64{0.5, -0.5}},
		},
		Optimizer:  []byte{1, 2, 3, 4, 5},
		Records:    []byte(`{"epoch":1,"test_accuracy":0.9}` + "\n"),
		Seconds:    12.5,
		PeakMemory: 1 << 20,
	}
}

// writeFile writes data to a new file in a test directory and returns its path.
func writeFile(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "arm.ckpt")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// mustMarshal encodes s without validating it, as a crafted file would be.
func mustMarshal(t *testing.T, s *State) []byte {
	t.Helper()
	b, err := marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// frame wraps payload in a valid frame of the given version, with a correct
// digest: the file a careful forger would make.
func frame(version uint32, payload []byte) []byte {
	b := []byte(magic)
	b = le.AppendUint32(b, version)
	b = le.AppendUint64(b, uint64(len(payload)))
	b = append(b, payload...)
	sum := sha256.Sum256(b)
	return append(b, sum[:]...)
}

func TestRoundTrip(t *testing.T) {
	f32 := float32(0.1)
	tests := []struct {
		name   string
		mutate func(s *State)
	}{
		{"float64 state", func(*State) {}},
		{"float32 state", func(s *State) {
			s.Dtype = Float32
			s.Params[0].Values = []float64{float64(f32), -0.25, 1.5, 0, float64(float32(-3e-5)), 7}
			s.Params[1].Values = []float64{float64(math.SmallestNonzeroFloat32), float64(float32(-3.4e28))}
		}},
		{"empty dtype, epoch 0, no blobs", func(s *State) {
			s.Dtype, s.Epoch, s.Optimizer, s.Records, s.Seconds = "", 0, nil, nil, 0
		}},
		{"scalar and rank-4 parameters", func(s *State) {
			s.Params = append(s.Params,
				Param{Name: "temperature", Values: []float64{2}},
				Param{Name: "conv1/K", Shape: []int{1, 2, 1, 2}, Values: []float64{1, 2, 3, 4}})
		}},
		{"extreme allowed values", func(s *State) {
			s.Params[0].Values = []float64{MaxAbsValue, -MaxAbsValue, math.SmallestNonzeroFloat64, math.Copysign(0, -1), 1e-300, -1}
			s.PeakMemory = math.MaxUint64
			s.Seconds = 1e12
		}},
		{"no parameters", func(s *State) { s.Params = nil }},
		{"unicode names", func(s *State) { s.Arm = "glr σ=0.5"; s.Params[0].Name = "couche1/Wé" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := small()
			tc.mutate(want)
			path := filepath.Join(t.TempDir(), "arm.ckpt")
			if err := Write(path, want); err != nil {
				t.Fatal(err)
			}
			got, err := Read(path)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("read back\n%+v\nwrote\n%+v", got, want)
			}
			// Bit for bit, including the sign of zero.
			for i, p := range want.Params {
				for j, v := range p.Values {
					if math.Float64bits(got.Params[i].Values[j]) != math.Float64bits(v) {
						t.Errorf("%s[%d] is %v, wrote %v", p.Name, j, got.Params[i].Values[j], v)
					}
				}
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if enc := mustMarshal(t, want); !bytes.Equal(data, enc) {
				t.Error("the file differs from the encoding of the state")
			}
		})
	}
}

// TestEveryBitFlipDetected flips every bit of a small checkpoint file, one at
// a time, and checks that each read fails with ErrCorrupt.
func TestEveryBitFlipDetected(t *testing.T) {
	orig := mustMarshal(t, small())
	path := writeFile(t, orig)
	if _, err := Read(path); err != nil {
		t.Fatal(err)
	}
	// The file stays open: each flip rewrites one byte in place, and puts
	// it back after the read.
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	flips, detected := 0, 0
	for i := range orig {
		for bit := range 8 {
			if _, err := f.WriteAt([]byte{orig[i] ^ 1<<bit}, int64(i)); err != nil {
				t.Fatal(err)
			}
			flips++
			s, err := Read(path)
			if _, werr := f.WriteAt(orig[i:i+1], int64(i)); werr != nil {
				t.Fatal(werr)
			}
			if err == nil {
				t.Errorf("byte %d bit %d: the flip was read as a valid checkpoint (epoch %d)", i, bit, s.Epoch)
				continue
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("byte %d bit %d: %v does not wrap ErrCorrupt", i, bit, err)
				continue
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("byte %d bit %d: %q does not name the file", i, bit, err)
			}
			detected++
		}
	}
	if flips != 8*len(orig) || len(orig) < 200 {
		t.Fatalf("flipped %d bits of a %d-byte file", flips, len(orig))
	}
	if _, err := Read(path); err != nil {
		t.Fatalf("the restored file does not read: %v", err)
	}
	t.Logf("%d-byte checkpoint: %d single-bit flips, %d detected as corrupt", len(orig), flips, detected)
}

func TestTruncationAndTrailingBytes(t *testing.T) {
	orig := mustMarshal(t, small())
	path := writeFile(t, orig)
	for n := len(orig) - 1; n >= 0; n-- {
		if err := os.Truncate(path, int64(n)); err != nil {
			t.Fatal(err)
		}
		_, err := Read(path)
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d of %d bytes: error %v, want ErrCorrupt", n, len(orig), err)
		}
	}
	for _, tail := range [][]byte{{0}, {'\n'}, orig[:1], orig, bytes.Repeat([]byte{0xff}, 4096)} {
		if err := os.WriteFile(path, append(bytes.Clone(orig), tail...), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Read(path)
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "trailing") {
			t.Errorf("%d trailing bytes: error %v, want ErrCorrupt naming trailing bytes", len(tail), err)
		}
	}
}

func TestReadErrors(t *testing.T) {
	valid := mustMarshal(t, small())
	payload := valid[headerSize : len(valid)-digestSize]
	tests := []struct {
		name string
		data []byte
		want error
		text string // part of the message
	}{
		{"empty file", nil, ErrCorrupt, "shorter"},
		{"a gob file", append([]byte{0x3f, 0xff, 0x81, 0x03, 0x01}, bytes.Repeat([]byte{1}, 100)...), ErrCorrupt, "magic"},
		{"future version, intact", frame(2, payload), ErrVersion, "version 2"},
		{"version 0, intact", frame(0, payload), ErrVersion, "version 0"},
		{"empty payload", frame(version, nil), ErrCorrupt, "arm name length needs 4 bytes"},
		{"payload with an extra byte", frame(version, append(bytes.Clone(payload), 0)), ErrCorrupt, "1 bytes after the last field"},
		{"payload cut short", frame(version, payload[:len(payload)-1]), ErrCorrupt, "records needs"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, tc.data)
			s, err := Read(path)
			if err == nil {
				t.Fatalf("read %+v", s)
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("error %v does not wrap %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("error %q does not name the file and say %q", err, tc.text)
			}
		})
	}
}

func TestReadMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "none.ckpt")
	_, err := Read(path)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("error %v does not wrap fs.ErrNotExist", err)
	}
	if errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) {
		t.Errorf("error %q: want a missing file named, not corruption", err)
	}
}

// invalidStates are states Validate refuses: each is written as a crafted
// file with a correct digest, which Read must refuse, and passed to Write,
// which must not write it.
var invalidStates = []struct {
	name   string
	mutate func(s *State)
	text   string // part of the message
}{
	{"all weights NaN", func(s *State) {
		for i := range s.Params[0].Values {
			s.Params[0].Values[i] = math.NaN()
		}
	}, `parameter "layer1/W" [3 2]: value at [0 0] is NaN`},
	{"+Inf", func(s *State) { s.Params[1].Values[1] = math.Inf(1) }, `parameter "layer1/b" [2]: value at [1] is +Inf`},
	{"-Inf", func(s *State) { s.Params[0].Values[5] = math.Inf(-1) }, "value at [2 1] is -Inf"},
	{"a weight of 5.3e305", func(s *State) { s.Params[0].Values[3] = 5.3e305 }, "value at [1 1] is 5.3e+305, above the bound 1e+30"},
	{"a weight of -2e30", func(s *State) { s.Params[0].Values[0] = -2e30 }, "value at [0 0] is -2e+30"},
	{"6279 values for 785×8", func(s *State) {
		s.Params[0] = Param{Name: "layer1/W", Shape: []int{785, 8}, Values: make([]float64, 6279)}
	}, `parameter "layer1/W" [785 8]: has 6279 values, its shape needs 6280`},
	{"too many values", func(s *State) { s.Params[1].Values = append(s.Params[1].Values, 1) }, "has 3 values, its shape needs 2"},
	{"zero dimension", func(s *State) { s.Params[1].Shape = []int{0}; s.Params[1].Values = nil }, "dimension 0 is 0"},
	{"negative dimension", func(s *State) { s.Params[0].Shape = []int{-3, -2} }, "dimension 0 is -3"},
	{"absurd dimension", func(s *State) { s.Params[1].Shape = []int{1 << 40} }, "dimension 0 is 1099511627776"},
	{"absurd size", func(s *State) { s.Params[0].Shape = []int{1 << 20, 1 << 20} }, "more than 2147483648 values"},
	{"rank 9", func(s *State) {
		s.Params[1].Shape = []int{1, 1, 1, 1, 1, 1, 1, 1, 2}
	}, "rank 9 is above 8"},
	{"empty name", func(s *State) { s.Params[1].Name = "" }, "parameter 1: empty name"},
	{"name with a newline", func(s *State) { s.Params[1].Name = "layer1/b\n" }, "non-printing character at byte 8"},
	{"duplicate names", func(s *State) { s.Params[1].Name = "layer1/W" }, `parameters 0 and 1 are both named "layer1/W"`},
	{"epoch -3", func(s *State) { s.Epoch = -3 }, "epoch -3 is negative"},
	{"NaN seconds", func(s *State) { s.Seconds = math.NaN() }, "seconds NaN"},
	{"infinite seconds", func(s *State) { s.Seconds = math.Inf(1) }, "seconds +Inf"},
	{"negative seconds", func(s *State) { s.Seconds = -1 }, "seconds -1"},
	{"unknown dtype", func(s *State) { s.Dtype = "float16" }, `unknown dtype "float16"`},
	{"float32 dtype, float64 value", func(s *State) { s.Dtype = Float32 }, `parameter "layer1/W" [3 2]: value at [0 0] is 0.1, not a float32`},
}

func TestReadRefusesInvalidContent(t *testing.T) {
	for _, tc := range invalidStates {
		t.Run(tc.name, func(t *testing.T) {
			s := small()
			tc.mutate(s)
			path := writeFile(t, mustMarshal(t, s))
			got, err := Read(path)
			if err == nil {
				t.Fatalf("read %+v", got)
			}
			if !errors.Is(err, ErrInvalid) || errors.Is(err, ErrCorrupt) {
				t.Errorf("error %v: want ErrInvalid, not ErrCorrupt", err)
			}
			if !strings.HasPrefix(err.Error(), "checkpoint: "+path+": ") || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("error %q: want it to name the file and say %q", err, tc.text)
			}
		})
	}
}

func TestWriteRefusesInvalidContent(t *testing.T) {
	for _, tc := range invalidStates {
		t.Run(tc.name, func(t *testing.T) {
			s := small()
			tc.mutate(s)
			dir := t.TempDir()
			path := filepath.Join(dir, "arm.ckpt")
			err := Write(path, s)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.text) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %v: want ErrInvalid naming the file and saying %q", err, tc.text)
			}
			if es, _ := os.ReadDir(dir); len(es) != 0 {
				t.Errorf("a refused write left %d files", len(es))
			}
		})
	}
}

func TestWriteErrors(t *testing.T) {
	dir := t.TempDir()
	if err := Write(filepath.Join(dir, "missing", "arm.ckpt"), small()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("write into a missing directory: %v, want fs.ErrNotExist", err)
	}
	if err := Write(filepath.Join(dir, "arm.ckpt"), nil); err == nil {
		t.Error("writing a nil state succeeded")
	}
}

// TestCraftedPayloads checks that payloads with a valid digest but lengths
// that do not fit are refused without a panic or an allocation beyond the
// file's size.
func TestCraftedPayloads(t *testing.T) {
	// head encodes the fields before the parameter count of small().
	head := func() []byte {
		var b []byte
		b = appendString(b, "arm")
		b = appendString(b, "hash")
		b = le.AppendUint64(b, 1)
		b = appendString(b, "float64")
		b = le.AppendUint64(b, math.Float64bits(1))
		return le.AppendUint64(b, 0)
	}
	param := func(name string, rank uint32, dims []uint64, count uint64) []byte {
		b := le.AppendUint32(head(), 1)
		b = appendString(b, name)
		b = le.AppendUint32(b, rank)
		for _, d := range dims {
			b = le.AppendUint64(b, d)
		}
		return le.AppendUint64(b, count)
	}
	complete := func(b []byte) []byte { return le.AppendUint64(le.AppendUint64(b, 0), 0) } // empty blobs
	tests := []struct {
		name    string
		payload []byte
		want    error
		text    string
	}{
		{"string longer than the payload", le.AppendUint32(nil, math.MaxUint32), ErrCorrupt, "arm name needs 4294967295 bytes"},
		{"2^32-1 parameters", le.AppendUint32(head(), math.MaxUint32), ErrCorrupt, "4294967295 parameters cannot fit"},
		{"rank 2^32-1", param("w", math.MaxUint32, nil, 0), ErrCorrupt, "rank 4294967295"},
		{"2^64-1 values", param("w", 1, []uint64{2}, math.MaxUint64), ErrCorrupt, "18446744073709551615 values"},
		{"2^61 values", param("w", 1, []uint64{2}, 1<<61), ErrCorrupt, "2305843009213693952 values"},
		{"dimension 2^64-1", complete(param("w", 1, []uint64{math.MaxUint64}, 0)), ErrInvalid, "dimension 0 is -1"},
		{"dimension 2^63", complete(param("w", 1, []uint64{1 << 63}, 0)), ErrInvalid, "dimension 0 is -9223372036854775808"},
		{"dimension 2^62", complete(param("w", 1, []uint64{1 << 62}, 0)), ErrInvalid, "dimension 0 is 4611686018427387904, want 1 to 2147483648"},
		{"blob longer than the payload", le.AppendUint64(le.AppendUint32(head(), 0), math.MaxUint64), ErrCorrupt, "optimizer state needs"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := unmarshal(frame(version, tc.payload))
			if err == nil {
				err = s.Validate()
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("error %v: want %v saying %q", err, tc.want, tc.text)
			}
		})
	}
}

// FuzzPayload frames arbitrary payloads with a valid digest: decoding must
// never panic, and a payload that decodes into a valid state must be the
// canonical encoding of that state.
func FuzzPayload(f *testing.F) {
	valid := mustMarshalF(f, small())
	f.Add(valid[headerSize : len(valid)-digestSize])
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0xff}, 64))
	f.Fuzz(func(t *testing.T, payload []byte) {
		data := frame(version, payload)
		s, err := unmarshal(data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v wraps neither ErrCorrupt nor ErrInvalid", err)
			}
			return
		}
		if s.Validate() != nil {
			return
		}
		again, err := marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, data) {
			t.Fatalf("a valid state re-encodes differently")
		}
	})
}

func mustMarshalF(f *testing.F, s *State) []byte {
	b, err := marshal(s)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

func TestCheck(t *testing.T) {
	names := []string{"layer1/W", "layer1/b"}
	shapes := [][]int{{3, 2}, {2}}
	tests := []struct {
		name   string
		names  []string
		shapes [][]int
		want   error
		text   string
	}{
		{"fits", names, shapes, nil, ""},
		{"another shape", names, [][]int{{3, 2}, {3}}, ErrMismatch,
			`parameter 1 is "layer1/b" [2] in the checkpoint, "layer1/b" [3] in the network`},
		{"another input width", names, [][]int{{785, 2}, {2}}, ErrMismatch,
			`parameter 0 is "layer1/W" [3 2] in the checkpoint, "layer1/W" [785 2] in the network`},
		{"another rank", names, [][]int{{3, 2}, {1, 2}}, ErrMismatch, `"layer1/b" [1 2] in the network`},
		{"another name", []string{"layer1/W", "layer2/W"}, shapes, ErrMismatch, `"layer1/b" [2] in the checkpoint, "layer2/W" [2]`},
		{"another order", []string{"layer1/b", "layer1/W"}, [][]int{{2}, {3, 2}}, ErrMismatch, "parameter 0"},
		{"fewer in the network", names[:1], shapes[:1], ErrMismatch,
			"the checkpoint holds 2 parameters (layer1/W [3 2], layer1/b [2]), the network has 1 (layer1/W [3 2])"},
		{"more in the network", append(names, "layer2/W"), append(shapes, []int{2, 10}), ErrMismatch, "the network has 3"},
		{"names and shapes disagree", names, shapes[:1], nil, "2 names but 1 shapes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := small().Check(tc.names, tc.shapes)
			if tc.text == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("Check passed")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %v does not wrap %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.text) {
				t.Errorf("error %q does not say %q", err, tc.text)
			}
		})
	}
}

func TestIndex(t *testing.T) {
	tests := []struct {
		shape []int
		j     int
		want  []int
	}{
		{[]int{785, 50}, 0, []int{0, 0}},
		{[]int{785, 50}, 51, []int{1, 1}},
		{[]int{785, 50}, 785*50 - 1, []int{784, 49}},
		{[]int{2, 3, 4}, 23, []int{1, 2, 3}},
		{[]int{10}, 7, []int{7}},
		{nil, 0, []int{}},
	}
	for _, tc := range tests {
		if got := index(tc.shape, tc.j); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("index(%v, %d) = %v, want %v", tc.shape, tc.j, got, tc.want)
		}
	}
}
