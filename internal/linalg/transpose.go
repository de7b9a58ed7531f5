package linalg

import "fmt"

// tile is the side of the square blocks Transpose copies at a time: a
// 32×32 block of float64 in and out is 16 KiB, well inside a level-1 cache.
const tile = 32

// Transpose writes the transpose of the row-major rows×cols matrix in src to
// dst as a row-major cols×rows matrix. It copies block by block so that both
// matrices are read and written a cache line at a time. dst and src must not
// overlap. Transpose panics if rows or cols is negative or if src or dst is
// shorter than rows·cols.
func Transpose[T Float](dst, src []T, rows, cols int) {
	if rows < 0 || cols < 0 {
		panic(fmt.Sprintf("linalg: Transpose of a %d×%d matrix", rows, cols))
	}
	if len(src) < rows*cols || len(dst) < rows*cols {
		panic(fmt.Sprintf("linalg: Transpose of a %d×%d matrix with len(src) = %d, len(dst) = %d", rows, cols, len(src), len(dst)))
	}
	transpose(dst, rows, src, cols, rows, cols)
}

// transpose writes the transpose of the rows×cols matrix src (row stride
// lds) to dst (row stride ldd, cols rows of rows values).
func transpose[T Float](dst []T, ldd int, src []T, lds int, rows, cols int) {
	for i0 := 0; i0 < rows; i0 += tile {
		i1 := min(i0+tile, rows)
		for j0 := 0; j0 < cols; j0 += tile {
			j1 := min(j0+tile, cols)
			for i := i0; i < i1; i++ {
				row := src[i*lds+j0 : i*lds+j1]
				for j, v := range row {
					dst[(j0+j)*ldd+i] = v
				}
			}
		}
	}
}
