package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/glr-project/glr/checkpoint"
	"github.com/glr-project/glr/configs"
	"github.com/glr-project/glr/models"
)

func exportCmd(args []string, stdout, stderr io.Writer) error {
	fls := flag.NewFlagSet("export", flag.ContinueOnError)
	fls.SetOutput(stderr)
	out := fls.String("out", "", "the .npz file to write; model.json is written beside it")
	arm := fls.String("arm", "", "the arm to export, when the run has several")
	fls.Usage = func() {
		fmt.Fprintln(stderr, "Usage: glr export RUN_DIR|CHECKPOINT -out FILE.npz [-arm NAME]")
		fmt.Fprintln(stderr, "\nWrites the trained weights as a NumPy .npz (one array per parameter, named as in the")
		fmt.Fprintln(stderr, "checkpoint: layer1/W, ...) and model.json (layers, activation, bias mode, input shape,")
		fmt.Fprintln(stderr, "classes, dtype) beside it. Neither file is overwritten.")
		fmt.Fprintln(stderr)
		fls.PrintDefaults()
	}
	pos, err := parseInterleaved(fls, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *out == "" {
		fls.Usage()
		return fmt.Errorf("%w: want one RUN_DIR or CHECKPOINT and -out FILE.npz", errUsage)
	}
	if filepath.Ext(*out) != ".npz" {
		return fmt.Errorf("%w: -out %s: want a file name ending in .npz", errUsage, *out)
	}
	arch := filepath.Join(filepath.Dir(*out), "model.json")
	for _, p := range []string{*out, arch} {
		if _, err := os.Stat(p); err == nil {
			return fmt.Errorf("%s exists; export never overwrites a file", p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	trained, err := models.Load(pos[0])
	if err != nil {
		return err
	}
	var m *models.Trained
	switch {
	case *arm != "":
		for _, t := range trained {
			if t.Config.Name == *arm {
				m = t
			}
		}
		if m == nil {
			return fmt.Errorf("%s has no trained arm %q (it has %s)", pos[0], *arm, models.Names(trained))
		}
	case len(trained) == 1:
		m = trained[0]
	default:
		return fmt.Errorf("%w: %s holds %d trained arms (%s); choose one with -arm", errUsage, pos[0], len(trained), models.Names(trained))
	}
	a, err := architecture(&m.Config.Experiment, m.State)
	if err != nil {
		return fmt.Errorf("model %s: %w", m.Name, err)
	}
	if err := checkpoint.WriteNPZ(*out, m.State.Params, a.Dtype); err != nil {
		return err
	}
	if err := checkpoint.WriteArchitecture(arch, a); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s and %s (%s, after epoch %d)\n", *out, arch, m.Name, m.State.Epoch)
	return nil
}

// architecture describes a trained dense network for model.json.
func architecture(exp *configs.Experiment, s *checkpoint.State) (*checkpoint.Architecture, error) {
	m := exp.Model
	if len(m.Conv) > 0 {
		return nil, fmt.Errorf("export writes dense networks; this one has %d convolution layers", len(m.Conv))
	}
	c, h, w := m.Image(exp.Data)
	dtype := checkpoint.Dtype(m.Dtype)
	a := &checkpoint.Architecture{Input: checkpoint.Input{Channels: c, Height: h, Width: w}, Bias: m.Bias, Dtype: dtype}
	for _, u := range m.Hidden {
		a.Layers = append(a.Layers, checkpoint.Layer{Kind: "dense", Units: u, Activation: m.Activation})
	}
	// The classes are the output layer's width in the checkpoint.
	last := s.Params[len(s.Params)-1]
	if m.Bias == "all" {
		a.Classes = last.Shape[0]
	} else {
		a.Classes = last.Shape[len(last.Shape)-1]
	}
	a.Layers = append(a.Layers, checkpoint.Layer{Kind: "dense", Units: a.Classes, Activation: "identity"})
	names, shapes, err := a.Params()
	if err != nil {
		return nil, err
	}
	if err := s.Check(names, shapes); err != nil {
		return nil, fmt.Errorf("the checkpoint does not match its config: %w", err)
	}
	return a, nil
}
