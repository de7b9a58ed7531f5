package runner

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrRunExists is returned when a directory already holds a run, or other
// files that a run must not mix with.
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

// dirState is what an existing directory holds.
type dirState int

const (
	dirReusable dirState = iota // nothing, or only what a failed start leaves: resolved.toml, an empty checkpoints/, a lock
	dirRun                      // a run's records
	dirForeign                  // files no run wrote
)

// inspect reports what dir holds.
func inspect(dir string) (dirState, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("run directory: %w", err)
	}
	run, other := false, false
	for _, e := range entries {
		switch e.Name() {
		case lockName, "resolved.toml":
		case "checkpoints":
			inner, err := os.ReadDir(filepath.Join(dir, "checkpoints"))
			if err != nil || len(inner) > 0 {
				run = true
			}
		case "metrics.jsonl", "summary.json", "curves.png":
			run = true
		default:
			other = true
		}
	}
	switch {
	case other:
		if _, err := os.Stat(filepath.Join(dir, "resolved.toml")); err == nil {
			return dirRun, nil
		}
		return dirForeign, nil
	case run:
		return dirRun, nil
	}
	return dirReusable, nil
}

// refusal is the error for a directory that cannot take a new run.
func refusal(dir string, st dirState) error {
	if locked(dir) {
		return fmt.Errorf("%w: %s", ErrRunBusy, dir)
	}
	if st == dirForeign {
		return fmt.Errorf("%w: %s holds files that are not a glr run; choose another -out", ErrRunExists, dir)
	}
	return fmt.Errorf("%w: %s holds a run; continue it with glr run -resume %s, or choose another -out", ErrRunExists, dir, dir)
}

// claimNew claims dir for a new run. The claim is a lock on a file in the
// directory, held for the run's life and released by the kernel however
// the process ends: of processes that claim one directory at the same
// time, exactly one gets it and the others fail at once with ErrRunBusy,
// naming the directory. A directory holding a run's records, or files no
// run wrote, is refused with ErrRunExists (continue a run with Resume); a
// directory that a failed start left (a resolved.toml and nothing else) is
// reused.
func claimNew(dir string) (*claim, error) {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, fmt.Errorf("run directory: %w", err)
	}
	created, err := makeDir(dir)
	if err != nil {
		return nil, err
	}
	if !created {
		// Look before locking, so that a finished run's directory is
		// refused without a lock file being added to it.
		if st, err := inspect(dir); err != nil {
			return nil, err
		} else if st != dirReusable {
			return nil, refusal(dir, st)
		}
	}
	c, err := lockDir(dir, created)
	if err != nil {
		return nil, err
	}
	if !created {
		// Look again under the lock: another process may have written
		// records in between.
		if st, err := inspect(dir); err != nil || st != dirReusable {
			c.release(false)
			if err != nil {
				return nil, err
			}
			return nil, refusal(dir, st)
		}
	}
	return c, nil
}

// claimFree claims the first of base, base-2, base-3, ... that is free:
// one it creates, or one that a failed start left (see claimNew) and no
// other process holds. Two processes never get the same directory.
func claimFree(base string) (*claim, error) {
	if err := os.MkdirAll(filepath.Dir(base), 0o755); err != nil {
		return nil, fmt.Errorf("run directory: %w", err)
	}
	dir := base
	for i := 2; i <= 100000; i++ {
		created, err := makeDir(dir)
		if err != nil {
			return nil, err
		}
		reusable := created
		if !created {
			st, err := inspect(dir)
			reusable = err == nil && st == dirReusable
		}
		if reusable {
			c, err := lockDir(dir, created)
			switch {
			case err == nil && created:
				return c, nil
			case err == nil:
				if st, err := inspect(dir); err == nil && st == dirReusable {
					return c, nil
				}
				c.release(false)
			case !errors.Is(err, ErrRunBusy):
				return nil, err
			}
		}
		dir = fmt.Sprintf("%s-%d", base, i)
	}
	return nil, fmt.Errorf("run directory: %s and 100000 numbered siblings are taken", base)
}

// claimExisting claims the directory of a run to continue it.
func claimExisting(dir string) (*claim, error) {
	if _, err := os.Stat(filepath.Join(dir, "resolved.toml")); err != nil {
		return nil, fmt.Errorf("resume: %s is not a run directory: %w", dir, err)
	}
	return lockDir(dir, false)
}

// makeDir creates dir, or reports that it exists.
func makeDir(dir string) (created bool, err error) {
	switch err := os.Mkdir(dir, 0o755); {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrExist):
		if info, err := os.Stat(dir); err != nil || !info.IsDir() {
			return false, fmt.Errorf("run directory: %s exists and is not a directory", dir)
		}
		return false, nil
	default:
		return false, fmt.Errorf("run directory: %w", err)
	}
}

// lockDir locks dir's lock file, creating it if needed. A directory held by
// another process gives ErrRunBusy; nothing of it is removed then, since it
// is the other process's.
func lockDir(dir string, created bool) (*claim, error) {
	path := filepath.Join(dir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		if created {
			os.Remove(dir) // only if still empty
		}
		return nil, fmt.Errorf("run directory: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		if errors.Is(err, errLocked) {
			return nil, fmt.Errorf("%w: %s", ErrRunBusy, dir)
		}
		return nil, fmt.Errorf("run directory: lock %s: %w", path, err)
	}
	// A process giving the directory up removes the lock file before it
	// lets the lock go: a lock taken on a file opened before that removal
	// is on a file nobody else will open, and so no claim.
	held, err1 := f.Stat()
	now, err2 := os.Stat(path)
	if err1 != nil || err2 != nil || !os.SameFile(held, now) {
		f.Close()
		return nil, fmt.Errorf("%w: %s", ErrRunBusy, dir)
	}
	return &claim{dir: dir, created: created, lock: f}, nil
}

// locked reports whether another process holds dir's lock.
func locked(dir string) bool {
	f, err := os.Open(filepath.Join(dir, lockName))
	if err != nil {
		return false
	}
	defer f.Close()
	return errors.Is(lockFile(f), errLocked)
}

// release gives the directory up, removing its lock file (before the lock
// goes: see lockDir). With cleanup (a run that failed before completing an
// epoch), it also removes what the run wrote, and the directory itself if
// the claim made it, so that the same command can run again.
func (c *claim) release(cleanup bool) {
	os.Remove(filepath.Join(c.dir, lockName))
	if cleanup {
		if st, err := inspect(c.dir); err == nil && st == dirReusable {
			os.Remove(filepath.Join(c.dir, "resolved.toml"))
			os.Remove(filepath.Join(c.dir, "checkpoints"))
			if c.created {
				os.Remove(c.dir)
			}
		}
	}
	c.lock.Close()
}
