package runner

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrRunExists is returned when a directory already holds a run.
var ErrRunExists = errors.New("the directory already holds a run")

// ErrRunBusy is returned when another process is running in a directory.
var ErrRunBusy = errors.New("another glr process is running in the directory")

// lockName is the file a running process holds locked in its directory.
const lockName = ".glr.lock"

// claim is a run directory held by this process.
type claim struct {
	dir     string
	created bool // the directory was made by this claim
	lock    *os.File
}

// claimNew claims dir for a new run. The directory is claimed atomically: a
// lock held for the run's life (released by the kernel if the process
// dies) makes a second process fail at once, naming the directory. A
// directory holding a run's records is refused (continue it with Resume); a
// directory left by a run that failed before its first epoch (a
// resolved.toml and nothing else) may be reused.
func claimNew(dir string) (*claim, error) {
	created := false
	switch err := os.Mkdir(dir, 0o755); {
	case err == nil:
		created = true
	case errors.Is(err, fs.ErrExist):
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			return nil, fmt.Errorf("run directory: %w", err)
		}
		if err := os.Mkdir(dir, 0o755); err != nil {
			return nil, fmt.Errorf("run directory: %w", err)
		}
		created = true
	default:
		return nil, fmt.Errorf("run directory: %w", err)
	}
	c, err := lockDir(dir, created)
	if err != nil {
		return nil, err
	}
	if !created {
		if held, err := holdsRecords(dir); err != nil || held {
			c.release(false)
			if err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %s holds a run; continue it with glr run -resume %s, or choose another -out", ErrRunExists, dir, dir)
		}
	}
	return c, nil
}

// claimFree claims the first of base, base-2, base-3, ... that does not
// exist, creating it: two processes never get the same directory.
func claimFree(base string) (*claim, error) {
	if err := os.MkdirAll(filepath.Dir(base), 0o755); err != nil {
		return nil, fmt.Errorf("run directory: %w", err)
	}
	dir := base
	for i := 2; ; i++ {
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			return lockDir(dir, true)
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("run directory: %w", err)
		}
		if i > 100000 {
			return nil, fmt.Errorf("run directory: %s and 100000 numbered siblings exist", base)
		}
		dir = fmt.Sprintf("%s-%d", base, i)
	}
}

// claimExisting claims the directory of a run to continue it.
func claimExisting(dir string) (*claim, error) {
	if _, err := os.Stat(filepath.Join(dir, "resolved.toml")); err != nil {
		return nil, fmt.Errorf("resume: %s is not a run directory: %w", dir, err)
	}
	return lockDir(dir, false)
}

func lockDir(dir string, created bool) (*claim, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		if created {
			os.Remove(dir)
		}
		return nil, fmt.Errorf("run directory: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		if created {
			os.Remove(filepath.Join(dir, lockName))
			os.Remove(dir)
		}
		return nil, fmt.Errorf("%w: %s", ErrRunBusy, dir)
	}
	return &claim{dir: dir, created: created, lock: f}, nil
}

// holdsRecords reports whether dir holds anything but a failed start's
// resolved.toml and a lock.
func holdsRecords(dir string) (bool, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, fmt.Errorf("run directory: %w", err)
	}
	for _, e := range entries {
		switch e.Name() {
		case lockName, "resolved.toml":
		case "checkpoints":
			inner, err := os.ReadDir(filepath.Join(dir, "checkpoints"))
			if err != nil || len(inner) > 0 {
				return true, nil
			}
		default:
			return true, nil
		}
	}
	return false, nil
}

// release gives the directory up. With cleanup (a run that failed before
// completing an epoch), it removes what the run wrote, and the directory
// itself if the claim made it, so that the same command can run again.
func (c *claim) release(cleanup bool) {
	if cleanup {
		if held, err := holdsRecords(c.dir); err == nil && !held {
			os.Remove(filepath.Join(c.dir, "resolved.toml"))
			os.Remove(filepath.Join(c.dir, "checkpoints"))
			os.Remove(filepath.Join(c.dir, lockName))
			if c.created {
				os.Remove(c.dir)
			}
		}
	}
	c.lock.Close()
}
