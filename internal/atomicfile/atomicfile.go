// Package atomicfile writes files so that a reader, or a process killed at
// any moment, sees either the file's old content or its complete new
// content, never a mix or a truncated file.
//
// A write goes to a new temporary file in the target's directory, which is
// flushed to stable storage (fsync) and then renamed over the target; the
// directory is then synced so that the rename itself survives a crash. On
// failure the target is left as it was and the temporary file is removed.
//
// # Permissions
//
// The temporary file is created with the permission bits asked for, through
// open(2), so the process umask applies exactly as it does for os.WriteFile,
// os.Create or a shell redirection: Write(path, 0o644, ...) under the usual
// umask 022 gives a 0644 file, and a user who set umask 077 gets 0600. The
// mode of a file being replaced is not carried over. (os.CreateTemp, by
// contrast, always creates 0600 files, which left results unreadable to
// other users.) Honouring the umask needs no chmod and no process-wide
// umask query, which would race with other goroutines creating files.
package atomicfile

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// tempAttempts bounds how many random temporary names Write tries before it
// gives up; a clash needs another file with the same 64-bit random suffix.
const tempAttempts = 100

// Write atomically replaces the file at path with what write writes, creating
// it if needed, with permission perm masked by the umask (see the package
// documentation). write receives a buffered writer; an error from it, or from
// any later step, leaves path unchanged and no temporary file behind, and is
// returned wrapped with the path. The parent directory must exist: Write does
// not create it, and its absence gives an error wrapping fs.ErrNotExist.
//
// The write is durable when Write returns nil: the data and the rename have
// been synced to storage (the directory sync is skipped on Windows, which
// cannot sync directories).
func Write(path string, perm fs.FileMode, write func(io.Writer) error) (err error) {
	if write == nil {
		return fmt.Errorf("atomicfile: write %s: nil write function", path)
	}
	if perm&^fs.ModePerm != 0 {
		return fmt.Errorf("atomicfile: write %s: permission %v has bits other than rwxrwxrwx", path, perm)
	}
	dir := filepath.Dir(path)
	f, err := createTemp(dir, filepath.Base(path), perm)
	if err != nil {
		return fmt.Errorf("atomicfile: write %s: %w", path, err)
	}
	tmp := f.Name()
	renamed := false
	defer func() {
		if !renamed {
			f.Close() // closing twice is harmless
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriter(f)
	if err := write(bw); err != nil {
		return fmt.Errorf("atomicfile: write %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("atomicfile: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("atomicfile: write %s: sync: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("atomicfile: write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("atomicfile: write %s: %w", path, err)
	}
	renamed = true
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("atomicfile: write %s: sync directory: %w", path, err)
	}
	return nil
}

// WriteJSON atomically writes v to path as JSON indented by two spaces and
// ending in a newline, with permission 0644 masked by the umask.
func WriteJSON(path string, v any) error {
	return Write(path, 0o644, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	})
}

// createTemp creates a new file named .base.tmpXXXXXXXXXXXXXXXX in dir with
// permission perm (the umask applies). The suffix is random so that
// concurrent writers of the same target never share a temporary file.
func createTemp(dir, base string, perm fs.FileMode) (*os.File, error) {
	for range tempAttempts {
		var b [8]byte
		rand.Read(b[:]) // never returns an error (crypto/rand)
		name := filepath.Join(dir, "."+base+".tmp"+hex.EncodeToString(b[:]))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, fmt.Errorf("no free temporary name in %s after %d attempts", dir, tempAttempts)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
