package buildinfo

import (
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestCollect(t *testing.T) {
	start := time.Date(2026, 12, 1, 12, 0, 0, 0, time.FixedZone("CET", 3600))
	info := Collect([]string{"glr", "run", "default"}, start)
	if info.Module != "github.com/glr-project/glr" || info.Version == "" {
		t.Errorf("module %q version %q", info.Module, info.Version)
	}
	if info.GoVersion != runtime.Version() || info.Cores != runtime.NumCPU() || info.CPU == "" || info.OS != runtime.GOOS || info.Arch != runtime.GOARCH {
		t.Errorf("machine: %+v", info)
	}
	if !info.Started.Equal(start) || info.Started.Location() != time.UTC {
		t.Errorf("started %v, want %v in UTC", info.Started, start)
	}
	if strings.Join(info.Command, " ") != "glr run default" {
		t.Errorf("command = %q", info.Command)
	}
	if info.Modules == nil {
		t.Error("no modules map")
	}
}

// TestRevisionFromGit: a test binary carries no VCS stamp, so the revision
// comes from git, when git is there.
func TestRevisionFromGit(t *testing.T) {
	out, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("no git repository here: %v", err)
	}
	if got, want := Collect(nil, time.Now()).Revision, strings.TrimSpace(string(out)); got != want {
		t.Errorf("revision %q, want %q", got, want)
	}
}
