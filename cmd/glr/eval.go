package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/glr-project/glr/assemble"
	"github.com/glr-project/glr/models"
)

// evalResult is one model's evaluation, as glr eval -json prints it.
type evalResult struct {
	Model     string  `json:"model"`
	Data      string  `json:"data"`
	LossKind  string  `json:"loss_kind"`
	Loss      float64 `json:"loss"`
	Accuracy  float64 `json:"accuracy"`
	Confusion [][]int `json:"confusion"` // [true class][predicted class]
}

func evalCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	which := fs.String("data", "test", "the data set to evaluate on: test or train")
	path := fs.String("path", "", "read the data set from this directory instead of the run's data.path")
	asJSON := fs.Bool("json", false, `print [{"model","data","loss_kind","loss","accuracy","confusion"}, ...]`)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: glr eval RUN_DIR|CHECKPOINT [-data test|train] [-path DIR] [-json]")
		fmt.Fprintln(stderr, "\nEvaluates each trained arm (noise-free, or noisy with noise.at_eval) on its data set:")
		fmt.Fprintln(stderr, "the mean training loss, the accuracy and the confusion matrix.")
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return fmt.Errorf("%w: want one RUN_DIR or CHECKPOINT, got %d arguments", errUsage, len(pos))
	}
	if *which != "test" && *which != "train" {
		return fmt.Errorf("%w: -data: want test or train, got %q", errUsage, *which)
	}
	trained, err := models.Load(pos[0])
	if err != nil {
		return err
	}
	var results []evalResult
	for _, m := range trained {
		exp := m.Config.Experiment
		if *path != "" {
			exp.Data.Path = *path
		}
		train, test, err := assemble.Data(&exp)
		if err != nil {
			return fmt.Errorf("model %s: %w", m.Name, err)
		}
		set := test
		if *which == "train" {
			set = train
		}
		c, err := m.Classifier(assemble.Image(set), set.Classes, "", exp.Noise.AtEval)
		if err != nil {
			return err
		}
		r, err := c.Evaluate(set)
		c.Close()
		if err != nil {
			return fmt.Errorf("model %s: %w", m.Name, err)
		}
		results = append(results, evalResult{Model: m.Name, Data: set.Name, LossKind: exp.Loss.Kind, Loss: r.Loss, Accuracy: r.Accuracy, Confusion: r.Confusion})
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(results)
	}
	for _, r := range results {
		fmt.Fprintf(stdout, "%s on %s: accuracy %.2f%%, %s loss %.4f\n", r.Model, r.Data, 100*r.Accuracy, r.LossKind, r.Loss)
		tw := tabwriter.NewWriter(stdout, 0, 0, 1, ' ', tabwriter.AlignRight)
		head := []string{"true\\pred"}
		for j := range r.Confusion {
			head = append(head, fmt.Sprint(j))
		}
		fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
		for i, row := range r.Confusion {
			cells := []string{fmt.Sprint(i)}
			for _, v := range row {
				cells = append(cells, fmt.Sprint(v))
			}
			fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
		}
		tw.Flush()
	}
	return nil
}
