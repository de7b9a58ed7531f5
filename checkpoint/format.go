package checkpoint

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
)

// The frame around the payload; see the package documentation.
const (
	magic       = "GLRCKPT\n"
	version     = 1
	headerSize  = len(magic) + 4 + 8 // magic, version, payload length
	digestSize  = sha256.Size
	minFileSize = headerSize + digestSize
)

var le = binary.LittleEndian

// marshal encodes s as a complete checkpoint file. It does not validate s
// (Write does), so tests can craft files that Read must refuse.
func marshal(s *State) ([]byte, error) {
	n := 4 + len(s.Arm) + 4 + len(s.ConfigHash) + 8 + 4 + len(s.Dtype) + 8 + 8 + 4 +
		8 + len(s.Optimizer) + 8 + len(s.Records)
	for _, p := range s.Params {
		n += 4 + len(p.Name) + 4 + 8*len(p.Shape) + 8 + 8*len(p.Values)
	}
	if uint64(len(s.Params)) > math.MaxUint32 {
		return nil, fmt.Errorf("%d parameters, above the format's %d", len(s.Params), uint64(math.MaxUint32))
	}
	strs := []string{s.Arm, s.ConfigHash, string(s.Dtype)}
	for _, p := range s.Params {
		strs = append(strs, p.Name)
	}
	for _, str := range strs {
		if uint64(len(str)) > math.MaxUint32 {
			return nil, fmt.Errorf("a string of %d bytes, above the format's %d: %.40q", len(str), uint64(math.MaxUint32), str)
		}
	}
	b := make([]byte, 0, headerSize+n+digestSize)
	b = append(b, magic...)
	b = le.AppendUint32(b, version)
	b = le.AppendUint64(b, uint64(n))
	b = appendString(b, s.Arm)
	b = appendString(b, s.ConfigHash)
	b = le.AppendUint64(b, uint64(int64(s.Epoch)))
	b = appendString(b, string(s.Dtype))
	b = le.AppendUint64(b, math.Float64bits(s.Seconds))
	b = le.AppendUint64(b, s.PeakMemory)
	b = le.AppendUint32(b, uint32(len(s.Params)))
	for _, p := range s.Params {
		b = appendString(b, p.Name)
		b = le.AppendUint32(b, uint32(len(p.Shape))) // MaxRank in a valid state
		for _, d := range p.Shape {
			b = le.AppendUint64(b, uint64(int64(d)))
		}
		b = le.AppendUint64(b, uint64(len(p.Values)))
		for _, v := range p.Values {
			b = le.AppendUint64(b, math.Float64bits(v))
		}
	}
	b = appendBlob(b, s.Optimizer)
	b = appendBlob(b, s.Records)
	if len(b) != headerSize+n {
		return nil, fmt.Errorf("internal error: encoded %d payload bytes, computed %d", len(b)-headerSize, n)
	}
	sum := sha256.Sum256(b)
	return append(b, sum[:]...), nil
}

func appendString(b []byte, s string) []byte {
	b = le.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

func appendBlob(b, blob []byte) []byte {
	b = le.AppendUint64(b, uint64(len(blob)))
	return append(b, blob...)
}

// unmarshal checks the frame of a checkpoint file and decodes its payload.
// It does not validate the content.
func unmarshal(data []byte) (*State, error) {
	if len(data) < minFileSize {
		return nil, fmt.Errorf("%w: the file is %d bytes, shorter than the %d bytes of an empty frame (truncated?)",
			ErrCorrupt, len(data), minFileSize)
	}
	if string(data[:len(magic)]) != magic {
		return nil, fmt.Errorf("%w: it starts with %q, not the magic %q of a checkpoint", ErrCorrupt, data[:len(magic)], magic)
	}
	n := le.Uint64(data[len(magic)+4 : headerSize])
	if room := uint64(len(data) - minFileSize); n != room {
		what := "truncated"
		if n < room {
			what = fmt.Sprintf("%d trailing bytes", room-n)
		}
		return nil, fmt.Errorf("%w: the header gives a %d-byte payload, the file's size leaves %d (%s, or a damaged header)",
			ErrCorrupt, n, room, what)
	}
	end := headerSize + int(n)
	sum := sha256.Sum256(data[:end])
	if stored := data[end:]; !bytes.Equal(sum[:], stored) {
		return nil, fmt.Errorf("%w: SHA-256 mismatch: the file stores %x, its content hashes to %x", ErrCorrupt, stored, sum)
	}
	if v := le.Uint32(data[len(magic):]); v != version {
		return nil, fmt.Errorf("%w: format version %d, this program reads version %d", ErrVersion, v, version)
	}
	d := &decoder{b: data[headerSize:end]}
	s := d.state()
	if d.err == nil && len(d.b) > 0 {
		d.fail("%d bytes after the last field", len(d.b))
	}
	if d.err != nil {
		return nil, d.err
	}
	return s, nil
}

// decoder reads a payload; after the first error it reads only zeros.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: malformed payload: %s", ErrCorrupt, fmt.Sprintf(format, args...))
	}
	d.b = nil
}

// take returns the next n bytes, or nil after recording that they are missing.
func (d *decoder) take(n uint64, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.fail("%s needs %d bytes, %d remain", what, n, len(d.b))
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) u32(what string) uint32 {
	if b := d.take(4, what); b != nil {
		return le.Uint32(b)
	}
	return 0
}

func (d *decoder) u64(what string) uint64 {
	if b := d.take(8, what); b != nil {
		return le.Uint64(b)
	}
	return 0
}

func (d *decoder) str(what string) string {
	return string(d.take(uint64(d.u32(what+" length")), what))
}

func (d *decoder) blob(what string) []byte {
	b := d.take(d.u64(what+" length"), what)
	if len(b) == 0 {
		return nil
	}
	return bytes.Clone(b)
}

func (d *decoder) state() *State {
	s := &State{
		Arm:        d.str("arm name"),
		ConfigHash: d.str("config hash"),
	}
	epoch := int64(d.u64("epoch"))
	s.Epoch = int(epoch)
	if int64(s.Epoch) != epoch && d.err == nil {
		d.err = fmt.Errorf("%w: epoch %d does not fit an int", ErrInvalid, epoch)
	}
	s.Dtype = Dtype(d.str("dtype"))
	s.Seconds = math.Float64frombits(d.u64("seconds"))
	s.PeakMemory = d.u64("peak memory")
	count := uint64(d.u32("parameter count"))
	// Each parameter takes at least 16 bytes (name length, rank, value
	// count), which bounds the allocation by the payload's size.
	if count > uint64(len(d.b))/16 {
		d.fail("%d parameters cannot fit in the %d bytes that remain", count, len(d.b))
		return s
	}
	if count > 0 {
		s.Params = make([]Param, count)
	}
	for i := range s.Params {
		s.Params[i] = d.param(i)
	}
	s.Optimizer = d.blob("optimizer state")
	s.Records = d.blob("records")
	return s
}

func (d *decoder) param(i int) Param {
	what := fmt.Sprintf("parameter %d", i)
	p := Param{Name: d.str(what + " name")}
	if d.err == nil {
		what = fmt.Sprintf("parameter %q", p.Name)
	}
	rank := uint64(d.u32(what + " rank"))
	if rank > uint64(len(d.b))/8 {
		d.fail("%s has rank %d: its dimensions cannot fit in the %d bytes that remain", what, rank, len(d.b))
		return p
	}
	if rank > 0 {
		p.Shape = make([]int, rank)
	}
	for k := range p.Shape {
		dim := int64(d.u64(what + " dimension"))
		p.Shape[k] = int(dim)
		if int64(p.Shape[k]) != dim && d.err == nil { // only where int has 32 bits
			d.err = fmt.Errorf("%w: %s: dimension %d is %d, which does not fit an int", ErrInvalid, what, k, dim)
		}
	}
	m := d.u64(what + " value count")
	if m > uint64(len(d.b))/8 {
		d.fail("%s has %d values, which cannot fit in the %d bytes that remain", what, m, len(d.b))
		return p
	}
	raw := d.take(8*m, what+" values")
	if m > 0 {
		p.Values = make([]float64, m)
	}
	for j := range p.Values {
		p.Values[j] = math.Float64frombits(le.Uint64(raw[8*j:]))
	}
	return p
}
