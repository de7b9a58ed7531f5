//go:build !unix

package memstat

import "runtime"

// PeakRSS is the memory the Go runtime obtained from the system, the
// closest portable stand-in for the peak resident set.
func PeakRSS() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Sys
}
