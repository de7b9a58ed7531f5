//go:build unix

package memstat

import (
	"runtime"
	"syscall"
)

// PeakRSS is the process's peak resident set size in bytes.
func PeakRSS() uint64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.Sys
	}
	kb := uint64(ru.Maxrss)
	if runtime.GOOS == "darwin" {
		return kb // bytes already
	}
	return kb * 1024
}
