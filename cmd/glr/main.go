// Command glr runs the experiments of the glr framework.
//
// Usage:
//
//	glr run CONFIG [-set key=value]... [-out DIR]
//	glr run -resume DIR
//	glr gradcheck CONFIG [-draws N] [-batch B] [-json] [-set key=value]...
//	glr summarize RUN_DIR...
//	glr robust MODEL... [-substitute DIR] [-sets LIST] [-eps LIST] [-n N] [-out DIR] [-json]
//	glr robust -protocol seed MODEL...
//
// run trains every arm of an experiment and records metrics, checkpoints,
// curves and a summary. summarize tabulates runs (mean ± std over seeds).
// robust evaluates trained models under adversarial attacks and natural
// corruptions.
// gradcheck compares, layer by layer, the GLR gradient estimate with
// backpropagation through the noisy network on the config's network at its
// initial weights and a seeded batch of real training data.
package main

import (
	"errors"

	"flag"
	"fmt"
	"github.com/glr-project/glr/configs"
	"io"
	"os"
	"strings"
)

const usage = `glr trains and compares neural networks with the GLR gradient estimator and backpropagation.

Usage:
  glr run CONFIG [-set key=value]... [-out DIR]
  glr run -resume DIR
  glr gradcheck CONFIG [-draws N] [-batch B] [-json] [-set key=value]...
  glr summarize RUN_DIR...
  glr robust MODEL... [-substitute DIR] [-sets LIST] [-eps LIST] [-n N] [-out DIR] [-json]
  glr robust -protocol seed MODEL...

Run "glr COMMAND -h" for a command's flags.
`

// errUsage marks errors that should exit with status 2.
var errUsage = errors.New("usage")

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch cmd := args[0]; cmd {
	case "run":
		err = runCmd(args[1:], stdout, stderr)
	case "gradcheck":
		err = gradcheck(args[1:], stdout, stderr)
	case "robust":
		err = robustCmd(args[1:], stdout, stderr)
	case "summarize":
		err = summarizeCmd(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "glr: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "glr %s: %v\n", args[0], err)
		return 2
	default:
		fmt.Fprintf(stderr, "glr %s: %v\n", args[0], err)
		return 1
	}
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

// loadConfig loads the one CONFIG argument of a command, with its -set
// overrides.
func loadConfig(fs *flag.FlagSet, pos []string, sets setFlags) (*configs.Experiment, error) {
	if len(pos) != 1 {
		fs.Usage()
		return nil, fmt.Errorf("%w: want one CONFIG file, got %d arguments", errUsage, len(pos))
	}
	return configs.Load(pos[0], sets...)
}
