package score

import (
	"math"
	"testing"
)

func TestParse(t *testing.T) {
	for _, l := range []Law{Gaussian, Laplace} {
		if got, err := ParseLaw(l.String()); err != nil || got != l {
			t.Errorf("ParseLaw(%q) = %v, %v", l.String(), got, err)
		}
	}
	for _, s := range []Sampler{IID, QMC} {
		if got, err := ParseSampler(s.String()); err != nil || got != s {
			t.Errorf("ParseSampler(%q) = %v, %v", s.String(), got, err)
		}
	}
	for _, b := range []Baseline{None, BatchMean, LeaveOneOut, Clean, SiteClean} {
		if got, err := ParseBaseline(b.String()); err != nil || got != b {
			t.Errorf("ParseBaseline(%q) = %v, %v", b.String(), got, err)
		}
	}
	for _, c := range []struct {
		err  error
		want string
	}{
		{func() error { _, err := ParseLaw("cauchy"); return err }(), `unknown noise distribution "cauchy" (want gaussian | laplace)`},
		{func() error { _, err := ParseSampler("sobol"); return err }(), `unknown sampler "sobol" (want iid | qmc)`},
		{func() error { _, err := ParseBaseline("ema"); return err }(), `unknown baseline "ema" (want none | batch-mean | leave-one-out | clean | site-clean)`},
	} {
		if c.err == nil || c.err.Error() != c.want {
			t.Errorf("err = %v, want %q", c.err, c.want)
		}
	}
	for _, c := range []struct{ got, want string }{
		{Law(3).String(), "Law(3)"}, {Sampler(4).String(), "Sampler(4)"}, {Baseline(9).String(), "Baseline(9)"},
	} {
		if c.got != c.want {
			t.Errorf("String = %q, want %q", c.got, c.want)
		}
	}
}

// TestLaw checks Score, Quantile and CDF against closed forms: the scores
// r/σ² and sign(r)/b, known quantiles (the Gaussian's 97.5 % point is
// 1.959964σ, the Laplace median 0 and its quartiles ±b·ln 2), and that
// CDF inverts Quantile over the whole unit interval to within a few
// roundings of a probability (2⁻⁵³ each): the Gaussian quantile computes
// erfinv(2u − 1), which holds u to that absolute precision, as the
// lattice arithmetic of the QMC sampler does anyway.
func TestLaw(t *testing.T) {
	const s = 0.7
	for _, c := range []struct {
		law      Law
		r, score float64
	}{
		{Gaussian, 0.35, 0.35 / (s * s)}, {Gaussian, -1.4, -1.4 / (s * s)}, {Gaussian, 0, 0},
		{Laplace, 0.35, 1 / s}, {Laplace, -2, -1 / s}, {Laplace, 0, 0},
	} {
		if got := c.law.Score(c.r, s); math.Abs(got-c.score) > 1e-15*math.Abs(c.score) {
			t.Errorf("%v: ψ(%v) = %v, want %v", c.law, c.r, got, c.score)
		}
	}
	for _, c := range []struct {
		law     Law
		u, want float64
	}{
		{Gaussian, 0.975, 1.959963984540054 * s}, {Gaussian, 0.5, 0}, {Gaussian, 0.025, -1.959963984540054 * s},
		{Laplace, 0.5, 0}, {Laplace, 0.75, s * math.Ln2}, {Laplace, 0.25, -s * math.Ln2},
	} {
		if got := c.law.Quantile(c.u, s); math.Abs(got-c.want) > 1e-14 {
			t.Errorf("%v: Quantile(%v) = %v, want %v", c.law, c.u, got, c.want)
		}
	}
	for _, law := range []Law{Gaussian, Laplace} {
		for _, u := range []float64{0x1p-54, 1e-12, 1e-6, 0.01, 0.3, 0.5, 0.5 + 1e-9, 0.77, 0.999, 1 - 1e-9, 1 - 0x1p-53} {
			r := law.Quantile(u, s)
			if got := law.CDF(r, s); math.Abs(got-u) > 4*0x1p-53 {
				t.Errorf("%v: CDF(Quantile(%v)) = %v", law, u, got)
			}
			if math.IsInf(r, 0) || math.IsNaN(r) {
				t.Errorf("%v: Quantile(%v) = %v", law, u, r)
			}
		}
	}
}
