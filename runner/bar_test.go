package runner

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/glr-project/glr/configs"
)

// TestProgressBarFits draws progress bars into a buffer as a terminal of
// each width would get them, mid-epoch (with the count, rate and times)
// and at the end, and checks that no line reaches the last column, so
// that none wraps, while the bar itself is still drawn.
func TestProgressBarFits(t *testing.T) {
	cases := []struct {
		cols  int
		arm   string
		steps int
		want  []string // parts the mid-epoch line must show
	}{
		{80, "glr", 1875, []string{"/1875", "steps/", "]"}},
		{80, strings.Repeat("a-long-arm-name-", 8), 1875, []string{"/1875", "…"}},
		{40, "glr", 1875, nil},
		{40, "bp-ste-surrogate", 469, nil},
		{120, "glr", 1875, []string{"/1875", "steps/", "]"}},
		{24, "glr", 100000, nil},
	}
	for _, c := range cases {
		var log strings.Builder
		tr := &trainer{arm: &configs.ArmConfig{Name: c.arm, Experiment: configs.Experiment{Train: configs.Train{Epochs: 10}}},
			opts: RunOptions{Progress: true, Columns: c.cols, Log: &log}}
		bar := tr.newBar(c.steps, 3)
		// The bar redraws at most every 100 ms: pause so that mid-epoch
		// lines are drawn.
		for i := 0; i < 3; i++ {
			bar.Add(c.steps / 10)
			time.Sleep(120 * time.Millisecond)
		}
		bar.Add(1)
		mid := log.String()
		bar.Finish()
		lines := strings.FieldsFunc(log.String(), func(r rune) bool { return r == '\r' || r == '\n' })
		drawn := false
		for _, l := range lines {
			if n := utf8.RuneCountInString(l); n >= c.cols {
				t.Errorf("%d columns, arm %.10s…: a line of %d characters: %q", c.cols, c.arm, n, l)
			}
			if strings.Count(l, "|") == 2 && strings.Contains(l, "%") {
				drawn = true
			}
		}
		if !drawn {
			t.Errorf("%d columns: no bar drawn in %q", c.cols, log.String())
		}
		midLines := strings.FieldsFunc(mid, func(r rune) bool { return r == '\r' || r == '\n' })
		last := strings.TrimRight(midLines[len(midLines)-1], " ")
		for _, w := range c.want {
			if !strings.Contains(last, w) {
				t.Errorf("%d columns: the mid-epoch line %q lacks %q", c.cols, last, w)
			}
		}
	}
}

func TestLayoutBar(t *testing.T) {
	cases := []struct {
		cols             int
		desc             string
		count, rate, eta bool
		minWidth         int
	}{
		{80, "glr 3/10", true, true, true, 10},
		{60, "glr 3/10", true, false, true, 10},
		{40, "glr 3/10", false, false, false, 10},
		{200, "glr 3/10", true, true, true, 100},
	}
	for _, c := range cases {
		l := layoutBar(c.cols, c.desc, 1875)
		if l.count != c.count || l.rate != c.rate || l.eta != c.eta || l.width < c.minWidth {
			t.Errorf("%d columns: layout %+v, want count %v, rate %v, times %v and a bar of at least %d", c.cols, l, c.count, c.rate, c.eta, c.minWidth)
		}
	}
}

func TestLineWriter(t *testing.T) {
	var b strings.Builder
	w := &lineWriter{w: &b, max: 5}
	w.Write([]byte("\rabcdefgh"))
	w.Write([]byte("ij\r∂∂∂∂∂∂\n12"))
	w.Write([]byte("3456"))
	if want := "\rabcde\r∂∂∂∂∂\n12345"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}
