package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/glr-project/glr/bench"
	"github.com/glr-project/glr/internal/memstat"
	"gorgonia.org/tensor"
)

func benchCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dtype := fs.String("dtype", "float32,float64", "comma-separated dtypes: float32, float64")
	batches := fs.String("batch", "64,256,1000", "comma-separated batch sizes")
	minTime := fs.Duration("time", time.Second, "least time per measurement")
	asJSON := fs.Bool("json", false, `print {"results":[{"name","network","dtype","batch","seconds","gflops","fraction_of_gemm","examples_per_second","allocs_per_step",...}], "peak_rss_bytes"}`)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: glr bench [-dtype float32|float64] [-batch LIST] [-time D] [-json]")
		fmt.Fprintln(stderr, "\nTimes, in this process, raw GEMMs of each step's own shapes, the GLR and BP steps of a")
		fmt.Fprintln(stderr, "784-500-10 network, the reference code's LRS configuration, a LeNet GLR and BP step and the")
		fmt.Fprintln(stderr, "GLR step of LeNet with its noise after the pooling (lenet-pooled), and prints GFLOP/s,")
		fmt.Fprintln(stderr, "each step as a fraction of raw GEMM throughput, examples per second,")
		fmt.Fprintln(stderr, "allocations per step and the peak resident set.")
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: bench takes no arguments, got %q", errUsage, strings.Join(pos, " "))
	}
	opts := bench.Options{MinTime: *minTime, Log: stderr}
	for _, d := range strings.Split(*dtype, ",") {
		switch strings.TrimSpace(d) {
		case "float32":
			opts.Dtypes = append(opts.Dtypes, tensor.Float32)
		case "float64":
			opts.Dtypes = append(opts.Dtypes, tensor.Float64)
		default:
			return fmt.Errorf("%w: -dtype: unknown dtype %q (want float32 | float64)", errUsage, d)
		}
	}
	if opts.Batches, err = parseList(*batches, strconv.Atoi); err != nil || len(opts.Batches) == 0 {
		return fmt.Errorf("%w: -batch: want a comma-separated list of sizes, got %q", errUsage, *batches)
	}
	for _, b := range opts.Batches {
		if b < 1 || b > 1<<16 {
			return fmt.Errorf("%w: -batch: %d is outside [1, 65536]", errUsage, b)
		}
	}
	if *minTime <= 0 {
		return fmt.Errorf("%w: -time must be positive, got %v", errUsage, *minTime)
	}
	results, err := bench.Run(opts)
	if err != nil {
		return err
	}
	peak := memstat.PeakRSS()
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Results []bench.Result `json:"results"`
			PeakRSS uint64         `json:"peak_rss_bytes"`
		}{results, peak})
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "network\tdtype\tbatch\tmeasure\tms/step\tGFLOP/s\tof GEMM\texamples/s\tallocs/step\t")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%.3g\t%.1f\t%.2f\t%.0f\t%.0f\t\n", r.Network, r.Dtype, r.Batch, r.Name, 1e3*r.Seconds, r.GFLOPS, r.OfGEMM, r.Examples, r.Allocs)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	b := "gonum (pure Go)"
	if len(results) > 0 {
		b = results[0].Backend
	}
	fmt.Fprintf(stdout, "BLAS %s, GOMAXPROCS %d, peak resident set %.0f MiB\n", b, results[0].GoMaxProc, float64(peak)/(1<<20))
	return nil
}
