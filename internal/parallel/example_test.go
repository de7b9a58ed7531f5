package parallel_test

import (
	"fmt"

	"github.com/glr-project/glr/internal/parallel"
)

// squares sums i² over [0, n) in parallel, one partial per chunk.
type squares struct {
	partials []float64
	body     func(lo, hi int) // built once, so For allocates nothing
}

const grain = 1000

func (s *squares) chunk(lo, hi int) {
	var p float64
	for i := lo; i < hi; i++ {
		p += float64(i) * float64(i)
	}
	s.partials[lo/grain] = p
}

func Example() {
	const n = 10000
	s := &squares{partials: make([]float64, parallel.Chunks(n, grain))}
	s.body = s.chunk
	parallel.For(n, grain, s.body)
	// Combining the partials in chunk order gives the same bits whatever
	// GOMAXPROCS is.
	fmt.Println(len(s.partials), parallel.Sum(s.partials))
	// Output:
	// 10 3.33283335e+11
}
