//go:build !unix

package runner

import "os"

// lockFile cannot lock portably here; a directory claim then rests on the
// exclusive creation of the directory alone.
func lockFile(f *os.File) error { return nil }
