package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/glr-project/glr/internal/buildinfo"
)

func versionCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the provenance as JSON")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: version takes no arguments, got %q", errUsage, pos)
	}
	info := buildinfo.Collect(nil, time.Now())
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(info)
	}
	rev := info.Revision
	if rev == "" {
		rev = "unknown"
	}
	if info.Modified {
		rev += " (modified)"
	}
	fmt.Fprintf(stdout, "glr %s %s\nrevision %s\n%s %s/%s, %s, %d cores\n", info.Module, info.Version, rev, info.GoVersion, info.OS, info.Arch, info.CPU, info.Cores)
	return nil
}
