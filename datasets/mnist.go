package datasets

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sync"
)

// mnistFiles is the embedded copy of MNIST; see mnistdata/README.md.
//
//go:embed mnistdata/*.gz
var mnistFiles embed.FS

// mnistEmbedDir is the directory of mnistFiles holding the IDX files.
const mnistEmbedDir = "mnistdata"

// IDX file base names shared by MNIST and Fashion-MNIST. Each may also be
// present with a ".gz" suffix.
const (
	trainImagesFile = "train-images-idx3-ubyte"
	trainLabelsFile = "train-labels-idx1-ubyte"
	testImagesFile  = "t10k-images-idx3-ubyte"
	testLabelsFile  = "t10k-labels-idx1-ubyte"
)

// LoadMNIST loads the MNIST training (60000 examples) and test (10000
// examples) sets, 28x28 pixels and 10 classes. The sets are named
// "mnist/train" and "mnist/test".
//
// If dir is "", LoadMNIST reads the IDX files from the directory named by
// the environment variable MNIST_DIR if that is set and not empty, and from
// the copy of MNIST embedded in this package otherwise. If dir is not "", it
// reads them from dir, where each file may be plain or gzip-compressed.
func LoadMNIST(dir string) (train, test *Set, err error) {
	if dir == "" {
		dir = os.Getenv("MNIST_DIR")
	}
	if dir == "" {
		return loadPair("mnist", embeddedMNIST)
	}
	return loadPair("mnist", inDir(dir))
}

// embeddedMNIST returns the idxSource of the embedded MNIST file base.gz.
func embeddedMNIST(base string) (idxSource, error) {
	name := path.Join(mnistEmbedDir, base+".gz")
	return idxSource{fsys: mnistFiles, path: name, desc: "embedded datasets/" + name}, nil
}

// LoadFashionMNIST loads the Fashion-MNIST training and test sets, 28x28
// pixels and 10 classes, from the IDX files in dir, which uses the same file
// names and format as MNIST. Fashion-MNIST is not embedded in this package,
// so dir is required; it is an error for it to be "". The sets are named
// "fashion-mnist/train" and "fashion-mnist/test".
func LoadFashionMNIST(dir string) (train, test *Set, err error) {
	if dir == "" {
		return nil, nil, errors.New("datasets: LoadFashionMNIST: the path to a directory holding the Fashion-MNIST IDX files is required " +
			"(train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, optionally .gz; " +
			"see https://github.com/zalandoresearch/fashion-mnist)")
	}
	return loadPair("fashion-mnist", inDir(dir))
}

// loadPair loads the train and test IDX sets with 10 classes, concurrently,
// from the files that find returns for the four IDX base names.
func loadPair(prefix string, find func(base string) (idxSource, error)) (train, test *Set, err error) {
	var srcs [4]idxSource
	for i, base := range []string{trainImagesFile, trainLabelsFile, testImagesFile, testLabelsFile} {
		if srcs[i], err = find(base); err != nil {
			return nil, nil, err
		}
	}
	var (
		wg      sync.WaitGroup
		testErr error
	)
	wg.Go(func() { test, testErr = loadIDX(prefix+"/test", srcs[2], srcs[3], 10) })
	train, err = loadIDX(prefix+"/train", srcs[0], srcs[1], 10)
	wg.Wait()
	if err != nil {
		return nil, nil, err
	}
	if testErr != nil {
		return nil, nil, testErr
	}
	return train, test, nil
}

// inDir returns a function that finds the IDX files in dir with findIDX.
func inDir(dir string) func(base string) (idxSource, error) {
	return func(base string) (idxSource, error) { return findIDX(dir, base) }
}

// findIDX returns the file base or base+".gz" in dir, preferring the plain
// file when both exist.
func findIDX(dir, base string) (idxSource, error) {
	for _, name := range []string{base, base + ".gz"} {
		p := filepath.Join(dir, name)
		fi, err := os.Stat(p)
		switch {
		case err == nil && fi.Mode().IsRegular():
			return fileSource(p), nil
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			return idxSource{}, fmt.Errorf("datasets: %w", err)
		}
	}
	return idxSource{}, fmt.Errorf("datasets: %s: neither %s nor %s.gz found: %w", dir, base, base, fs.ErrNotExist)
}
