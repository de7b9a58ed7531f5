package runner

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/glr-project/glr/configs"
	"github.com/glr-project/glr/graph"
	"gorgonia.org/tensor"
)

// Model is a trained arm loaded from a run: its config and weights.
type Model struct {
	Name   string // "RUN/ARM", or the arm's name when the run has one arm
	Config configs.ArmConfig
	Params []ParamState
	Epoch  int // epochs the weights were trained for
}

// LoadModels loads the trained models at path: a run directory (every arm
// with a checkpoint), or one checkpoint file inside a run's checkpoints/.
func LoadModels(path string) ([]*Model, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("load model: %w", err)
	}
	runDir, only := path, ""
	if !info.IsDir() {
		runDir = filepath.Dir(filepath.Dir(path))
		c, err := readCheckpoint(path)
		if err != nil {
			return nil, fmt.Errorf("load model: %w", err)
		}
		if c == nil {
			return nil, fmt.Errorf("load model: %s: no such checkpoint", path)
		}
		only = c.Arm
	}
	exp, err := configs.Load(filepath.Join(runDir, "resolved.toml"))
	if err != nil {
		return nil, fmt.Errorf("load model: %s is not a run directory: %w", runDir, err)
	}
	arms := exp.Resolved()
	var models []*Model
	for i := range arms {
		if only != "" && arms[i].Name != only {
			continue
		}
		ckpt := checkpointPath(runDir, arms[i].Name)
		c, err := readCheckpoint(ckpt)
		if err != nil {
			return nil, fmt.Errorf("load model: %w", err)
		}
		if c == nil {
			if only != "" {
				return nil, fmt.Errorf("load model: %s has no checkpoint for arm %s", runDir, arms[i].Name)
			}
			continue // an arm that has not finished an epoch
		}
		if c.ConfigHash != exp.Hash() {
			return nil, fmt.Errorf("load model: %s belongs to another config than %s", ckpt, filepath.Join(runDir, "resolved.toml"))
		}
		name := arms[i].Name
		if len(arms) > 1 || name != filepath.Base(runDir) {
			name = filepath.Base(runDir) + "/" + arms[i].Name
		}
		models = append(models, &Model{Name: name, Config: arms[i], Params: c.Params, Epoch: c.Epoch})
	}
	if len(models) == 0 {
		return nil, fmt.Errorf("load model: %s holds no trained arm (no checkpoints)", runDir)
	}
	return models, nil
}

// Classifier builds a noise-free classifier of the model for inputs of the
// given size, computing the cross-entropy whatever loss the model was
// trained with (attacks maximise it). A model whose input layer does not fit
// features is an error that says so.
func (m *Model) Classifier(features, classes int) (*Classifier, error) {
	exp := m.Config.Experiment
	exp.Loss.Kind = "cross-entropy"
	spec, err := NetworkSpec(&exp, features, classes, 1, 1)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", m.Name, err)
	}
	// Build once with fresh weights to learn the parameter shapes, then
	// check the checkpoint against them.
	probe, err := graph.Build(spec)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", m.Name, err)
	}
	if len(m.Params) != len(probe.Params) {
		return nil, fmt.Errorf("model %s has %d parameters, its config builds %d", m.Name, len(m.Params), len(probe.Params))
	}
	params := map[string]*tensor.Dense{}
	for i, p := range probe.Params {
		s := m.Params[i]
		want := p.Shape()
		if s.Name != p.Name() || !tensor.Shape(s.Shape).Eq(want) {
			if i == 0 {
				return nil, fmt.Errorf("model %s takes inputs of shape %v (%s), but the data has %d features and %d classes",
					m.Name, s.Shape, s.Name, features, classes)
			}
			return nil, fmt.Errorf("model %s: parameter %s%v does not fit %s%v for %d features and %d classes",
				m.Name, s.Name, s.Shape, p.Name(), want, features, classes)
		}
		t := tensor.New(tensor.WithShape(want.Clone()...), tensor.Of(p.Dtype()))
		switch d := t.Data().(type) {
		case []float64:
			copy(d, s.Values)
		case []float32:
			for j, v := range s.Values {
				d[j] = float32(v)
			}
		}
		params[p.Name()] = t
	}
	if c := spec.Classes; c != classes {
		return nil, fmt.Errorf("model %s has %d classes, the data %d", m.Name, c, classes)
	}
	spec.Params = params
	return NewClassifier(spec, false, exp.Seed)
}

// ModelNames lists names for display, sorted.
func ModelNames(ms []*Model) string {
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.Name
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
