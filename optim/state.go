package optim

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"

	"gorgonia.org/tensor"
)

// The binary state, all integers little-endian:
//
//	magic    8 bytes "GLROPTIM"
//	version  uint16, stateVersion
//	kind     uint8 (1 sgd, 2 momentum, 3 adagrad, 4 adam)
//	lr       float64 bits, uint64
//	wd       float64 bits, uint64
//	updates  uint64
//	count    uint32, the number of parameters (0 before the first Step)
//	count times:
//	  dtype  uint8 (1 float64, 2 float32)
//	  ndims  uint8
//	  dims   ndims × uint64
//	  kind.moments() tensors of ∏dims values, float bits (uint64 or uint32)
//	crc      uint32, CRC-32 (IEEE) of everything before it
const (
	stateMagic   = "GLROPTIM"
	stateVersion = 1
	headerSize   = len(stateMagic) + 2 + 1 + 8 + 8 + 8 + 4
	crcSize      = 4
	maxDims      = 32               // the most dimensions a saved tensor may have
	maxElems     = math.MaxInt / 16 // the most values a restored tensor may have
)

// dtype codes in the binary state.
const (
	codeFloat64 = 1
	codeFloat32 = 2
)

// MarshalBinary implements encoding.BinaryMarshaler.
func (o *optimizer) MarshalBinary() ([]byte, error) {
	if uint64(len(o.slots)) > math.MaxUint32 {
		return nil, fmt.Errorf("%v: save state: %d parameters (at most %d)", o.kind, len(o.slots), uint32(math.MaxUint32))
	}
	size := headerSize + crcSize
	for i := range o.slots {
		s := &o.slots[i]
		if len(s.shape) > maxDims {
			return nil, fmt.Errorf("%v: save state: parameter %d has %d dimensions (at most %d)", o.kind, i, len(s.shape), maxDims)
		}
		size += 2 + 8*len(s.shape) + o.kind.moments()*s.size()*elemSize(s.dtype)
	}
	b := make([]byte, 0, size)
	b = append(b, stateMagic...)
	b = binary.LittleEndian.AppendUint16(b, stateVersion)
	b = append(b, byte(o.kind))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(o.lr))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(o.wd))
	b = binary.LittleEndian.AppendUint64(b, uint64(o.updates))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(o.slots)))
	for i := range o.slots {
		s := &o.slots[i]
		if s.dtype == tensor.Float64 {
			b = append(b, codeFloat64)
		} else {
			b = append(b, codeFloat32)
		}
		b = append(b, byte(len(s.shape)))
		for _, d := range s.shape {
			b = binary.LittleEndian.AppendUint64(b, uint64(d))
		}
		for _, m := range s.f64 {
			for _, x := range m {
				b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
			}
		}
		for _, m := range s.f32 {
			for _, x := range m {
				b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
			}
		}
	}
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b)), nil
}

// UnmarshalBinary implements encoding.BinaryUnmarshaler.
func (o *optimizer) UnmarshalBinary(data []byte) error {
	st, err := o.decode(data)
	if err != nil {
		return fmt.Errorf("%v: restore state: %w", o.kind, err)
	}
	o.lr, o.updates, o.slots = st.lr, st.updates, st.slots
	return nil
}

// decode parses and validates data without changing o.
func (o *optimizer) decode(data []byte) (*optimizer, error) {
	if n := min(len(data), len(stateMagic)); string(data[:n]) != stateMagic[:n] {
		return nil, fmt.Errorf("not an optimizer state (bad magic)")
	}
	if len(data) < headerSize+crcSize {
		return nil, fmt.Errorf("truncated: %d bytes, the header alone takes %d", len(data), headerSize+crcSize)
	}
	if v := binary.LittleEndian.Uint16(data[len(stateMagic):]); v != stateVersion {
		return nil, fmt.Errorf("unsupported state version %d (want %d)", v, stateVersion)
	}
	body := data[:len(data)-crcSize]
	if got, want := crc32.ChecksumIEEE(body), binary.LittleEndian.Uint32(data[len(body):]); got != want {
		return nil, fmt.Errorf("corrupt or truncated: checksum %08x, want %08x", got, want)
	}

	r := reader{b: body, off: len(stateMagic) + 2}
	k := kind(r.uint8())
	lr := math.Float64frombits(r.uint64())
	wd := math.Float64frombits(r.uint64())
	updates := r.uint64()
	count := r.uint32()
	switch {
	case !k.valid():
		return nil, fmt.Errorf("unknown optimizer kind %d", uint8(k))
	case k != o.kind:
		return nil, fmt.Errorf("the state is of kind %v, this optimizer %v", k, o.kind)
	case math.Float64bits(wd) != math.Float64bits(o.wd):
		return nil, fmt.Errorf("the state has weight decay %v, this optimizer %v", wd, o.wd)
	case updates > math.MaxInt-1:
		return nil, fmt.Errorf("update count %d out of range", updates)
	case (updates == 0) != (count == 0):
		return nil, fmt.Errorf("%d parameters after %d updates", count, updates)
	case o.slots != nil && int(count) != len(o.slots):
		return nil, fmt.Errorf("the state holds %d parameters, this optimizer %d", count, len(o.slots))
	case uint64(count) > uint64(r.left()/2):
		return nil, fmt.Errorf("truncated: %d parameters in %d bytes", count, r.left())
	}

	st := &optimizer{kind: k, lr: lr, wd: wd, updates: int(updates)}
	if count > 0 {
		st.slots = make([]slot, count)
	}
	for i := range st.slots {
		if err := r.slot(k, &st.slots[i]); err != nil {
			return nil, fmt.Errorf("parameter %d: %w", i, err)
		}
		if o.slots != nil {
			s, old := &st.slots[i], &o.slots[i]
			if s.dtype != old.dtype || !sameShape(s.shape, old.shape) {
				return nil, fmt.Errorf("parameter %d is %v %v, this optimizer holds %v %v", i, s.shape, s.dtype, old.shape, old.dtype)
			}
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	if n := r.left(); n != 0 {
		return nil, fmt.Errorf("%d unexpected bytes after the last parameter", n)
	}
	return st, nil
}

// elemSize returns the size in bytes of one value of dtype dt.
func elemSize(dt tensor.Dtype) int {
	if dt == tensor.Float64 {
		return 8
	}
	return 4
}

// reader reads little-endian values from b; after the first read past the
// end, err is set and every read returns zero.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) left() int { return len(r.b) - r.off }

// next returns the next n bytes, or nil past the end.
func (r *reader) next(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > r.left() {
		r.err = fmt.Errorf("truncated at byte %d: want %d more bytes, have %d", r.off, n, r.left())
		return nil
	}
	p := r.b[r.off : r.off+n]
	r.off += n
	return p
}

func (r *reader) uint8() uint8 {
	if p := r.next(1); p != nil {
		return p[0]
	}
	return 0
}

func (r *reader) uint32() uint32 {
	if p := r.next(4); p != nil {
		return binary.LittleEndian.Uint32(p)
	}
	return 0
}

func (r *reader) uint64() uint64 {
	if p := r.next(8); p != nil {
		return binary.LittleEndian.Uint64(p)
	}
	return 0
}

// slot reads one parameter's state for rule k into s.
func (r *reader) slot(k kind, s *slot) error {
	code, ndims := r.uint8(), int(r.uint8())
	if r.err != nil {
		return r.err
	}
	switch code {
	case codeFloat64:
		s.dtype = tensor.Float64
	case codeFloat32:
		s.dtype = tensor.Float32
	default:
		return fmt.Errorf("unknown dtype code %d", code)
	}
	if ndims > maxDims {
		return fmt.Errorf("%d dimensions (at most %d)", ndims, maxDims)
	}
	if 8*ndims > r.left() {
		return fmt.Errorf("truncated: %d dimensions in %d bytes", ndims, r.left())
	}
	s.shape = make(tensor.Shape, ndims)
	n := 1
	for i := range s.shape {
		d := r.uint64()
		if d > maxElems || d != 0 && uint64(n) > maxElems/d {
			return fmt.Errorf("dimension %d of size %d makes too large a tensor", i, d)
		}
		s.shape[i] = int(d)
		n *= int(d)
	}
	m, size := k.moments(), elemSize(s.dtype)
	if m*n*size > r.left() { // cannot overflow: m ≤ 2, n ≤ maxElems, size ≤ 8
		return fmt.Errorf("truncated: %d moments of %d values in %d bytes", m, n, r.left())
	}
	if s.dtype == tensor.Float64 {
		s.f64 = make([][]float64, m)
		for j := range s.f64 {
			s.f64[j] = make([]float64, n)
			for i := range s.f64[j] {
				s.f64[j][i] = math.Float64frombits(r.uint64())
			}
		}
	} else {
		s.f32 = make([][]float32, m)
		for j := range s.f32 {
			s.f32[j] = make([]float32, n)
			for i := range s.f32[j] {
				s.f32[j][i] = math.Float32frombits(r.uint32())
			}
		}
	}
	return r.err
}
