package models

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/glr-project/glr/assemble"
	"github.com/glr-project/glr/checkpoint"
	"github.com/glr-project/glr/configs"
	"github.com/glr-project/glr/graph"
	"gorgonia.org/tensor"
)

// Trained is one trained arm of a run: its configuration and the checkpoint
// of its weights.
type Trained struct {
	// Name is "RUN/ARM", or the arm's name when the run has one arm named
	// like its directory.
	Name   string
	Run    string // the run directory
	Index  int    // the arm's position among the run's arms
	Config configs.ArmConfig
	State  *checkpoint.State
}

// Load loads the trained models at path: a run directory (every arm with a
// checkpoint), or one checkpoint file inside a run's checkpoints/. Every
// checkpoint is verified (its checksum, its values, its config's hash).
func Load(path string) ([]*Trained, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("load model: %w", err)
	}
	runDir, only := path, ""
	if !info.IsDir() {
		runDir = filepath.Dir(filepath.Dir(path))
		if _, err := checkpoint.Read(path); err != nil {
			return nil, fmt.Errorf("load model: %w", err)
		}
		only = path
	}
	resolved := filepath.Join(runDir, "resolved.toml")
	exp, err := configs.Load(resolved)
	if err != nil {
		return nil, fmt.Errorf("load model: %s is not a run directory: %w", runDir, err)
	}
	arms := exp.Resolved()
	hash := exp.Hash()
	var models []*Trained
	for i := range arms {
		ckpt := checkpoint.Path(runDir, i, arms[i].Name)
		if only != "" && !samePath(only, ckpt) {
			continue
		}
		s, err := checkpoint.Read(ckpt)
		if errors.Is(err, fs.ErrNotExist) {
			continue // an arm that has not finished an epoch
		}
		if err != nil {
			return nil, fmt.Errorf("load model: %w", err)
		}
		if s.Arm != arms[i].Name {
			return nil, fmt.Errorf("load model: %s holds arm %q, the run's arm %d is %q", ckpt, s.Arm, i, arms[i].Name)
		}
		if s.ConfigHash != hash {
			return nil, fmt.Errorf("load model: %s belongs to another config than %s", ckpt, resolved)
		}
		if s.Epoch > arms[i].Train.Epochs {
			return nil, fmt.Errorf("load model: %s is after epoch %d, but the run has %d epochs", ckpt, s.Epoch, arms[i].Train.Epochs)
		}
		name := arms[i].Name
		if len(arms) > 1 || name != filepath.Base(runDir) {
			name = filepath.Base(runDir) + "/" + arms[i].Name
		}
		models = append(models, &Trained{Name: name, Run: runDir, Index: i, Config: arms[i], State: s})
	}
	switch {
	case only != "" && len(models) == 0:
		return nil, fmt.Errorf("load model: %s is not the checkpoint of an arm of the run in %s", path, runDir)
	case len(models) == 0:
		return nil, fmt.Errorf("load model: %s holds no trained arm (no checkpoints)", runDir)
	}
	return models, nil
}

func samePath(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && filepath.Clean(aa) == filepath.Clean(bb)
}

// Spec returns the spec of the model's network for examples of the given
// geometry and classes, with Params holding the checkpoint's weights. With
// loss set, the network computes that loss instead of the training loss
// (attacks maximise the cross-entropy whatever the model was trained with).
// A model whose layers do not fit the data is an error that says so.
func (t *Trained) Spec(image graph.Image, classes int, loss string) (graph.Spec, error) {
	exp := t.Config.Experiment
	if loss != "" {
		exp.Loss.Kind = loss
	}
	spec, err := assemble.Spec(&exp, image, classes)
	if err != nil {
		return graph.Spec{}, fmt.Errorf("model %s: %w", t.Name, err)
	}
	spec.Batch = 1
	probe, err := graph.Build(spec)
	if err != nil {
		return graph.Spec{}, fmt.Errorf("model %s does not fit %v images of %d classes: %w", t.Name, image, classes, err)
	}
	names := make([]string, len(probe.Params))
	shapes := make([][]int, len(probe.Params))
	for i, p := range probe.Params {
		names[i], shapes[i] = p.Name(), p.Shape()
	}
	if err := t.State.Check(names, shapes); err != nil {
		return graph.Spec{}, fmt.Errorf("model %s does not fit %v images of %d classes: %w", t.Name, image, classes, err)
	}
	spec.Params = Tensors(t.State.Params, spec.Dtype)
	return spec, nil
}

// Classifier returns a classifier of the model for examples of the given
// geometry and classes, computing loss ("" for the training loss), with
// noise at prediction time if noise is set.
func (t *Trained) Classifier(image graph.Image, classes int, loss string, noise bool) (*Classifier, error) {
	spec, err := t.Spec(image, classes, loss)
	if err != nil {
		return nil, err
	}
	return NewClassifier(spec, noise)
}

// Tensors turns checkpoint parameters into value tensors of the given dtype,
// by name, for graph.Spec.Params.
func Tensors(ps []checkpoint.Param, dt tensor.Dtype) map[string]*tensor.Dense {
	m := make(map[string]*tensor.Dense, len(ps))
	for _, p := range ps {
		t := tensor.New(tensor.WithShape(p.Shape...), tensor.Of(dt))
		if dt == tensor.Float32 {
			for j, v := range p.Values {
				t.Float32s()[j] = float32(v)
			}
		} else {
			copy(t.Float64s(), p.Values)
		}
		m[p.Name] = t
	}
	return m
}

// Params turns a network's parameters (in build order) into checkpoint
// parameters, converting float32 values exactly.
func Params(net *graph.Network) []checkpoint.Param {
	ps := make([]checkpoint.Param, len(net.Params))
	for i, p := range net.Params {
		v := p.Value().(*tensor.Dense)
		cp := checkpoint.Param{Name: p.Name(), Shape: append([]int(nil), v.Shape()...)}
		if v.Dtype() == tensor.Float32 {
			cp.Values = make([]float64, len(v.Float32s()))
			for j, x := range v.Float32s() {
				cp.Values[j] = float64(x)
			}
		} else {
			cp.Values = append([]float64(nil), v.Float64s()...)
		}
		ps[i] = cp
	}
	return ps
}

// Names lists models' names for display, sorted.
func Names(ms []*Trained) string {
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.Name
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
