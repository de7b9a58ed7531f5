// Package parallel runs loops over index ranges on a small set of long-lived
// worker goroutines.
//
// The loop [0, n) is cut into chunks whose boundaries depend only on n and the
// grain, never on GOMAXPROCS or on scheduling, so a loop body that writes only
// its own chunk gives identical results however many goroutines run it. A
// reduction stays reproducible when each chunk writes a partial result and the
// partials are combined in chunk order afterwards (see [Chunks] and [Sum]).
//
// After warm-up, [For] allocates nothing when its loop body is a func value
// built once (for example a method value stored in a struct field) rather than
// a fresh closure: chunks go to workers through channels, not through a go
// statement per call.
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// For calls f(lo, hi) once for every chunk [i·grain, min((i+1)·grain, n)),
// i = 0, 1, ..., [Chunks](n, grain)−1, and returns when all calls have
// returned. Nothing is done when n ≤ 0, and a grain below 1 is taken as 1.
//
// The chunks run on up to runtime.GOMAXPROCS(0) goroutines: the caller's and
// idle workers of the package's pool, each taking the next unclaimed chunk
// until none is left. For runs every chunk in the calling goroutine, in order,
// when there is a single chunk or GOMAXPROCS is 1.
//
// f must be safe to run concurrently on disjoint chunks. When f writes only
// state that belongs to its own chunk, the results are identical whatever
// GOMAXPROCS is; which goroutine runs a chunk, and in which order chunks
// start, is not specified.
//
// For may be called from several goroutines at once and from inside f: a call
// uses only workers that are idle at that moment and runs the remaining
// chunks itself, so nested and concurrent loops never wait on each other and
// cannot deadlock. If f panics, For waits for the chunks already started,
// skips the others, and panics in the calling goroutine with the first panic's
// value.
func For(n, grain int, f func(lo, hi int)) {
	if n <= 0 {
		return
	}
	if grain < 1 {
		grain = 1
	}
	chunks := Chunks(n, grain)
	procs := runtime.GOMAXPROCS(0)
	if chunks == 1 || procs == 1 {
		for lo := 0; lo < n; lo += grain {
			f(lo, lo+min(grain, n-lo))
		}
		return
	}
	helpers := min(procs, chunks) - 1
	pool.grow(helpers)

	j := pool.get()
	j.f, j.n, j.grain, j.chunks = f, n, grain, chunks
send:
	for range helpers {
		j.wg.Add(1)
		select {
		case pool.jobs <- j:
		default:
			j.wg.Done() // no idle worker: the caller runs what is left
			break send
		}
	}
	j.run()
	j.wg.Wait()
	failed, value := j.failed, j.value
	pool.put(j)
	if failed {
		panic(value)
	}
}

// Chunks returns the number of chunks [For](n, grain, f) cuts [0, n) into:
// ⌈n/grain⌉ for n > 0 (a grain below 1 counts as 1), and 0 for n ≤ 0. The
// chunk that starts at lo has index lo/grain, which is where a loop body
// stores its partial result for [Sum].
func Chunks(n, grain int) int {
	if n <= 0 {
		return 0
	}
	if grain < 1 {
		grain = 1
	}
	return (n-1)/grain + 1
}

// Sum returns the sum of partials taken in index order, so that per-chunk
// partial results of a [For] loop combine to the same value whatever
// GOMAXPROCS is.
func Sum[T float32 | float64](partials []T) T {
	var s T
	for _, p := range partials {
		s += p
	}
	return s
}

// A job is one call of For, shared by the caller and the workers helping it.
type job struct {
	f                func(lo, hi int)
	n, grain, chunks int
	next             atomic.Int64   // index of the next unclaimed chunk
	wg               sync.WaitGroup // helpers still running

	mu     sync.Mutex
	failed bool // a chunk panicked; value is its panic value
	value  any
}

// run claims and runs chunks until none is left.
func (j *job) run() {
	defer func() {
		if v := recover(); v != nil {
			j.next.Store(int64(j.chunks)) // skip the chunks not yet claimed
			j.mu.Lock()
			if !j.failed {
				j.failed, j.value = true, v
			}
			j.mu.Unlock()
		}
	}()
	for {
		c := int(j.next.Add(1) - 1)
		if c >= j.chunks {
			return
		}
		lo := c * j.grain
		j.f(lo, lo+min(j.grain, j.n-lo))
	}
}

// A workerPool holds the long-lived workers and the jobs free for reuse.
type workerPool struct {
	// jobs is unbuffered, so a send succeeds only when a worker is idle and
	// receives the job at once.
	jobs    chan *job
	started atomic.Int64

	mu   sync.Mutex
	free []*job
}

var pool = workerPool{jobs: make(chan *job)}

// grow starts workers until at least n exist.
func (p *workerPool) grow(n int) {
	if p.started.Load() >= int64(n) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.started.Load() < int64(n) {
		go p.work()
		p.started.Add(1)
	}
}

// work is a worker's loop; it never returns.
func (p *workerPool) work() {
	for j := range p.jobs {
		j.run()
		j.wg.Done() // the worker's last access to j
	}
}

// get returns a cleared job, reusing a free one when there is one.
func (p *workerPool) get() *job {
	p.mu.Lock()
	defer p.mu.Unlock()
	if k := len(p.free); k > 0 {
		j := p.free[k-1]
		p.free = p.free[:k-1]
		return j
	}
	return new(job)
}

// put clears j and keeps it for reuse.
func (p *workerPool) put(j *job) {
	j.f = nil
	j.next.Store(0)
	j.failed, j.value = false, nil
	p.mu.Lock()
	p.free = append(p.free, j)
	p.mu.Unlock()
}
