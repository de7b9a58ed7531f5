package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestBench runs glr bench briefly and reads its JSON: every network and
// measure, each step a positive fraction of raw GEMM, no allocations.
func TestBench(t *testing.T) {
	if testing.Short() {
		t.Skip("times steps")
	}
	code, stdout, stderr := glr(t, "bench", "-batch", "8", "-dtype", "float64", "-time", "1ms", "-json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r struct {
		Results []struct {
			Name, Network, Dtype string
			Batch                int
			GFLOPS               float64 `json:"gflops"`
			OfGEMM               float64 `json:"fraction_of_gemm"`
			Allocs               float64 `json:"allocs_per_step"`
		} `json:"results"`
		PeakRSS uint64 `json:"peak_rss_bytes"`
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	seen := map[string]bool{}
	for _, x := range r.Results {
		seen[x.Network+" "+x.Name] = true
		if x.Batch != 8 || x.Dtype != "float64" || !(x.GFLOPS > 0) || !(x.OfGEMM > 0) {
			t.Errorf("result %+v", x)
		}
	}
	for _, want := range []string{"784-500-10 raw-gemm", "784-500-10 glr-step", "784-500-10 bp-step", "lrs-785-50-10 glr-step", "lenet glr-step", "lenet bp-step", "lenet-pooled glr-step"} {
		if !seen[want] {
			t.Errorf("no %s in %s", want, stdout)
		}
	}
	if r.PeakRSS == 0 {
		t.Error("no peak resident set")
	}
	for _, bad := range [][]string{{"bench", "-dtype", "float16"}, {"bench", "-batch", "0"}, {"bench", "-time", "0s"}, {"bench", "extra"}} {
		if code, _, stderr := glr(t, bad...); code != 2 || !strings.Contains(stderr, "glr bench: ") {
			t.Errorf("%v: exit %d, %s", bad, code, stderr)
		}
	}
}
