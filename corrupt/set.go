package corrupt

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
)

// ApplySet corrupts a set of n images of h×w pixels, stored row-major one
// after another in imgs, at one severity, writing dst. Image i is corrupted
// with its own stream rand.New(rand.NewPCG(seed, uint64(i))), so the result
// depends only on seed and not on the order in which images are processed;
// ApplySet spreads the images over up to runtime.NumCPU() goroutines. dst may
// be imgs itself, for corruption in place, but must not otherwise overlap it.
//
// ApplySet returns an error, before writing anything, if c is nil, the
// severity is out of range, n is negative, h or w is not positive, len(imgs)
// or len(dst) is not n*h*w, or a pixel is outside [0,1]. If c.Apply fails
// for some image (which the corruptions of this package do not once the
// arguments are valid), it returns the error of the lowest such image, and
// dst is partly written.
func ApplySet(c Corruption, dst, imgs []float64, n, h, w, severity int, seed uint64) error {
	if c == nil {
		return errors.New("corrupt: ApplySet: nil Corruption")
	}
	if err := checkSeverity(severity); err != nil {
		return fmt.Errorf("corrupt: ApplySet %s: %w", c.Name(), err)
	}
	size, err := checkSize(h, w)
	if err != nil {
		return fmt.Errorf("corrupt: ApplySet %s: %w", c.Name(), err)
	}
	if n < 0 {
		return fmt.Errorf("corrupt: ApplySet %s: negative image count %d", c.Name(), n)
	}
	if n > 0 && size > math.MaxInt/n {
		return fmt.Errorf("corrupt: ApplySet %s: %d images of %d×%d overflow int", c.Name(), n, h, w)
	}
	total := n * size
	if len(imgs) != total {
		return fmt.Errorf("corrupt: ApplySet %s: len(imgs) = %d, want n*h*w = %d*%d*%d = %d", c.Name(), len(imgs), n, h, w, total)
	}
	if len(dst) != total {
		return fmt.Errorf("corrupt: ApplySet %s: len(dst) = %d, want n*h*w = %d*%d*%d = %d", c.Name(), len(dst), n, h, w, total)
	}
	for i := range n {
		if err := checkPixels(imgs[i*size:(i+1)*size], w); err != nil {
			return fmt.Errorf("corrupt: ApplySet %s: image %d: %w", c.Name(), i, err)
		}
	}

	workers := min(runtime.NumCPU(), n)
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		firstErr = make([]error, workers)
		firstAt  = make([]int, workers)
	)
	for k := range workers {
		wg.Go(func() {
			// Reseeding one PCG gives the same stream as a fresh
			// rand.New(rand.NewPCG(seed, i)): a Rand keeps no state of its own.
			src := rand.NewPCG(0, 0)
			rng := rand.New(src)
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				src.Seed(seed, uint64(i))
				img, out := imgs[i*size:(i+1)*size], dst[i*size:(i+1)*size]
				if err := c.Apply(out, img, h, w, severity, rng); err != nil && firstErr[k] == nil {
					firstErr[k], firstAt[k] = err, i
				}
			}
		})
	}
	wg.Wait()

	var err1 error
	at := n
	for k, err := range firstErr {
		if err != nil && firstAt[k] < at {
			err1, at = err, firstAt[k]
		}
	}
	if err1 != nil {
		return fmt.Errorf("corrupt: ApplySet %s: image %d: %w", c.Name(), at, err1)
	}
	return nil
}
