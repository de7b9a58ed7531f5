package runner

import (
	"bufio"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// writeAtomic writes a file so that a reader, or a run interrupted at any
// moment, sees either the old content or the new one, never a mix: it writes
// a temporary file in the same directory, syncs it, and renames it over path.
func writeAtomic(path string, write func(w io.Writer) error) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op after the rename
	bw := bufio.NewWriter(f)
	if err := write(bw); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() // make the rename durable where the platform allows
		d.Close()
	}
	return nil
}

func writeJSONAtomic(path string, v any) error {
	return writeAtomic(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	})
}

// Checkpoint is an arm's state after a completed epoch: enough to continue
// the run and end with the same numbers as a run never interrupted.
type Checkpoint struct {
	Version    int
	Arm        string
	ConfigHash string
	Epoch      int // epochs completed
	Params     []ParamState
	Optimizer  []byte
	Metrics    []EpochMetrics // the arm's records so far
	Seconds    float64        // training and evaluation time so far
	PeakMemory uint64
}

// ParamState is one parameter's values, row-major, as float64.
type ParamState struct {
	Name   string
	Shape  []int
	Values []float64
}

const checkpointVersion = 1

func checkpointPath(dir, arm string) string {
	return filepath.Join(dir, "checkpoints", safeName(arm)+".ckpt")
}

// safeName maps an arm name to a file name.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, s)
}

func writeCheckpoint(path string, c *Checkpoint) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return writeAtomic(path, func(w io.Writer) error { return gob.NewEncoder(w).Encode(c) })
}

// readCheckpoint returns the checkpoint at path, or nil if there is none.
func readCheckpoint(path string) (*Checkpoint, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	defer f.Close()
	var c Checkpoint
	if err := gob.NewDecoder(bufio.NewReader(f)).Decode(&c); err != nil {
		return nil, fmt.Errorf("checkpoint %s is corrupt: %w", path, err)
	}
	if c.Version != checkpointVersion {
		return nil, fmt.Errorf("checkpoint %s has version %d, want %d", path, c.Version, checkpointVersion)
	}
	return &c, nil
}
