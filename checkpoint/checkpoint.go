// Package checkpoint is the on-disk format of one training arm's state after
// a completed epoch, and the export of trained weights to NumPy.
//
// A checkpoint file is framed so that damage of any kind is found on
// [Read]: every single-bit flip anywhere in the file, the digest included,
// truncation at any length and bytes appended after the end all give an
// error wrapping [ErrCorrupt]. Beyond that, Read refuses content that no
// training run produces (see [State.Validate]), with [ErrInvalid], so a
// crafted or mis-written file is not silently loaded into a network.
//
// # File format (version 1)
//
// All integers are little-endian; offsets are in bytes.
//
//	offset  size  field
//	0       8     magic "GLRCKPT\n"
//	8       4     format version, uint32 (1)
//	12      8     payload length n, uint64
//	20      n     payload
//	20+n    32    SHA-256 of bytes [0, 20+n): magic, version, length and payload
//
// The file is exactly 52+n bytes long. The payload of version 1 is, in order:
//
//	str   Arm            str  = uint32 byte length, then the bytes (UTF-8)
//	str   ConfigHash
//	int64 Epoch
//	str   Dtype
//	f64   Seconds        f64  = IEEE 754 binary64 bits as uint64
//	u64   PeakMemory
//	u32   number of parameters P, then P times:
//	        str  Name
//	        u32  rank r, then r times int64 dimension
//	        u64  number of values m, then m times f64 value (row-major)
//	blob  Optimizer      blob = uint64 byte length, then the bytes
//	blob  Records
//
// and must end exactly after Records. The encoding is a fixed binary layout
// rather than encoding/gob: it is specified in full above, so a reader in
// another language needs a few lines of struct unpacking, where gob's
// self-describing stream is defined only by Go's implementation; it does
// not change when a Go type is refactored; and every length in it is checked
// against the bytes that remain before anything is allocated, so even a file
// crafted with a valid digest cannot make Read allocate more than the file's
// size.
//
// A flipped bit goes unnoticed only if the altered bytes hash to the
// stored digest: a SHA-256 collision between two inputs one bit apart, which
// has never been exhibited. A flip in the stored digest no longer matches
// the digest of the unaltered rest. The length field and the file size must
// agree, which catches truncation and trailing bytes before the digest is
// computed. The tests flip every bit of a small checkpoint, one at a time,
// and check that each read fails with ErrCorrupt.
package checkpoint

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/glr-project/glr/internal/atomicfile"
)

// Errors wrapped by Read, Write, WriteNPZ and State.Check; test for them with
// errors.Is. A missing checkpoint file gives an error wrapping fs.ErrNotExist
// instead, so that callers can tell "no checkpoint yet" from a damaged one.
var (
	// ErrCorrupt means the file's bytes are not an intact checkpoint: a
	// wrong magic number, a size that disagrees with its length field
	// (truncation or trailing bytes), a digest mismatch, or a payload that
	// does not decode.
	ErrCorrupt = errors.New("corrupt checkpoint")
	// ErrVersion means an intact checkpoint of a format version this
	// package does not read.
	ErrVersion = errors.New("unsupported checkpoint version")
	// ErrInvalid means content outside what training produces (see
	// State.Validate), in a file that is intact or in a state being written.
	ErrInvalid = errors.New("invalid checkpoint content")
	// ErrMismatch means a state does not fit the network it is checked
	// against (State.Check).
	ErrMismatch = errors.New("parameters do not fit the network")
)

// Bounds enforced by State.Validate.
const (
	// MaxAbsValue bounds the magnitude of every parameter value. Networks
	// trained here on inputs in [0, 1] keep their weights many orders of
	// magnitude below it; a larger value is damage, such as a flipped
	// high exponent bit (which turns a weight of 0.1 into about 1e307),
	// not training.
	MaxAbsValue = 1e30
	// MaxRank bounds the number of dimensions of a parameter.
	MaxRank = 8
	// MaxValues bounds the number of values of one parameter (2^31 float64
	// values are 16 GiB), and so every dimension.
	MaxValues = 1 << 31
)

// Dtype is the element type of the network a checkpoint was taken from.
type Dtype string

// The dtypes networks are built with. The empty Dtype means Float64.
const (
	Float64 Dtype = "float64"
	Float32 Dtype = "float32"
)

// check reports whether d is a known dtype.
func (d Dtype) check() error {
	switch d {
	case "", Float64, Float32:
		return nil
	}
	return fmt.Errorf("unknown dtype %q (want %s or %s)", string(d), Float64, Float32)
}

// State is one training arm's state after a completed epoch: enough to
// continue the run and end with the numbers of a run never interrupted.
type State struct {
	Arm        string  // the arm's name
	ConfigHash string  // hash of the resolved config the arm was trained with
	Epoch      int     // epochs completed, >= 0
	Dtype      Dtype   // element type of the network's parameters
	Params     []Param // the network's parameters, in build order
	Optimizer  []byte  // opaque: the optimizer's MarshalBinary
	Records    []byte  // opaque: JSON lines of the arm's per-epoch metrics
	Seconds    float64 // training and evaluation time so far, >= 0
	PeakMemory uint64  // peak memory in bytes so far
}

// Param is one parameter's values, row-major, as float64. A float32
// network's values are stored converted to float64, which is exact: every
// float32 is a float64, and converting back gives the same float32 bit for
// bit. A dense layer's weight W is inputs × outputs (the layer computes x·W).
type Param struct {
	Name   string // scoped name, such as "layer1/W"
	Shape  []int  // dimensions, each >= 1; empty for a scalar
	Values []float64
}

// Write writes s to path atomically (see package atomicfile), with
// permission 0644 masked by the umask. The parent directory must exist.
// A state that Validate refuses is not written: the error wraps ErrInvalid.
func Write(path string, s *State) error {
	if s == nil {
		return fmt.Errorf("checkpoint: write %s: nil state", path)
	}
	if err := s.Validate(); err != nil {
		return fmt.Errorf("checkpoint: write %s: %w", path, err)
	}
	data, err := marshal(s)
	if err != nil {
		return fmt.Errorf("checkpoint: write %s: %w", path, err)
	}
	if err := atomicfile.Write(path, 0o644, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// Read reads the checkpoint at path and validates it (State.Validate). A
// missing file gives an error wrapping fs.ErrNotExist; damaged bytes give
// one wrapping ErrCorrupt; an intact file of another format version,
// ErrVersion; content that training cannot produce, ErrInvalid. Every error
// names the file.
func Read(path string) (*State, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("checkpoint: %s: no such file: %w", path, err)
		}
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	s, err := unmarshal(data)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %s: %w", path, err)
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("checkpoint: %s: %w", path, err)
	}
	return s, nil
}

// Validate reports whether s holds what a training run can produce; the
// error wraps ErrInvalid and names the parameter at fault. It refuses:
// a negative epoch; non-finite or negative seconds; an unknown dtype; a
// parameter with an empty, duplicate or non-printable name, a rank above
// MaxRank, a dimension below 1, more than MaxValues values, a number of
// values other than the product of its shape, or a value that is NaN,
// infinite or above MaxAbsValue in magnitude; and, for Float32, a value
// that is not exactly a float32.
func (s *State) Validate() error {
	if s.Epoch < 0 {
		return fmt.Errorf("%w: epoch %d is negative", ErrInvalid, s.Epoch)
	}
	if math.IsNaN(s.Seconds) || math.IsInf(s.Seconds, 0) || s.Seconds < 0 {
		return fmt.Errorf("%w: seconds %v is not a finite non-negative duration", ErrInvalid, s.Seconds)
	}
	if err := s.Dtype.check(); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return validateParams(s.Params, s.Dtype)
}

// validateParams checks params as State.Validate describes.
func validateParams(params []Param, dtype Dtype) error {
	seen := make(map[string]int, len(params))
	for i, p := range params {
		if err := validateName(p.Name); err != nil {
			return fmt.Errorf("%w: parameter %d: %v", ErrInvalid, i, err)
		}
		if j, dup := seen[p.Name]; dup {
			return fmt.Errorf("%w: parameters %d and %d are both named %q", ErrInvalid, j, i, p.Name)
		}
		seen[p.Name] = i
		if err := validateParam(&p, dtype); err != nil {
			return fmt.Errorf("%w: parameter %q %v: %v", ErrInvalid, p.Name, p.Shape, err)
		}
	}
	return nil
}

// validateName refuses names that cannot identify a parameter in messages
// and exports: empty, not UTF-8, or holding control or other non-printing
// characters.
func validateName(name string) error {
	if name == "" {
		return errors.New("empty name")
	}
	if !utf8.ValidString(name) {
		return fmt.Errorf("name %q is not UTF-8", name)
	}
	if i := strings.IndexFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }); i >= 0 {
		return fmt.Errorf("name %q has a non-printing character at byte %d", name, i)
	}
	return nil
}

// validateParam checks one parameter's shape and values.
func validateParam(p *Param, dtype Dtype) error {
	if len(p.Shape) > MaxRank {
		return fmt.Errorf("rank %d is above %d", len(p.Shape), MaxRank)
	}
	size := int64(1)
	for k, d := range p.Shape {
		if d < 1 || int64(d) > MaxValues {
			return fmt.Errorf("dimension %d is %d, want 1 to %d", k, d, int64(MaxValues))
		}
		size *= int64(d) // below 2^62: both factors are at most MaxValues
		if size > MaxValues {
			return fmt.Errorf("holds more than %d values", int64(MaxValues))
		}
	}
	if int64(len(p.Values)) != size {
		return fmt.Errorf("has %d values, its shape needs %d", len(p.Values), size)
	}
	for j, v := range p.Values {
		switch {
		case math.IsNaN(v) || math.IsInf(v, 0):
			return fmt.Errorf("value at %v is %v", index(p.Shape, j), v)
		case math.Abs(v) > MaxAbsValue:
			return fmt.Errorf("value at %v is %g, above the bound %g", index(p.Shape, j), v, MaxAbsValue)
		case dtype == Float32 && float64(float32(v)) != v:
			return fmt.Errorf("value at %v is %v, not a float32 as the dtype says", index(p.Shape, j), v)
		}
	}
	return nil
}

// index turns the flat row-major offset j into its index in shape.
func index(shape []int, j int) []int {
	idx := make([]int, len(shape))
	for k := len(shape) - 1; k >= 0; k-- {
		idx[k] = j % shape[k]
		j /= shape[k]
	}
	return idx
}

// Check reports whether s fits a network whose parameters, in build order,
// have the given names and shapes: the same number of parameters, with the
// same names in the same order and the same shapes. The error wraps
// ErrMismatch and says what was expected and what was found. names and
// shapes must have the same length.
func (s *State) Check(names []string, shapes [][]int) error {
	if len(names) != len(shapes) {
		return fmt.Errorf("checkpoint: check: %d names but %d shapes", len(names), len(shapes))
	}
	if len(s.Params) != len(names) {
		return fmt.Errorf("checkpoint: arm %q: %w: the checkpoint holds %d parameters (%s), the network has %d (%s)",
			s.Arm, ErrMismatch, len(s.Params), describeParams(s.Params), len(names), describe(names, shapes))
	}
	for i, p := range s.Params {
		if p.Name != names[i] || !slices.Equal(p.Shape, shapes[i]) {
			return fmt.Errorf("checkpoint: arm %q: %w: parameter %d is %q %v in the checkpoint, %q %v in the network",
				s.Arm, ErrMismatch, i, p.Name, p.Shape, names[i], shapes[i])
		}
	}
	return nil
}

// describe lists names with their shapes: "layer1/W [785 50], layer2/W [50 10]".
func describe(names []string, shapes [][]int) string {
	parts := make([]string, len(names))
	for i := range names {
		parts[i] = fmt.Sprintf("%s %v", names[i], shapes[i])
	}
	return strings.Join(parts, ", ")
}

func describeParams(ps []Param) string {
	names := make([]string, len(ps))
	shapes := make([][]int, len(ps))
	for i, p := range ps {
		names[i], shapes[i] = p.Name, p.Shape
	}
	return describe(names, shapes)
}

// Path is where a run directory keeps the checkpoint of its arm number index
// (counting from 0): DIR/checkpoints/NN-NAME.ckpt, with the arm's name
// reduced to letters, digits, '-', '_' and '.' and cut to 64 bytes. The
// index keeps arms apart whose names reduce to the same file name.
func Path(dir string, index int, arm string) string {
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, arm)
	if len(name) > 64 {
		name = name[:64]
	}
	return filepath.Join(dir, "checkpoints", fmt.Sprintf("%02d-%s.ckpt", index, name))
}
