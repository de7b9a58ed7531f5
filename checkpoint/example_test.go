package checkpoint_test

import (
	"archive/zip"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"

	"github.com/glr-project/glr/checkpoint"
)

func Example() {
	dir, err := os.MkdirTemp("", "checkpoint-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "glr.ckpt")

	if _, err := checkpoint.Read(path); errors.Is(err, fs.ErrNotExist) {
		fmt.Println("no checkpoint yet")
	}
	s := &checkpoint.State{
		Arm:        "glr",
		ConfigHash: "3f2a9c",
		Epoch:      3,
		Dtype:      checkpoint.Float64,
		Params: []checkpoint.Param{
			{Name: "layer1/W", Shape: []int{3, 2}, Values: []float64{0.5, -1, 0.25, 2, 0, 1}},
		},
		Records: []byte(`{"epoch":3,"test_accuracy":0.91}` + "\n"),
		Seconds: 42.5,
	}
	if err := checkpoint.Write(path, s); err != nil {
		log.Fatal(err)
	}
	got, err := checkpoint.Read(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("arm %s after epoch %d: %s %v = %v\n", got.Arm, got.Epoch, got.Params[0].Name, got.Params[0].Shape, got.Params[0].Values)

	// The network it is loaded into has another input width.
	err = got.Check([]string{"layer1/W"}, [][]int{{785, 2}})
	fmt.Println(errors.Is(err, checkpoint.ErrMismatch), err)

	// One flipped bit is found.
	data, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	data[100] ^= 0x10
	if err := os.WriteFile(path, data, 0o644); err != nil {
		log.Fatal(err)
	}
	_, err = checkpoint.Read(path)
	fmt.Println(errors.Is(err, checkpoint.ErrCorrupt))
	// Output:
	// no checkpoint yet
	// arm glr after epoch 3: layer1/W [3 2] = [0.5 -1 0.25 2 0 1]
	// true checkpoint: arm "glr": parameters do not fit the network: parameter 0 is "layer1/W" [3 2] in the checkpoint, "layer1/W" [785 2] in the network
	// true
}

func ExampleWriteNPZ() {
	dir, err := os.MkdirTemp("", "checkpoint-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	params := []checkpoint.Param{
		{Name: "layer1/W", Shape: []int{785, 2}, Values: make([]float64, 785*2)},
		{Name: "layer2/W", Shape: []int{2, 10}, Values: make([]float64, 2*10)},
	}
	// In NumPy: np.load(path)["layer1/W"].shape == (785, 2).
	path := filepath.Join(dir, "model.npz")
	if err := checkpoint.WriteNPZ(path, params, checkpoint.Float32); err != nil {
		log.Fatal(err)
	}
	// The archive holds one .npy member per parameter, as numpy.savez writes.
	zr, err := zip.OpenReader(path)
	if err != nil {
		log.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		fmt.Println(f.Name, f.UncompressedSize64)
	}
	// Output:
	// layer1/W.npy 6408
	// layer2/W.npy 208
}
