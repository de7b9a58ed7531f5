package plots

import (
	"fmt"
	"math"
	"strconv"

	"gonum.org/v1/plot"
)

// sqrt10 is half a decade, as a factor.
var sqrt10 = math.Sqrt(10)

// logAxisRange is axisRange for a log axis: the range of an axis whose
// (positive) data span [lo, hi], with the fixed ends fixLo and fixHi where
// not nil. An empty range is widened by a decade away from a fixed end, or by
// half a decade each way, as far as float64 reaches. It is an error if the
// range cannot be widened, which happens only at the ends of float64.
func logAxisRange(lo, hi float64, fixLo, fixHi *float64) (float64, float64, error) {
	if fixLo != nil {
		lo = *fixLo
	}
	if fixHi != nil {
		hi = *fixHi
	}
	if hi <= lo {
		switch {
		case fixLo != nil:
			hi = math.Min(lo*10, math.MaxFloat64)
		case fixHi != nil:
			lo = math.Max(hi/10, math.SmallestNonzeroFloat64)
		default:
			lo = math.Max(lo/sqrt10, math.SmallestNonzeroFloat64)
			hi = math.Min(hi*sqrt10, math.MaxFloat64)
		}
	}
	if !(lo > 0) || !(hi > lo) || !finite(hi) {
		return lo, hi, fmt.Errorf("range [%v, %v] cannot be drawn on a log axis", lo, hi)
	}
	return lo, hi, nil
}

// logTicker places ticks on a log10 axis: about n labelled ticks at powers
// of ten (every decade, or every 2nd, 3rd, 5th, ... decade on a long axis),
// and at 2 and 5 times them as well when the axis spans less than two
// decades. Minor ticks mark the other multiples 2…9 of each power of ten, or
// the unlabelled decades on a long axis. An axis too short to hold two such
// labels gets linear ticks instead (niceTicker), which on a span of less
// than a factor of about 2.5 are nearly evenly spaced anyway.
//
// Every tick lies in [lo, hi] and is positive, so gonum's log scale, which
// panics on values that are not positive, can place them all.
type logTicker struct{ n int }

// Ticks implements plot.Ticker.
func (t logTicker) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0) || !(hi > lo) || !finite(hi) {
		return endTicks(lo, hi)
	}
	a, b := math.Log10(lo), math.Log10(hi)
	k0, k1 := int(math.Floor(a)), int(math.Ceil(b))
	budget := max(t.n, 2) + 1 // labelled ticks the axis has room for

	// The candidates m×10^k in [lo, hi], for m = 1…9, in increasing order.
	var cands []logTick
	for k := k0; k <= k1; k++ {
		for m := 1; m <= 9; m++ {
			if v := pow10(m, k); v >= lo && v <= hi {
				cands = append(cands, logTick{m: m, k: k, v: v})
			}
		}
	}
	count := func(label func(logTick) bool) int {
		n := 0
		for _, c := range cands {
			if label(c) {
				n++
			}
		}
		return n
	}

	oneTwoFive := func(c logTick) bool { return c.m == 1 || c.m == 2 || c.m == 5 }
	// Label every step'th decade, the smallest step in 1, 2, 3, 5, 10, 20,
	// 30, 50, ... that keeps the labels within budget: at the multiples of
	// step (1e-3, 1, 1e3) if there are two of them, else from the first
	// decade on.
	var decades []int // the k of each 10^k in range
	for _, c := range cands {
		if c.m == 1 {
			decades = append(decades, c.k)
		}
	}
	step := 1
	for i := 1; (len(decades)+step-1)/step > budget; i++ {
		step = []int{1, 2, 3, 5}[i%4] * int(math.Pow10(i/4))
	}
	anchor := 0
	if len(decades) > 0 && count(func(c logTick) bool { return c.m == 1 && mod(c.k, step) == 0 }) < 2 {
		anchor = decades[0]
	}
	everyStep := func(c logTick) bool { return c.m == 1 && mod(c.k-anchor, step) == 0 }

	var label func(logTick) bool
	switch n125 := count(oneTwoFive); {
	case b-a < 2 && n125 >= 2 && n125 <= budget:
		label = oneTwoFive
	case count(everyStep) >= 2:
		label = everyStep
	case b-a < 2 && n125 >= 2: // too many, but the decades alone give one
		label = oneTwoFive
	default:
		ticks := niceTicker{n: t.n}.Ticks(lo, hi)
		for i := range ticks {
			// niceTicker may step a rounding error past an end.
			ticks[i].Value = math.Min(math.Max(ticks[i].Value, lo), hi)
		}
		return ticks
	}
	// Minor ticks at 2…9 times every power of ten, unless the decades are
	// so many that they would crowd, or are themselves thinned out.
	minorMantissas := step == 1 && b-a <= 8

	var ticks []plot.Tick
	for _, c := range cands {
		switch {
		case label(c):
			ticks = append(ticks, plot.Tick{Value: c.v, Label: logLabel(c.v)})
		case c.m == 1 || minorMantissas:
			ticks = append(ticks, plot.Tick{Value: c.v})
		}
	}
	return ticks
}

// logTick is the candidate tick m×10^k, of value v.
type logTick struct {
	m, k int
	v    float64
}

// pow10 returns m×10^k correctly rounded (m×math.Pow10(k) can be one unit
// in the last place off, which would print as 0.30000000000000004).
func pow10(m, k int) float64 {
	v, _ := strconv.ParseFloat(strconv.Itoa(m)+"e"+strconv.Itoa(k), 64)
	return v // 0 or ±Inf beyond float64's range, which the caller drops
}

// mod returns a mod b in [0, b).
func mod(a, b int) int { return ((a % b) + b) % b }

// logLabel formats a tick value m×10^k as briefly as it reads: "0.002",
// "500", "1e+06", "2e-05".
func logLabel(v float64) string {
	if v >= 1e6 || v < 1e-4 {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}
