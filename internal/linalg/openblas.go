//go:build openblas

package linalg

// #cgo LDFLAGS: -lopenblas
// void openblas_set_num_threads(int);
import "C"

import (
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/netlib/blas/netlib"
)

// init routes every float32 and float64 BLAS call of the program, this
// package's and gonum's, to OpenBLAS.
//
// OpenBLAS runs single-threaded: Product spreads a product's blocks of rows
// over this program's own workers (package internal/parallel), which also
// run every other loop of a training step. Two thread pools on the same
// cores would take turns instead of working together.
func init() {
	C.openblas_set_num_threads(1)
	blas64.Use(netlib.Implementation{})
	blas32.Use(netlib.Implementation{})
	isOpenBLAS = func(impl any) bool {
		_, ok := impl.(netlib.Implementation)
		return ok
	}
}
