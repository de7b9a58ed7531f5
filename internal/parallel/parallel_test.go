package parallel

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// withProcs runs f with GOMAXPROCS set to procs and restores it afterwards.
func withProcs(t testing.TB, procs int, f func()) {
	t.Helper()
	old := runtime.GOMAXPROCS(procs)
	defer runtime.GOMAXPROCS(old)
	f()
}

func TestForCoverage(t *testing.T) {
	tests := []struct{ n, grain int }{
		{0, 1}, {-5, 3}, {1, 1}, {1, 100}, {7, 0}, {7, -3}, {7, 1}, {7, 2}, {7, 7}, {7, 8},
		{100, 3}, {100, 10}, {1000, 64}, {4096, 4096}, {4097, 4096}, {10000, 1},
	}
	for _, procs := range []int{1, 2, 4} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("procs=%d/n=%d/grain=%d", procs, tt.n, tt.grain), func(t *testing.T) {
				grain := max(tt.grain, 1)
				hits := make([]atomic.Int32, max(tt.n, 0))
				var calls, bad atomic.Int32
				withProcs(t, procs, func() {
					For(tt.n, tt.grain, func(lo, hi int) {
						calls.Add(1)
						if lo%grain != 0 || hi != min(lo+grain, tt.n) {
							bad.Add(1)
						}
						for i := lo; i < hi; i++ {
							hits[i].Add(1)
						}
					})
				})
				if got, want := int(calls.Load()), Chunks(tt.n, tt.grain); got != want {
					t.Errorf("f called %d times, want %d chunks", got, want)
				}
				if b := bad.Load(); b != 0 {
					t.Errorf("%d chunks had boundaries other than [i·grain, min((i+1)·grain, n))", b)
				}
				for i := range hits {
					if h := hits[i].Load(); h != 1 {
						t.Fatalf("index %d visited %d times, want 1", i, h)
					}
				}
			})
		}
	}
}

func TestChunks(t *testing.T) {
	tests := []struct{ n, grain, want int }{
		{0, 5, 0}, {-1, 5, 0}, {1, 5, 1}, {5, 5, 1}, {6, 5, 2}, {10, 0, 10}, {10, -2, 10}, {10, 3, 4},
	}
	for _, tt := range tests {
		if got := Chunks(tt.n, tt.grain); got != tt.want {
			t.Errorf("Chunks(%d, %d) = %d, want %d", tt.n, tt.grain, got, tt.want)
		}
	}
}

// chunkSum sums x chunk by chunk into partials, with a loop body built once.
type chunkSum struct {
	x, partials []float64
	grain       int
	body        func(lo, hi int)
}

func newChunkSum(x []float64, grain int) *chunkSum {
	s := &chunkSum{x: x, grain: grain, partials: make([]float64, Chunks(len(x), grain))}
	s.body = s.chunk
	return s
}

func (s *chunkSum) chunk(lo, hi int) {
	var p float64
	for _, v := range s.x[lo:hi] {
		p += v
	}
	s.partials[lo/s.grain] = p
}

func (s *chunkSum) sum() float64 {
	For(len(s.x), s.grain, s.body)
	return Sum(s.partials)
}

func TestReductionIndependentOfProcs(t *testing.T) {
	// Terms of very different magnitudes, so that a different summation order
	// would almost surely change the rounded result.
	x := make([]float64, 100003)
	for i := range x {
		x[i] = math.Sin(float64(i)) * math.Exp(float64(i%37)-18)
	}
	const grain = 1000
	// The sequential reference: the same chunks, summed in order on one goroutine.
	var want float64
	for lo := 0; lo < len(x); lo += grain {
		var p float64
		for _, v := range x[lo:min(lo+grain, len(x))] {
			p += v
		}
		want += p
	}
	s := newChunkSum(x, grain)
	for _, procs := range []int{1, 2, 4} {
		var got float64
		withProcs(t, procs, func() { got = s.sum() })
		if math.Float64bits(got) != math.Float64bits(want) {
			t.Errorf("GOMAXPROCS=%d: sum %.17g, want %.17g bit for bit", procs, got, want)
		}
	}
}

func TestForAllocs(t *testing.T) {
	x := make([]float64, 1<<16)
	s := newChunkSum(x, 1024)
	for _, procs := range []int{2, 4} {
		withProcs(t, procs, func() {
			s.sum() // warm up the workers and the free job
			if a := testing.AllocsPerRun(200, func() { s.sum() }); a != 0 {
				t.Errorf("GOMAXPROCS=%d: %v allocations per call, want 0", procs, a)
			}
		})
	}
}

func TestNoGoroutineLeak(t *testing.T) {
	s := newChunkSum(make([]float64, 10000), 100)
	withProcs(t, 4, func() {
		s.sum() // start the workers
		before := runtime.NumGoroutine()
		for range 1000 {
			s.sum()
		}
		if after := runtime.NumGoroutine(); after > before {
			t.Errorf("goroutines grew from %d to %d over 1000 calls", before, after)
		}
	})
	if w := pool.started.Load(); w > 3 {
		t.Errorf("%d workers started, want at most GOMAXPROCS−1 = 3", w)
	}
}

// TestNested runs For from inside loop bodies, two levels deep, and from
// several goroutines at once; it fails if any call deadlocks.
func TestNested(t *testing.T) {
	const outer, inner = 16, 1000
	done := make(chan [outer * inner]int32, 1)
	withProcs(t, 4, func() {
		go func() {
			var hits [outer * inner]int32
			var wg sync.WaitGroup
			for g := range 3 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					For(outer, 1, func(lo, hi int) {
						for o := lo; o < hi; o++ {
							For(inner, 7, func(ilo, ihi int) {
								For(ihi-ilo, 2, func(a, b int) {
									for i := ilo + a; i < ilo+b; i++ {
										atomic.AddInt32(&hits[o*inner+i], int32(g+1))
									}
								})
							})
						}
					})
				}()
			}
			wg.Wait()
			done <- hits
		}()
		select {
		case hits := <-done:
			for i, h := range hits {
				if h != 1+2+3 { // each of the three goroutines adds g+1 once
					t.Fatalf("index %d: got %d, want 6", i, h)
				}
			}
		case <-time.After(30 * time.Second):
			t.Fatal("nested For calls did not finish in 30 s: deadlock")
		}
	})
}

func TestPanicPropagates(t *testing.T) {
	withProcs(t, 4, func() {
		func() {
			defer func() {
				if v := recover(); v != "boom at 50" {
					t.Errorf("recovered %v, want the loop body's panic value", v)
				}
			}()
			For(100, 1, func(lo, hi int) {
				if lo == 50 {
					panic(fmt.Sprintf("boom at %d", lo))
				}
				time.Sleep(100 * time.Microsecond)
			})
			t.Error("For returned normally after a panic in f")
		}()
		// The pool must still work after a panic.
		s := newChunkSum([]float64{1, 2, 3, 4, 5}, 1)
		if got := s.sum(); got != 15 {
			t.Errorf("sum after a panic: %v, want 15", got)
		}
	})
}

func BenchmarkFor(b *testing.B) {
	for _, n := range []int{1 << 10, 1 << 16, 1 << 20} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			s := newChunkSum(make([]float64, n), 4096)
			b.ReportAllocs()
			for b.Loop() {
				s.sum()
			}
		})
	}
}
