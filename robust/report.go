package robust

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/glr-project/glr/checkpoint"
	"github.com/glr-project/glr/configs"
	"github.com/glr-project/glr/internal/atomicfile"
	"github.com/glr-project/glr/internal/buildinfo"
	"github.com/glr-project/glr/models"
)

// ReportFormat names the layout of robust.json; it changes when a field
// changes meaning.
const ReportFormat = "glr-robust/1"

// Report is the record of an evaluation, robust.json: everything needed
// to read its numbers and to run it again.
type Report struct {
	Format string `json:"format"` // ReportFormat
	// Settings are the resolved settings: every default filled in, the
	// protocol's substitute named. glr robust -config on their TOML
	// encoding (robust.toml, next to robust.json) runs the evaluation
	// again.
	Settings configs.Robustness `json:"settings"`
	// Models and Substitute identify the weights evaluated: a model that
	// differs in any weight has another checkpoint hash.
	Models     []ModelInfo `json:"models"`
	Substitute *ModelInfo  `json:"substitute,omitempty"`
	Dataset    string      `json:"dataset"` // the test set, from the first model's config
	Result
	Seconds float64        `json:"seconds"` // wall time of the evaluation
	Program buildinfo.Info `json:"program"` // what ran it
}

// ModelInfo identifies one evaluated model.
type ModelInfo struct {
	Name       string `json:"name"`
	Run        string `json:"run"`        // its run directory
	Checkpoint string `json:"checkpoint"` // its checkpoint file
	Epoch      int    `json:"epoch"`      // epochs trained
	// ConfigHash is the hash of the run's resolved config (configs
	// Experiment.Hash), which the checkpoint records.
	ConfigHash string `json:"config_hash"`
	// CheckpointSHA256 is the hex SHA-256 of the checkpoint file.
	CheckpointSHA256 string `json:"checkpoint_sha256"`
	Activation       string `json:"activation"`
	Noisy            bool   `json:"noisy"` // predicts with noise (noise.at_eval)
}

// Describe returns the ModelInfo of a trained model, hashing its
// checkpoint file. It fails if the file no longer holds the weights that
// were loaded (a run that continued has rewritten it since), so that the
// hash is that of the weights evaluated.
func Describe(t *models.Trained) (ModelInfo, error) {
	path := checkpoint.Path(t.Run, t.Index, t.Config.Name)
	data, err := os.ReadFile(path)
	if err != nil {
		return ModelInfo{}, fmt.Errorf("robust: model %s: %w", t.Name, err)
	}
	s, err := checkpoint.Read(path)
	if err != nil {
		return ModelInfo{}, fmt.Errorf("robust: model %s: %w", t.Name, err)
	}
	if s.Epoch != t.State.Epoch || s.ConfigHash != t.State.ConfigHash || !reflect.DeepEqual(s.Params, t.State.Params) {
		return ModelInfo{}, fmt.Errorf("robust: model %s: %s changed after it was loaded (epoch %d, now %d)", t.Name, path, t.State.Epoch, s.Epoch)
	}
	sum := sha256.Sum256(data)
	return ModelInfo{
		Name: t.Name, Run: t.Run, Checkpoint: path, Epoch: t.State.Epoch,
		ConfigHash: t.State.ConfigHash, CheckpointSHA256: hex.EncodeToString(sum[:]),
		Activation: t.Config.Model.Activation, Noisy: t.Config.Noise.AtEval,
	}, nil
}

// ReadReport reads a robust.json written by WriteFiles.
func ReadReport(path string) (*Report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("robust: %w", err)
	}
	var r Report
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("robust: %s: %w", path, err)
	}
	if r.Format != ReportFormat {
		return nil, fmt.Errorf("robust: %s: format %q, want %q", path, r.Format, ReportFormat)
	}
	return &r, nil
}

// Files written into an evaluation's directory.
const (
	ReportFile      = "robust.json"
	SettingsFile    = "robust.toml"
	TableFile       = "robust.md"
	CSVFile         = "robust.csv"
	EpsFigure       = "accuracy-vs-eps.png"
	SeverityFigure  = "accuracy-vs-severity.png"
	substituteDir   = "substitute"
	reportTempLabel = ".robust.json.tmp"
)

// ErrReportExists is wrapped by the error for a directory that already
// holds a robust.json, which is never overwritten.
var ErrReportExists = errors.New("already holds a robustness report")

// WriteFiles writes the report into dir, which must exist: robust.json
// first, and never over an existing one (the error then wraps
// ErrReportExists and nothing is written); then robust.toml (the
// settings), robust.md (the table), robust.csv (the rows) and the figures,
// accuracy-vs-eps.png and, if there are corruptions,
// accuracy-vs-severity.png, each replaced atomically.
func (r *Report) WriteFiles(dir string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("robust: %w", err)
	}
	if err := writeNew(filepath.Join(dir, ReportFile), append(data, '\n')); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, SettingsFile), 0o644, r.Settings.Encode); err != nil {
		return fmt.Errorf("robust: %w", err)
	}
	err = atomicfile.Write(filepath.Join(dir, TableFile), 0o644, func(w io.Writer) error { return WriteTable(w, r.Rows, true) })
	if err != nil {
		return fmt.Errorf("robust: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(dir, CSVFile), 0o644, func(w io.Writer) error { return writeCSV(w, r.Rows) }); err != nil {
		return fmt.Errorf("robust: %w", err)
	}
	return writeFigures(dir, r.Rows)
}

// writeNew writes data to path durably without ever replacing a file: it
// goes to a temporary file that is then linked to path, which fails if
// path exists.
func writeNew(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, reportTempLabel)
	if err != nil {
		return fmt.Errorf("robust: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err != nil {
		return fmt.Errorf("robust: write %s: %w", path, err)
	}
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("robust: %s %w: it is never overwritten", dir, ErrReportExists)
		}
		return fmt.Errorf("robust: write %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

func writeCSV(w io.Writer, rows []Row) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"model", "set", "param", "accuracy", "draws"})
	for _, r := range rows {
		cw.Write([]string{r.Model, r.Set, strconv.FormatFloat(r.Param, 'g', -1, 64), strconv.FormatFloat(r.Accuracy, 'f', 4, 64), strconv.Itoa(r.Draws)})
	}
	cw.Flush()
	return cw.Error()
}

// WriteTable prints rows as a table: a line per model and set, with its
// accuracies by parameter (ε or severity) and their mean (for corruptions,
// the mean over severities is the reference code's metric).
func WriteTable(w io.Writer, rows []Row, markdown bool) error {
	type key struct{ model, set string }
	var keys []key
	byKey := map[key][]Row{}
	for _, r := range rows {
		k := key{r.Model, r.Set}
		if _, ok := byKey[k]; !ok {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], r)
	}
	line := func(cells ...string) string {
		if markdown {
			return "| " + strings.Join(cells, " | ") + " |\n"
		}
		return strings.Join(cells, "\t") + "\n"
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, line("model", "set", "accuracy % by parameter (ε or severity)", "mean %"))
	if markdown {
		fmt.Fprint(tw, "|---|---|---|---:|\n")
	}
	for _, k := range keys {
		var cells []string
		var sum float64
		for _, r := range byKey[k] {
			cells = append(cells, fmt.Sprintf("%s: %.2f", strconv.FormatFloat(r.Param, 'g', -1, 64), 100*r.Accuracy))
			sum += r.Accuracy
		}
		fmt.Fprint(tw, line(k.model, k.set, strings.Join(cells, ", "), fmt.Sprintf("%.2f", 100*sum/float64(len(byKey[k])))))
	}
	return tw.Flush()
}

// WriteJSON writes the rows as a JSON array.
func WriteJSON(w io.Writer, rows []Row) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rows)
}
