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
	"time"
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
	j.pending.Add(int64(chunks))
	j.refs.Store(1) // the caller's
	for range helpers {
		if !pool.offer(j) {
			break // no idle worker: the caller runs what is left
		}
	}
	j.run()
	j.wait()
	if pool.slot.CompareAndSwap(j, nil) {
		j.refs.Add(-1) // offered to a spinning worker that never took it
	}
	failed, value := j.failed, j.value
	j.release()
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
//
// The caller waits for the job's chunks, not for its helpers: a helper that
// wakes after the caller has run every chunk finds none left and only lets
// go of the job. Each holder (the caller and every helper the job was handed
// to) keeps a reference, and the last to let go returns the job to the pool,
// so a late helper never touches a job that was reused.
type job struct {
	f                func(lo, hi int)
	n, grain, chunks int
	next             atomic.Int64  // index of the next unclaimed chunk
	pending          atomic.Int64  // chunks not yet finished (or skipped)
	refs             atomic.Int32  // holders of the job
	done             chan struct{} // receives once when pending reaches 0 while the caller sleeps
	sleeping         atomic.Bool   // the caller waits on done

	mu     sync.Mutex
	failed bool // a chunk panicked; value is its panic value
	value  any
}

// run claims and runs chunks until none is left.
func (j *job) run() {
	for {
		c := j.next.Add(1) - 1
		if c >= int64(j.chunks) {
			return
		}
		j.chunk(int(c))
	}
}

// chunk runs chunk c and counts it finished. A panic stops the claims: the
// chunks nobody claimed yet are counted as finished too, and the first
// panic's value is kept for the caller.
func (j *job) chunk(c int) {
	finished := int64(1)
	defer func() {
		if v := recover(); v != nil {
			prev := j.next.Swap(int64(j.chunks))
			finished += int64(j.chunks) - min(prev, int64(j.chunks))
			j.mu.Lock()
			if !j.failed {
				j.failed, j.value = true, v
			}
			j.mu.Unlock()
		}
		// The last chunk wakes the caller if it sleeps, claiming the
		// wake-up so that exactly one token is ever sent.
		if j.pending.Add(-finished) == 0 && j.sleeping.CompareAndSwap(true, false) {
			j.done <- struct{}{}
		}
	}()
	lo := c * j.grain
	j.f(lo, lo+min(j.grain, j.n-lo))
}

// wait returns when every chunk has finished. It spins briefly, since the
// chunks still running elsewhere are usually about to finish, then sleeps.
func (j *job) wait() {
	for i := 0; i < spins; i++ {
		if j.pending.Load() == 0 {
			return
		}
		if i%64 == 63 {
			runtime.Gosched()
		}
	}
	j.sleeping.Store(true)
	if j.pending.Load() == 0 && j.sleeping.CompareAndSwap(true, false) {
		return // the last chunk finished before it could see the caller sleep
	}
	<-j.done // the last chunk claimed the wake-up and sends it
}

// spins is how many times wait polls before it sleeps.
const spins = 1 << 12

// release lets go of the caller's or a helper's reference.
func (j *job) release() {
	if j.refs.Add(-1) == 0 {
		pool.put(j)
	}
}

// A workerPool holds the long-lived workers and the jobs free for reuse.
//
// A worker that has just finished a job spins for a while (spinFor) on slot
// before it parks on jobs. Handing a job to a parked goroutine readies it on
// the caller's own processor, where it waits until the caller blocks, so
// the back-to-back loops of a training step would run on one core; a
// spinning worker runs on its own and takes the job at once.
type workerPool struct {
	// jobs is unbuffered, so a send succeeds only when a worker is parked
	// and receives the job at once.
	jobs     chan *job
	slot     atomic.Pointer[job] // a job offered to the spinning workers
	spinners atomic.Int32        // workers spinning on slot
	started  atomic.Int64

	mu   sync.Mutex
	free []*job
}

var pool = workerPool{jobs: make(chan *job)}

// spinFor is how long an idle worker polls slot before it parks.
const spinFor = 200 * time.Microsecond

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

// offer hands j to an idle worker, spinning or parked, if there is one,
// taking a reference for it.
func (p *workerPool) offer(j *job) bool {
	j.refs.Add(1)
	if p.spinners.Load() > 0 && p.slot.CompareAndSwap(nil, j) {
		return true
	}
	select {
	case p.jobs <- j:
		return true
	default:
		j.refs.Add(-1)
		return false
	}
}

// work is a worker's loop; it never returns.
func (p *workerPool) work() {
	for {
		j := p.spin()
		if j == nil {
			j = <-p.jobs
		}
		j.run()
		j.release() // the worker's last access to j
	}
}

// spin polls slot for up to spinFor and returns the job it took, or nil.
func (p *workerPool) spin() *job {
	p.spinners.Add(1)
	deadline := time.Now().Add(spinFor)
	for i := 0; ; i++ {
		if j := p.slot.Load(); j != nil && p.slot.CompareAndSwap(j, nil) {
			p.spinners.Add(-1)
			return j
		}
		if i%64 == 63 {
			if time.Now().After(deadline) {
				break
			}
			runtime.Gosched()
		}
	}
	p.spinners.Add(-1)
	// A job offered while the worker stopped spinning is still taken.
	return p.slot.Swap(nil)
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
	return &job{done: make(chan struct{}, 1)}
}

// put clears j and keeps it for reuse.
func (p *workerPool) put(j *job) {
	j.f = nil
	j.next.Store(0)
	j.sleeping.Store(false)
	j.failed, j.value = false, nil
	p.mu.Lock()
	p.free = append(p.free, j)
	p.mu.Unlock()
}
