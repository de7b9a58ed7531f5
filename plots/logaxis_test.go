package plots

import (
	"errors"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestLogTicker(t *testing.T) {
	tests := []struct {
		name   string
		n      int
		lo, hi float64
		want   string // labels, in order
		minors string // "mantissas": minor ticks at 2…9×10^k; "decades": at unlabelled 10^k only
	}{
		{"three decades", 6, 1, 1000, "1 10 100 1000", "mantissas"},
		{"under two decades", 6, 1, 50, "1 2 5 10 20 50", "mantissas"},
		{"under two decades, small", 6, 0.003, 0.2, "0.005 0.01 0.02 0.05 0.1 0.2", "mantissas"},
		{"one decade off powers", 6, 0.3, 3, "0.5 1 2", "mantissas"},
		{"exactly two decades", 6, 0.1, 10, "0.1 1 10", "mantissas"},
		{"under two decades, no room", 2, 1, 50, "1 10", "mantissas"},
		{"sixteen decades", 6, 1e-8, 1e8, "1e-06 0.001 1 1000 1e+06", "decades"},
		{"fifty decades", 6, 1e-30, 1e20, "1e-30 1e-20 1e-10 1 1e+10 1e+20", "decades"},
		{"one multiple of the step", 2, 10, 1e16, "10 1e+11", "decades"},
		{"large values", 6, 2e5, 3e7, "1e+06 1e+07", "mantissas"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ticks := logTicker{n: tt.n}.Ticks(tt.lo, tt.hi)
			var got []string
			prev := 0.0
			for _, tk := range ticks {
				if tk.Value < tt.lo || tk.Value > tt.hi {
					t.Errorf("tick %v outside [%v, %v]", tk.Value, tt.lo, tt.hi)
				}
				if !(tk.Value > prev) {
					t.Errorf("tick %v not above %v", tk.Value, prev)
				}
				prev = tk.Value
				e := math.Floor(math.Log10(tk.Value) + 1e-9)
				m := tk.Value / math.Pow(10, e)
				if math.Abs(m-math.Round(m)) > 1e-9 {
					t.Errorf("tick %v is not a whole multiple of a power of ten", tk.Value)
				}
				if tk.Label == "" {
					isPow := math.Abs(m-1) < 1e-9
					if tt.minors == "decades" && !isPow {
						t.Errorf("minor tick at %v between decades", tk.Value)
					}
					continue
				}
				// The label reads back as the tick's exact value.
				if v, err := strconv.ParseFloat(tk.Label, 64); err != nil || v != tk.Value {
					t.Errorf("label %q of tick %v reads back as %v, %v", tk.Label, tk.Value, v, err)
				}
				got = append(got, tk.Label)
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("labels = %q, want %q", got, tt.want)
			}
			if tt.minors == "mantissas" {
				// Some minor tick between the first two labels (or below the
				// first) is not a power of ten.
				found := false
				for _, tk := range ticks {
					if tk.Label == "" && math.Abs(math.Log10(tk.Value)-math.Round(math.Log10(tk.Value))) > 1e-9 {
						found = true
					}
				}
				if !found {
					t.Error("no minor ticks between powers of ten")
				}
			}
		})
	}
}

// TestLogTickerNarrow checks that an axis too short for two labels at
// m×10^k, m in {1, 2, 5}, gets the linear ticks, all in range.
func TestLogTickerNarrow(t *testing.T) {
	for _, r := range [][2]float64{{6, 9}, {1.1, 1.9}, {0.0021, 0.0049}, {5e-324, 1e-323}} {
		ticks := logTicker{n: 6}.Ticks(r[0], r[1])
		if len(ticks) < 2 {
			t.Errorf("[%v, %v]: %d ticks, want at least 2", r[0], r[1], len(ticks))
		}
		labels := 0
		for _, tk := range ticks {
			if tk.Value < r[0] || tk.Value > r[1] || !(tk.Value > 0) {
				t.Errorf("[%v, %v]: tick %v outside the range", r[0], r[1], tk.Value)
			}
			if tk.Label != "" {
				labels++
			}
		}
		if labels < 2 {
			t.Errorf("[%v, %v]: %d labels, want at least 2", r[0], r[1], labels)
		}
	}
	got := logTicker{n: 6}.Ticks(6, 9)
	want := niceTicker{n: 6}.Ticks(6, 9)
	if !slices.Equal(got, want) {
		t.Errorf("ticks on [6, 9] = %v, want niceTicker's %v", got, want)
	}
	if len(got) < 7 || got[0].Label != "6.0" || got[len(got)-1].Label != "9.0" {
		t.Errorf("ticks on [6, 9] = %v, want labels from 6.0 to 9.0", got)
	}
}

func TestLogAxisRange(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	tests := []struct {
		name         string
		lo, hi       float64
		fixLo, fixHi *float64
		wantLo       float64
		wantHi       float64
		err          bool
	}{
		{"data", 0.5, 20, nil, nil, 0.5, 20, false},
		{"single value", 10, 10, nil, nil, 10 / math.Sqrt(10), 10 * math.Sqrt(10), false},
		{"fixed ends", 0.5, 20, f(0.1), f(100), 0.1, 100, false},
		{"fixed min above data", 0.5, 2, f(5), nil, 5, 50, false},
		{"fixed max below data", 5, 20, nil, f(2), 0.2, 2, false},
		{"largest value", math.MaxFloat64, math.MaxFloat64, nil, nil, math.MaxFloat64 / math.Sqrt(10), math.MaxFloat64, false},
		{"smallest value", 5e-324, 5e-324, nil, nil, 5e-324, 5e-324 * math.Sqrt(10), false},
		{"no room above a fixed min", 1, 2, f(math.MaxFloat64), nil, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lo, hi, err := logAxisRange(tt.lo, tt.hi, tt.fixLo, tt.fixHi)
			if tt.err {
				if err == nil {
					t.Fatalf("range [%v, %v], want an error", lo, hi)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(lo-tt.wantLo) > 1e-12*tt.wantLo || math.Abs(hi-tt.wantHi) > 1e-12*tt.wantHi {
				t.Errorf("range [%v, %v], want [%v, %v]", lo, hi, tt.wantLo, tt.wantHi)
			}
		})
	}
}

func TestLogSegments(t *testing.T) {
	nan := math.NaN()
	x := []float64{-1, 0, 1, 2, 3, 4, 5, 6}
	y := []float64{1, 2, 3, 0, 5, -6, 7, nan}
	tests := []struct {
		name       string
		logX, logY bool
		want       [][]float64 // the X of each segment
	}{
		{"linear", false, false, [][]float64{{-1, 0, 1, 2, 3, 4, 5}}},
		{"log x", true, false, [][]float64{{1, 2, 3, 4, 5}}},
		{"log y", false, true, [][]float64{{-1, 0, 1}, {3}, {5}}},
		{"log-log", true, true, [][]float64{{1}, {3}, {5}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Panel{LogX: tt.logX, LogY: tt.logY}
			var got [][]float64
			for _, seg := range p.segments(Series{Name: "s", X: x, Y: y}) {
				var xs []float64
				for _, pt := range seg {
					xs = append(xs, pt.X)
				}
				got = append(got, xs)
			}
			if !slices.EqualFunc(got, tt.want, slices.Equal) {
				t.Errorf("segments' X = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestLogScale checks that a log axis places data by their logarithm: on
// [1, 100], 10 is half way up.
func TestLogScale(t *testing.T) {
	s := Series{Name: "s", X: []float64{1, 10, 100}, Y: []float64{1, 10, 100}}
	for _, tt := range []struct {
		logX, logY bool
	}{{false, false}, {true, false}, {false, true}, {true, true}} {
		c, err := newChart(Panel{Series: []Series{s}, LogX: tt.logX, LogY: tt.logY}, map[string]int{"s": 0}, 600, 450)
		if err != nil {
			t.Fatal(err)
		}
		for _, ax := range []struct {
			name string
			log  bool
			norm float64
		}{{"x", tt.logX, c.plot.X.Norm(10)}, {"y", tt.logY, c.plot.Y.Norm(10)}} {
			want := 9.0 / 99
			if ax.log {
				want = 0.5
			}
			if math.Abs(ax.norm-want) > 1e-12 {
				t.Errorf("LogX %v, LogY %v: %s position of 10 = %v, want %v", tt.logX, tt.logY, ax.name, ax.norm, want)
			}
		}
	}
}

func TestLogPanelErrors(t *testing.T) {
	ok := Series{Name: "s", X: []float64{1, 2}, Y: []float64{1, 2}}
	zero, neg := 0.0, -1.0
	tests := []struct {
		name  string
		panel Panel
		want  string
		is    error
	}{
		{"no positive y", Panel{LogY: true, Series: []Series{{Name: "z", X: []float64{1, 2}, Y: []float64{0, -1}}}},
			`series "z": no finite points (a log axis draws only positive values)`, ErrNoFinitePoints},
		{"no positive x", Panel{LogX: true, Series: []Series{{Name: "z", X: []float64{-1, 0}, Y: []float64{1, 2}}}},
			"a log axis draws only positive values", ErrNoFinitePoints},
		{"zero YMin", Panel{LogY: true, YMin: &zero, Series: []Series{ok}}, "YMin = 0 is not positive, as a log y axis needs", nil},
		{"negative YMax", Panel{LogY: true, YMax: &neg, Series: []Series{ok}}, "YMax = -1 is not positive", nil},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := WritePNG(filepath.Join(dir, "log.png"), 0, 0, tt.panel)
			if err == nil {
				t.Fatal("WritePNG succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q is not %v", err, tt.is)
			}
		})
	}
	// A zero YMin is fine on a linear axis next to a log x axis.
	p := Panel{LogX: true, YMin: &zero, Series: []Series{ok}}
	if err := WritePNG(filepath.Join(dir, "ok.png"), 0, 0, p); err != nil {
		t.Errorf("log x with YMin = 0: %v", err)
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"ok.png"}) {
		t.Errorf("directory holds %q, want only ok.png", names)
	}
}
