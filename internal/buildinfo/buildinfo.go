// Package buildinfo records what produced a result: the program's module
// version and source revision, the Go version, the machine, the command line
// and the start time, for summary.json, robust.json and glr version.
package buildinfo

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"
)

// Info is the provenance of a result.
type Info struct {
	Module    string            `json:"module"`
	Version   string            `json:"version"`  // the module version, "(devel)" for a local build
	Revision  string            `json:"revision"` // the source revision (VCS commit) from the build, else from git in the source tree; "" if unknown
	Modified  bool              `json:"modified"` // the source tree had uncommitted changes
	GoVersion string            `json:"go_version"`
	OS        string            `json:"os"`
	Arch      string            `json:"arch"`
	CPU       string            `json:"cpu"`
	Cores     int               `json:"cores"`
	Command   []string          `json:"command,omitempty"`
	Started   time.Time         `json:"started"`
	Modules   map[string]string `json:"modules"` // versions of the modules that decide the numbers (empty in a test binary, which lists none)
}

// Collect returns the provenance of the running program for a job started
// at started with the given command line.
func Collect(command []string, started time.Time) Info {
	info := Info{
		GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH,
		CPU: cpuModel(), Cores: runtime.NumCPU(), Command: command, Started: started.UTC(),
		Modules: map[string]string{},
	}
	bi, ok := debug.ReadBuildInfo()
	if ok {
		info.Module, info.Version = bi.Main.Path, bi.Main.Version
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				info.Revision = s.Value
			case "vcs.modified":
				info.Modified = s.Value == "true"
			}
		}
		for _, d := range bi.Deps {
			for _, want := range []string{"gorgonia.org/", "gonum.org/", "github.com/BurntSushi/toml"} {
				if strings.HasPrefix(d.Path, want) {
					info.Modules[d.Path] = d.Version
				}
			}
		}
	}
	if info.Revision == "" {
		// go run, go test and go build -buildvcs=false do not stamp the
		// revision; ask git, briefly, in the source tree the program was
		// built from, else in the working directory.
		info.Revision, info.Modified = gitRevision(sourceDir())
	}
	return info
}

// sourceDir returns the directory this file was compiled from, or "" when
// the build trimmed the paths or the tree is gone.
func sourceDir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok || !filepath.IsAbs(file) {
		return ""
	}
	dir := filepath.Dir(file)
	if _, err := os.Stat(dir); err != nil {
		return ""
	}
	return dir
}

func gitRevision(dir string) (string, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	git := func(args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = dir
		return cmd.Output()
	}
	out, err := git("rev-parse", "HEAD")
	if err != nil {
		return "", false
	}
	status, err := git("status", "--porcelain", "--untracked-files=no")
	return strings.TrimSpace(string(out)), err == nil && len(strings.TrimSpace(string(status))) > 0
}

// cpuModel reads the processor's model name on Linux.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}
