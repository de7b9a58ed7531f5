package datasets

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// encodeIDX returns an IDX file with the given magic number, header
// dimensions and payload, gzip-compressed if gz is set.
func encodeIDX(t testing.TB, magic uint32, dims []uint32, payload []byte, gz bool) []byte {
	t.Helper()
	var raw bytes.Buffer
	binary.Write(&raw, binary.BigEndian, magic)
	binary.Write(&raw, binary.BigEndian, dims)
	raw.Write(payload)
	if !gz {
		return raw.Bytes()
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	if _, err := zw.Write(raw.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return z.Bytes()
}

// writeFile writes data to dir/name and returns the path.
func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// testImages returns n images of h x w pixels with varied byte values,
// including 0 and 255.
func testImages(n, h, w int) []byte {
	b := make([]byte, n*h*w)
	for i := range b {
		b[i] = byte(i * 37)
	}
	if len(b) > 0 {
		b[len(b)-1] = 255
	}
	return b
}

// writeSet writes an IDX image file and label file to dir, under base names
// with ".gz" appended if gz is set, and returns their paths.
func writeSet(t testing.TB, dir, images, labels string, n, h, w int, lab []byte, gz bool) (string, string) {
	t.Helper()
	if gz {
		images += ".gz"
		labels += ".gz"
	}
	ip := writeFile(t, dir, images, encodeIDX(t, magicImages, []uint32{uint32(n), uint32(h), uint32(w)}, testImages(n, h, w), gz))
	lp := writeFile(t, dir, labels, encodeIDX(t, magicLabels, []uint32{uint32(len(lab))}, lab, gz))
	return ip, lp
}

func TestReadIDXRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		n, h, w int
		gz      bool
	}{
		{"plain", 5, 3, 4, false},
		{"gzip", 5, 3, 4, true},
		{"plain-empty", 0, 28, 28, false},
		{"gzip-empty", 0, 28, 28, true},
		{"gzip-large", 300, 28, 28, true}, // payload larger than one bufio buffer
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			lab := make([]byte, tt.n)
			for i := range lab {
				lab[i] = byte(i % 10)
			}
			ip, lp := writeSet(t, dir, "img", "lab", tt.n, tt.h, tt.w, lab, tt.gz)

			imgs, n, h, w, err := ReadIDXImages(ip)
			if err != nil {
				t.Fatalf("ReadIDXImages: %v", err)
			}
			if n != tt.n || h != tt.h || w != tt.w {
				t.Errorf("ReadIDXImages dims = %d, %d, %d; want %d, %d, %d", n, h, w, tt.n, tt.h, tt.w)
			}
			if want := testImages(tt.n, tt.h, tt.w); !bytes.Equal(imgs, want) {
				t.Errorf("ReadIDXImages pixels differ from what was written")
			}

			got, err := ReadIDXLabels(lp)
			if err != nil {
				t.Fatalf("ReadIDXLabels: %v", err)
			}
			if !bytes.Equal(got, lab) {
				t.Errorf("ReadIDXLabels = %v, want %v", got, lab)
			}
		})
	}
}

func TestLoadIDX(t *testing.T) {
	for _, gz := range []bool{false, true} {
		name := map[bool]string{false: "plain", true: "gzip"}[gz]
		t.Run(name, func(t *testing.T) {
			const n, h, w = 4, 2, 3
			lab := []byte{3, 0, 2, 1}
			ip, lp := writeSet(t, t.TempDir(), "img", "lab", n, h, w, lab, gz)
			s, err := LoadIDX("toy", ip, lp, 4)
			if err != nil {
				t.Fatal(err)
			}
			if s.Name != "toy" || s.Len() != n || s.Height != h || s.Width != w || s.Features != h*w || s.Classes != 4 {
				t.Errorf("LoadIDX = {Name %q Len %d Height %d Width %d Features %d Classes %d}, want {toy %d %d %d %d 4}",
					s.Name, s.Len(), s.Height, s.Width, s.Features, s.Classes, n, h, w, h*w)
			}
			if want := []int{3, 0, 2, 1}; !slices.Equal(s.Labels, want) {
				t.Errorf("Labels = %v, want %v", s.Labels, want)
			}
			// The Set keeps the raw bytes, and reads them back as b/255.
			raw := testImages(n, h, w)
			if !bytes.Equal(s.bytes, raw) || s.floats != nil {
				t.Fatalf("stored pixels = %v, %v; want the raw bytes %v", s.bytes, s.floats, raw)
			}
			x := make([]float64, len(raw))
			x32 := make([]float32, len(raw))
			if err := s.Gather(seq(n), x, nil); err != nil {
				t.Fatal(err)
			}
			if err := s.Gather32(seq(n), x32, nil); err != nil {
				t.Fatal(err)
			}
			for i, b := range raw {
				if want := float64(b) / 255; x[i] != want {
					t.Fatalf("pixel %d = %v, want %v (raw %d)", i, x[i], want, b)
				}
				if want := float32(b) / 255; x32[i] != want {
					t.Fatalf("float32 pixel %d = %v, want %v (raw %d)", i, x32[i], want, b)
				}
			}
			if x[len(x)-1] != 1 || x32[len(x)-1] != 1 {
				t.Errorf("pixel 255 scaled to %v, %v; want 1", x[len(x)-1], x32[len(x)-1])
			}
		})
	}
}

func TestReadPayloadGrows(t *testing.T) {
	// A small initial capacity must still read everything exactly.
	data := testImages(1, 1000, 3000)
	got, err := readPayload(bytes.NewReader(data), int64(len(data)), 10)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("readPayload = %d bytes, %v; want %d bytes, nil", len(got), err, len(data))
	}
}

// corruptGzip returns a gzip IDX file whose deflate data has been damaged.
func corruptGzip(t testing.TB) []byte {
	b := encodeIDX(t, magicImages, []uint32{20, 28, 28}, testImages(20, 28, 28), true)
	for i := 12; i < len(b)-8; i += 7 {
		b[i] ^= 0x55
	}
	return b
}

func TestErrors(t *testing.T) {
	imgHdr := func(n, h, w uint32) []uint32 { return []uint32{n, h, w} }
	good := func(gz bool) []byte { return encodeIDX(t, magicImages, imgHdr(2, 2, 2), testImages(2, 2, 2), gz) }
	goodLabels := func(gz bool) []byte { return encodeIDX(t, magicLabels, []uint32{2}, []byte{1, 2}, gz) }

	tests := []struct {
		name   string
		images []byte // contents of images file "img"; nil: file absent
		labels []byte // contents of label file "lab"; nil: file absent
		target error  // errors.Is target, or nil
		// mention lists substrings the error must contain; "img" and "lab"
		// stand for the full paths of the two files.
		mention []string
	}{
		{"missing images", nil, goodLabels(false), fs.ErrNotExist, []string{"img"}},
		{"missing labels", good(false), nil, fs.ErrNotExist, []string{"lab"}},
		{"truncated images", encodeIDX(t, magicImages, imgHdr(3, 2, 2), testImages(2, 2, 2), false), goodLabels(false),
			ErrFormat, []string{"img", "truncated", "3 images of 2x2"}},
		{"truncated images gzip", encodeIDX(t, magicImages, imgHdr(3, 2, 2), testImages(2, 2, 2), true), goodLabels(false),
			ErrFormat, []string{"img", "truncated"}},
		{"truncated labels", good(false), encodeIDX(t, magicLabels, []uint32{5}, []byte{1, 2}, false),
			ErrFormat, []string{"lab", "truncated", "5 labels"}},
		{"truncated labels gzip", good(true), encodeIDX(t, magicLabels, []uint32{5}, []byte{1, 2}, true),
			ErrFormat, []string{"lab", "truncated"}},
		{"truncated header", []byte{0, 0, 8, 3, 0, 0}, goodLabels(false), ErrFormat, []string{"img", "truncated", "header"}},
		{"empty images file", []byte{}, goodLabels(false), ErrFormat, []string{"img", "truncated"}},
		{"truncated gzip stream", good(true)[:20], goodLabels(false), ErrFormat, []string{"img", "truncated"}},
		{"bad magic images", encodeIDX(t, magicLabels, imgHdr(2, 2, 2), testImages(2, 2, 2), false), goodLabels(false),
			ErrFormat, []string{"img", "bad magic", "0x00000801"}},
		{"bad magic labels", good(false), encodeIDX(t, 0x00000c01, []uint32{2}, []byte{1, 2}, true),
			ErrFormat, []string{"lab", "bad magic"}},
		{"corrupt gzip data", corruptGzip(t), goodLabels(false), nil, []string{"img", "gzip"}},
		{"corrupt gzip header", []byte{0x1f, 0x8b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, goodLabels(false), gzip.ErrHeader, []string{"img", "gzip"}},
		{"gzip checksum", func() []byte {
			b := good(true)
			b[len(b)-6] ^= 0xff // CRC-32 in the trailer
			return b
		}(), goodLabels(false), gzip.ErrChecksum, []string{"img", "gzip"}},
		{"trailing data", append(good(false), 9), goodLabels(false), ErrFormat, []string{"img", "trailing"}},
		{"zero width", encodeIDX(t, magicImages, imgHdr(2, 2, 0), nil, false), goodLabels(false), ErrFormat, []string{"img", "empty images", "2 images of 2x0"}},
		{"huge count plain", encodeIDX(t, magicImages, imgHdr(1<<31, 28, 28), testImages(2, 28, 28), false), goodLabels(false),
			ErrFormat, []string{"img", "truncated", "2147483648 images"}},
		{"huge count gzip", encodeIDX(t, magicImages, imgHdr(1<<31, 28, 28), testImages(2, 28, 28), true), goodLabels(false),
			ErrFormat, []string{"img", "truncated", "gzip"}},
		{"overflowing dims", encodeIDX(t, magicImages, imgHdr(1<<32-1, 1<<32-1, 1<<32-1), nil, false), goodLabels(false),
			ErrFormat, []string{"img", "overflow"}},
		{"count mismatch", good(false), encodeIDX(t, magicLabels, []uint32{3}, []byte{1, 2, 3}, false),
			ErrFormat, []string{"img", "lab", "2 images", "3 labels"}},
		{"label out of range", good(false), encodeIDX(t, magicLabels, []uint32{2}, []byte{1, 10}, true),
			ErrFormat, []string{"lab", "label 10 at index 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			ip, lp := filepath.Join(dir, "img"), filepath.Join(dir, "lab")
			if tt.images != nil {
				writeFile(t, dir, "img", tt.images)
			}
			if tt.labels != nil {
				writeFile(t, dir, "lab", tt.labels)
			}
			s, err := LoadIDX("x", ip, lp, 10)
			if err == nil {
				t.Fatalf("LoadIDX succeeded with %d examples, want error", s.Len())
			}
			if s != nil {
				t.Errorf("LoadIDX returned a non-nil Set with error %v", err)
			}
			msg := err.Error()
			for _, m := range tt.mention {
				switch m {
				case "img":
					m = ip
				case "lab":
					m = lp
				}
				if !strings.Contains(msg, m) {
					t.Errorf("error %q does not mention %q", msg, m)
				}
			}
			if tt.target != nil && !errors.Is(err, tt.target) {
				t.Errorf("error %q does not wrap %v", msg, tt.target)
			}
		})
	}
}

func TestCorruptGzipWrapsFlateError(t *testing.T) {
	p := writeFile(t, t.TempDir(), "img.gz", corruptGzip(t))
	_, _, _, _, err := ReadIDXImages(p)
	var ce flate.CorruptInputError
	if !errors.As(err, &ce) && !errors.Is(err, gzip.ErrChecksum) {
		t.Errorf("error %v wraps neither a flate.CorruptInputError nor gzip.ErrChecksum", err)
	}
}

func TestLoadIDXBadArguments(t *testing.T) {
	dir := t.TempDir()
	ip, lp := writeSet(t, dir, "img", "lab", 2, 2, 2, []byte{0, 1}, false)
	tests := []struct {
		name         string
		images, labs string
		classes      int
		mention      string
	}{
		{"zero classes", ip, lp, 0, "classes = 0"},
		{"negative classes", ip, lp, -3, "classes = -3"},
		{"directory as images", dir, lp, 10, dir},
		{"images file as labels", ip, ip, 10, ip},
		{"labels file as images", lp, lp, 10, lp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadIDX("x", tt.images, tt.labs, tt.classes)
			if err == nil {
				t.Fatal("LoadIDX succeeded, want error")
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not mention %q", err, tt.mention)
			}
		})
	}
}
