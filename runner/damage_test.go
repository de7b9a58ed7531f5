package runner

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glr-project/glr/checkpoint"
	"github.com/glr-project/glr/models"
)

// layout holds the offsets of a checkpoint's fields that the damage cases
// rewrite, as the format of package checkpoint places them.
type layout struct {
	epoch, firstDim, firstValue int
}

// locate walks a version-1 checkpoint's payload (see package checkpoint) to
// its epoch and its first parameter's first dimension and first value.
func locate(t *testing.T, b []byte) layout {
	t.Helper()
	off := 20 // magic, version, payload length
	str := func() {
		off += 4 + int(binary.LittleEndian.Uint32(b[off:]))
	}
	str() // arm
	str() // config hash
	var l layout
	l.epoch = off
	off += 8
	str()    // dtype
	off += 8 // seconds
	off += 8 // peak memory
	if n := binary.LittleEndian.Uint32(b[off:]); n == 0 {
		t.Fatal("checkpoint without parameters")
	}
	off += 4
	str() // name
	rank := int(binary.LittleEndian.Uint32(b[off:]))
	off += 4
	l.firstDim = off
	off += 8 * rank
	off += 8 // number of values
	l.firstValue = off
	return l
}

// reseal recomputes a checkpoint's digest, as a crafted file would have it.
func reseal(b []byte) {
	sum := sha256.Sum256(b[:len(b)-32])
	copy(b[len(b)-32:], sum[:])
}

// TestDamagedCheckpointRefused trains one epoch of a two-epoch run, then
// damages its checkpoint in each way a disk or a hand can: every such file
// is refused, by glr run -resume (Resume) and by the loader of glr eval,
// export and robust (models.Load), with an error naming the file and what
// is wrong, and the run directory is left as it was.
func TestDamagedCheckpointRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, _, err := Run(experiment(t, tiny), RunOptions{Out: dir, Context: ctx, OnEpoch: func(EpochMetrics) { cancel() }}); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("err = %v, want an interruption after epoch 1", err)
	}
	path := checkpoint.Path(dir, 0, "tiny")
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	l := locate(t, good)
	if got := math.Float64frombits(binary.LittleEndian.Uint64(good[l.firstValue:])); got == 0 || math.Abs(got) > 10 {
		t.Fatalf("the located first weight is %v: the layout is off", got)
	}
	putFloat := func(off int, v float64) func([]byte) {
		return func(b []byte) {
			binary.LittleEndian.PutUint64(b[off:], math.Float64bits(v))
			reseal(b)
		}
	}
	cases := []struct {
		name   string
		damage func(b []byte)
		is     error
		msg    string
	}{
		{"bit flip in the magic", func(b []byte) { b[0] ^= 1 }, checkpoint.ErrCorrupt, ""},
		{"bit flip in the epoch", func(b []byte) { b[l.epoch] ^= 2 }, checkpoint.ErrCorrupt, ""},
		{"bit flip in a weight", func(b []byte) { b[l.firstValue+7] ^= 0x40 }, checkpoint.ErrCorrupt, ""},
		{"bit flip in the digest", func(b []byte) { b[len(b)-1] ^= 0x80 }, checkpoint.ErrCorrupt, ""},
		{"truncated", nil, checkpoint.ErrCorrupt, ""},
		{"NaN weight", putFloat(l.firstValue, math.NaN()), checkpoint.ErrInvalid, "NaN"},
		{"weight of 5.3e305", putFloat(l.firstValue, 5.3e305), checkpoint.ErrInvalid, "5.3e+305"},
		{"wrong value count", func(b []byte) {
			d := binary.LittleEndian.Uint64(b[l.firstDim:])
			binary.LittleEndian.PutUint64(b[l.firstDim:], d-1)
			reseal(b)
		}, checkpoint.ErrInvalid, "values"},
		{"epoch -3", func(b []byte) {
			binary.LittleEndian.PutUint64(b[l.epoch:], uint64(0xffff_ffff_ffff_fffd))
			reseal(b)
		}, checkpoint.ErrInvalid, "epoch -3 is negative"},
		{"epoch 99", func(b []byte) {
			binary.LittleEndian.PutUint64(b[l.epoch:], 99)
			reseal(b)
		}, nil, "after epoch 99"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := append([]byte(nil), good...)
			if c.damage == nil {
				b = b[:len(b)-100]
			} else {
				c.damage(b)
			}
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			defer os.WriteFile(path, good, 0o644)
			check := func(what string, err error) {
				t.Helper()
				if err == nil {
					t.Fatalf("%s accepted the damaged checkpoint", what)
				}
				if (c.is != nil && !errors.Is(err, c.is)) || !strings.Contains(err.Error(), c.msg) || !strings.Contains(err.Error(), path) {
					t.Errorf("%s: err = %v\nwant %v saying %q and naming %s", what, err, c.is, c.msg, path)
				}
			}
			var log strings.Builder
			_, err := Resume(dir, RunOptions{Log: &log})
			check("Resume", err)
			if strings.Contains(log.String(), "epoch 2/2") {
				t.Errorf("Resume trained on:\n%s", log.String())
			}
			_, err = models.Load(dir)
			check("models.Load of the run", err)
			_, err = models.Load(path)
			check("models.Load of the checkpoint", err)
			if after, _ := os.ReadFile(path); string(after) != string(b) {
				t.Error("the damaged checkpoint was rewritten")
			}
		})
	}
	// The intact checkpoint still resumes.
	if _, err := Resume(dir, RunOptions{}); err != nil {
		t.Fatal(err)
	}
}
