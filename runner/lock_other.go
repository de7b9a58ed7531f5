//go:build !unix

package runner

import (
	"errors"
	"os"
)

// errLocked is lockFile's error when another open file holds the lock.
var errLocked = errors.New("locked")

// lockFile cannot lock portably here; a directory claim then rests on the
// exclusive creation of the directory alone.
func lockFile(f *os.File) error { return nil }
