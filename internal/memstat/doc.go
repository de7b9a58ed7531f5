// Package memstat reports the process's memory use for records and
// benchmarks.
package memstat
