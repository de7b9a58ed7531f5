//go:build unix

package runner

import (
	"errors"
	"os"
	"syscall"
)

// errLocked is lockFile's error when another open file holds the lock.
var errLocked = syscall.EWOULDBLOCK

// lockFile takes an exclusive lock on f without waiting; the kernel drops
// it when the file is closed or the process ends, however it ends.
func lockFile(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
