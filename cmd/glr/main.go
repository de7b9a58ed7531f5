// Command glr trains, compares and attacks neural networks trained with the
// generalized likelihood ratio (GLR) estimator and with other gradient
// estimators, on one Gorgonia graph.
//
// Usage:
//
//	glr run CONFIG|NAME [-set key=value]... [-out DIR] [-seeds LIST]
//	glr run -resume DIR
//	glr compare CONFIG [-copies LIST] [-draws N] [-batch B] [-checkpoint RUN_DIR] [-json] [-out DIR]
//	glr gradcheck CONFIG [-draws N] [-batch B] [-json] [-set key=value]...
//	glr robust MODEL... [-sets LIST] [-eps LIST] [-n N] [-substitute DIR] [-out DIR] [-json]
//	glr robust -config FILE [flags]
//	glr eval RUN_DIR [-data test|train] [-json]
//	glr export RUN_DIR -out FILE.npz
//	glr summarize RUN_DIR...
//	glr bench [-dtype float32|float64] [-batch LIST] [-json]
//	glr version
//
// run trains every arm of an experiment and records metrics, checkpoints,
// curves and a summary; a NAME runs a shipped experiment. compare measures
// every arm's estimator against a reference gradient on one batch: bias,
// variance and cost. gradcheck compares an experiment's estimator with
// backpropagation through the noisy network. robust evaluates trained
// models under adversarial attacks and natural corruptions. eval measures a
// trained model's accuracy, loss and confusion matrix; export writes its
// weights as NumPy arrays. summarize tabulates runs (mean ± std over seeds).
// bench measures the training steps against raw GEMM on this machine.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/glr-project/glr/configs"
)

const usage = `glr trains and compares neural networks with the GLR gradient estimator and other estimators.

Usage:
  glr run CONFIG|NAME [-set key=value]... [-out DIR] [-seeds LIST]
  glr run -resume DIR
  glr compare CONFIG [-copies LIST] [-draws N] [-batch B] [-checkpoint RUN_DIR] [-json] [-out DIR]
  glr gradcheck CONFIG [-draws N] [-batch B] [-json] [-set key=value]...
  glr robust MODEL... [-sets LIST] [-eps LIST] [-n N] [-substitute DIR] [-out DIR] [-json]
  glr robust -config FILE [flags]
  glr eval RUN_DIR [-data test|train] [-json]
  glr export RUN_DIR -out FILE.npz
  glr summarize RUN_DIR...
  glr bench [-dtype float32|float64] [-batch LIST] [-json]
  glr version

CONFIG is an experiment file; NAME one of the shipped experiments:
  %s
Run "glr COMMAND -h" for a command's flags.
`

// errUsage marks errors that should exit with status 2.
var errUsage = errors.New("usage")

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func printUsage(w io.Writer) {
	fmt.Fprintf(w, usage, strings.Join(configs.ShippedNames(), ", "))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printUsage(stderr)
		return 2
	}
	var err error
	switch cmd := args[0]; cmd {
	case "run":
		err = runCmd(args[1:], stdout, stderr)
	case "compare":
		err = compareCmd(args[1:], stdout, stderr)
	case "gradcheck":
		err = gradcheckCmd(args[1:], stdout, stderr)
	case "robust":
		err = robustCmd(args[1:], stdout, stderr)
	case "eval":
		err = evalCmd(args[1:], stdout, stderr)
	case "export":
		err = exportCmd(args[1:], stdout, stderr)
	case "summarize":
		err = summarizeCmd(args[1:], stdout, stderr)
	case "version":
		err = versionCmd(args[1:], stdout, stderr)
	case "bench":
		err = benchCmd(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		printUsage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "glr: unknown command %q\n\n", cmd)
		printUsage(stderr)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "glr %s: %s\n", args[0], message(args[0], strings.TrimPrefix(err.Error(), "usage: ")))
		return 2
	default:
		fmt.Fprintf(stderr, "glr %s: %s\n", args[0], message(args[0], err.Error()))
		return 1
	}
}

// message returns an error message to print after "glr CMD: ", without the
// prefix of a package named like the command ("compare: ", "gradcheck: ",
// "summarize: "), which would repeat it.
func message(cmd, msg string) string {
	return strings.TrimPrefix(msg, cmd+": ")
}

// parseInterleaved parses flags that may come before, between or after the
// positional arguments, and returns the positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// setFlags collects repeated -set key=value flags.
type setFlags []string

func (s *setFlags) String() string { return strings.Join(*s, " ") }

func (s *setFlags) Set(v string) error {
	if !strings.Contains(v, "=") {
		return fmt.Errorf("want key=value, got %q", v)
	}
	*s = append(*s, v)
	return nil
}

// loadConfig loads the one CONFIG argument of a command, a file or the name
// of a shipped experiment, with its -set overrides.
func loadConfig(fs *flag.FlagSet, pos []string, sets setFlags) (*configs.Experiment, error) {
	if len(pos) != 1 {
		fs.Usage()
		return nil, fmt.Errorf("%w: want one CONFIG file or shipped NAME, got %d arguments", errUsage, len(pos))
	}
	arg := pos[0]
	if _, err := os.Stat(arg); err != nil && !strings.ContainsAny(arg, `/\`) && filepath.Ext(arg) == "" {
		return configs.LoadShipped(arg, sets...)
	}
	return configs.Load(arg, sets...)
}

// parseList parses a comma-separated list with parse.
func parseList[T any](s string, parse func(string) (T, error)) ([]T, error) {
	if s == "" {
		return nil, nil
	}
	var out []T
	for _, f := range strings.Split(s, ",") {
		v, err := parse(strings.TrimSpace(f))
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
