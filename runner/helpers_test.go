package runner

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/glr-project/glr/configs"
)

// tiny is an MNIST experiment that trains in a fraction of a second: 300
// training and 100 test images of the embedded copy, a 785-8-10 sigmoid
// network, GLR with 2 copies, 2 epochs.
const tiny = `
name = "tiny"
seed = 2
[model]
hidden = [8]
activation = "sigmoid"
[estimator]
kind = "glr"
copies = 2
[data]
train_limit = 300
test_limit = 100
batch_size = 50
[optimizer]
learning_rate = 0.1
[train]
epochs = 2
`

func experiment(t *testing.T, toml string, sets ...string) *configs.Experiment {
	t.Helper()
	exp, err := configs.Parse("test.toml", []byte(toml), sets...)
	if err != nil {
		t.Fatal(err)
	}
	return exp
}

func readMetrics(t *testing.T, dir string) []EpochMetrics {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ms []EpochMetrics
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m EpochMetrics
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("metrics.jsonl: %v", err)
		}
		ms = append(ms, m)
	}
	return ms
}

// sameNumbers reports whether two records hold the same results (times
// aside).
func sameNumbers(a, b EpochMetrics) bool {
	return a.Arm == b.Arm && a.Epoch == b.Epoch && a.TrainLoss == b.TrainLoss && a.EstimatorLoss == b.EstimatorLoss &&
		a.TestLoss == b.TestLoss && a.TestAccuracy == b.TestAccuracy && a.LearningRate == b.LearningRate && a.Rows == b.Rows
}

// writeIDX writes an MNIST-style pair of IDX files, base-images-idx3-ubyte
// and base-labels-idx1-ubyte, of n images of h×w pixels (pixel values and
// labels cycling through a pattern) into dir.
func writeIDX(t *testing.T, dir, base string, n, h, w int) {
	t.Helper()
	images := binary.BigEndian.AppendUint32(nil, 0x803)
	for _, d := range []int{n, h, w} {
		images = binary.BigEndian.AppendUint32(images, uint32(d))
	}
	labels := binary.BigEndian.AppendUint32(nil, 0x801)
	labels = binary.BigEndian.AppendUint32(labels, uint32(n))
	for i := 0; i < n; i++ {
		images = append(images, bytes.Repeat([]byte{byte(25 * (i % 10))}, h*w)...)
		labels = append(labels, byte(i%10))
	}
	for name, data := range map[string][]byte{base + "-images-idx3-ubyte": images, base + "-labels-idx1-ubyte": labels} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// fileExists reports whether path exists.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
