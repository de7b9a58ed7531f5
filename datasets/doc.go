// Package datasets loads labelled image datasets into memory: MNIST,
// Fashion-MNIST and other data in the IDX format, and a class subset of
// Tiny-ImageNet.
//
// # Sources
//
// A copy of MNIST is embedded in the package (the original gzip-compressed
// IDX files of Y. LeCun, C. Cortes and C. J. C. Burges; see
// mnistdata/README.md), so [LoadMNIST]("") works offline and without a Go
// toolchain. If the environment variable MNIST_DIR is set and not empty,
// LoadMNIST("") reads the IDX files in that directory instead. Fashion-MNIST
// and Tiny-ImageNet are read from a directory the caller names.
//
// The IDX readers accept plain files and gzip-compressed files; compression
// is detected from the file's leading bytes, not from its name. Every error
// names the file it concerns, and malformed input is reported as an error
// wrapping [ErrFormat] rather than a panic or an unbounded allocation.
//
// # Storage
//
// A [Set] stores each pixel once, compactly: the IDX loaders keep the raw
// bytes (one byte per pixel, value byte/255), so a loaded MNIST pair holds
// about 55 MB, and Tiny-ImageNet keeps the float32 values produced by its
// resize, grayscale and sine transform. Nothing is stored as float64. The
// pixels are converted on the fly, without allocating, into caller-owned
// buffers of float64 ([Set.Gather], [Set.GatherRows64], [Batch.Write64]) or
// float32 ([Set.Gather32], [Set.GatherRows32], [Batch.Write32]). A raw byte b
// becomes float64(b)/255 or float32(b)/float32(255), each correctly rounded;
// the float32 value is exactly what PyTorch's ToTensor gives. A Set is never
// modified after loading, so one Set can be shared by any number of
// goroutines, training runs and evaluations.
//
// [Compatible] checks that a test set can be used to evaluate a model
// trained on a training set.
package datasets
