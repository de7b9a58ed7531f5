//go:build !unix

package runner

import "runtime"

// peakMemory is the memory the Go runtime obtained from the system, the
// closest portable stand-in for the peak resident set.
func peakMemory() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Sys
}
