package conv

import (
	"testing"
	"unsafe"
)

// The benchmarks run LeNet-5's layers on MNIST at batch 256. SetBytes counts
// the bytes each call reads and writes once (inputs, outputs and MaxPool's
// indices), so MB/s compares with BenchmarkCopy, a memmove of as many bytes
// as Im2col of conv1 moves.
const benchBatch = 256

var (
	lenetConv1 = Conv{In: Image{1, 28, 28}, Filters: 6, Kernel: 5, Stride: 1}
	lenetConv2 = Conv{In: Image{6, 12, 12}, Filters: 16, Kernel: 5, Stride: 1}
	lenetPool1 = Image{6, 24, 24}
	lenetPool2 = Image{16, 8, 8}
)

func BenchmarkCopy(b *testing.B) {
	g := lenetConv1
	n := benchBatch * (g.In.Len() + g.Out().H*g.Out().W*g.PatchWidth())
	src, dst := make([]float32, n/2), make([]float32, n/2)
	copy(dst, src)
	b.SetBytes(int64(n) * 4)
	for b.Loop() {
		copy(dst, src)
	}
}

func BenchmarkIm2col(b *testing.B) {
	b.Run("conv1/float32", benchIm2col[float32](lenetConv1, false))
	b.Run("conv2/float32", benchIm2col[float32](lenetConv2, false))
	b.Run("conv1/float64", benchIm2col[float64](lenetConv1, false))
	b.Run("conv2/float64", benchIm2col[float64](lenetConv2, false))
}

func BenchmarkCol2im(b *testing.B) {
	b.Run("conv1/float32", benchIm2col[float32](lenetConv1, true))
	b.Run("conv2/float32", benchIm2col[float32](lenetConv2, true))
	b.Run("conv1/float64", benchIm2col[float64](lenetConv1, true))
	b.Run("conv2/float64", benchIm2col[float64](lenetConv2, true))
}

func benchIm2col[T float](g Conv, adjoint bool) func(*testing.B) {
	return func(b *testing.B) {
		x := uniform[T](1, benchBatch*g.In.Len())
		cols := make([]T, benchBatch*g.Out().H*g.Out().W*g.PatchWidth())
		run := func() error { return Im2col(cols, x, benchBatch, g) }
		if adjoint {
			run = func() error { return Col2im(x, cols, benchBatch, g) }
		}
		if err := run(); err != nil { // fault the pages in
			b.Fatal(err)
		}
		b.SetBytes(int64(len(x)+len(cols)) * int64(unsafe.Sizeof(x[0])))
		for b.Loop() {
			if err := run(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkPool(b *testing.B) {
	for _, c := range []struct {
		name string
		in   Image
	}{{"pool1", lenetPool1}, {"pool2", lenetPool2}} {
		for _, kind := range []PoolKind{Max, Avg} {
			g := Pool{In: c.in, Size: 2, Kind: kind}
			b.Run(c.name+"/"+kind.String()+"/float32", benchPool[float32](g, false))
			b.Run(c.name+"/"+kind.String()+"/float32/backward", benchPool[float32](g, true))
		}
	}
	g := Pool{In: lenetPool1, Size: 2}
	b.Run("pool1/max/float64", benchPool[float64](g, false))
	b.Run("pool1/max/float64/backward", benchPool[float64](g, true))
}

func benchPool[T float](g Pool, backward bool) func(*testing.B) {
	return func(b *testing.B) {
		x := uniform[T](1, benchBatch*g.In.Len())
		y, arg := make([]T, benchBatch*g.Out().Len()), make([]int32, benchBatch*g.Out().Len())
		if err := pool(y, arg, x, benchBatch, g); err != nil { // arg, and faults the pages in
			b.Fatal(err)
		}
		run := func() error { return pool(y, arg, x, benchBatch, g) }
		if backward {
			dx := make([]T, len(x))
			run = func() error { return poolBackward(dx, y, arg, benchBatch, g) }
			if err := run(); err != nil {
				b.Fatal(err)
			}
		}
		bytes := int64(len(x)+len(y)) * int64(unsafe.Sizeof(x[0]))
		if g.Kind == Max {
			bytes += int64(len(arg)) * 4
		}
		b.SetBytes(bytes)
		for b.Loop() {
			if err := run(); err != nil {
				b.Fatal(err)
			}
		}
	}
}
