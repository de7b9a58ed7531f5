package buildinfo

import (
	"testing"
	"time"
)

func TestCollect(t *testing.T) {
	start := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	info := Collect([]string{"glr", "run", "default"}, start)
	if info.GoVersion == "" || info.Cores < 1 || info.CPU == "" || !info.Started.Equal(start) {
		t.Errorf("incomplete provenance: %+v", info)
	}
	if len(info.Command) != 3 || info.Command[1] != "run" {
		t.Errorf("command = %q", info.Command)
	}
}
