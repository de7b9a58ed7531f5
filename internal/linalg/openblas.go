//go:build openblas

package linalg

// #cgo LDFLAGS: -lopenblas
import "C"

import (
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/netlib/blas/netlib"
)

// init routes every float32 and float64 BLAS call of the program, this
// package's and gonum's, to OpenBLAS.
func init() {
	blas64.Use(netlib.Implementation{})
	blas32.Use(netlib.Implementation{})
	isOpenBLAS = func(impl any) bool {
		_, ok := impl.(netlib.Implementation)
		return ok
	}
}
