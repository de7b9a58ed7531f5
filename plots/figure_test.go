package plots

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"
)

// wave returns a series named name over 20 points.
func wave(name string, phase float64) Series {
	s := Series{Name: name}
	for i := range 20 {
		x := float64(i + 1)
		s.X = append(s.X, x)
		s.Y = append(s.Y, 2+math.Sin(x/3+phase))
	}
	return s
}

// panels returns n panels, each with the series named in names.
func panels(n int, names ...string) []Panel {
	ps := make([]Panel, n)
	for i := range ps {
		ps[i].Title = fmt.Sprintf("panel %d", i)
		for j, name := range names {
			ps[i].Series = append(ps[i].Series, wave(name, float64(i+j)))
		}
	}
	return ps
}

// renderImage renders f and decodes the PNG.
func renderImage(t *testing.T, f Figure) image.Image {
	t.Helper()
	b, err := f.render()
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// pixels converts r, in points on a canvas of an image h pixels high, to
// image pixels (whose y axis points down), rounded outwards.
func pixels(r vg.Rectangle, h int) image.Rectangle {
	s := float64(dpi / vg.Inch)
	return image.Rect(
		int(math.Floor(float64(r.Min.X)*s)), h-int(math.Ceil(float64(r.Max.Y)*s)),
		int(math.Ceil(float64(r.Max.X)*s)), h-int(math.Floor(float64(r.Min.Y)*s)))
}

// nonWhite counts the pixels of img in r that are not white.
func nonWhite(img image.Image, r image.Rectangle) int {
	return r.Dx()*r.Dy() - countNear(img, r, color.RGBA{R: 255, G: 255, B: 255}, 0)
}

func TestFigureSize(t *testing.T) {
	tests := []struct {
		name string
		fig  Figure
		want image.Point
	}{
		{"one row by default", Figure{Panels: panels(3, "a")}, image.Pt(1800, 450)},
		{"grid of 13", Figure{Panels: panels(13, "a"), Columns: 4}, image.Pt(4*DefaultPanelWidth, 4*DefaultHeight)},
		{"full grid", Figure{Panels: panels(4, "a"), Columns: 2}, image.Pt(1200, 900)},
		{"columns beyond panels", Figure{Panels: panels(2, "a"), Columns: 5}, image.Pt(1200, 450)},
		{"legend right", Figure{Panels: panels(2, "a", "b"), Legend: LegendRight}, image.Pt(1200, 450)},
		{"legend below", Figure{Panels: panels(5, "a", "b"), Columns: 3, Legend: LegendBelow}, image.Pt(1800, 900)},
		{"explicit", Figure{Panels: panels(5, "a", "b"), Columns: 3, Width: 1001, Height: 777, Legend: LegendRight}, image.Pt(1001, 777)},
		{"smallest grid", Figure{Panels: panels(3, "a"), Columns: 2, Width: 2 * MinPanelWidth, Height: 2 * MinHeight}, image.Pt(400, 400)},
		{"largest", Figure{Panels: panels(2, "a"), Width: MaxSide, Height: MaxSide / 4}, image.Pt(MaxSide, MaxSide/4)},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "size.png")
			if err := tt.fig.WritePNG(path); err != nil {
				t.Fatalf("WritePNG: %v", err)
			}
			if got := decode(t, path).Bounds().Size(); got != tt.want {
				t.Errorf("size = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestFigureGrid draws three panels, each with a series of its own colour,
// in two columns, and checks that each colour is in its panel's quadrant
// only and that the empty fourth cell is blank.
func TestFigureGrid(t *testing.T) {
	ps := []Panel{
		{Title: "a", Series: []Series{wave("a", 0)}},
		{Title: "b", Series: []Series{wave("b", 1)}},
		{Title: "c", Series: []Series{wave("c", 2)}},
	}
	img := renderImage(t, Figure{Panels: ps, Columns: 2})
	b := img.Bounds()
	if got := b.Size(); got != image.Pt(1200, 900) {
		t.Fatalf("size = %v, want 1200×900", got)
	}
	mx, my := b.Dx()/2, b.Dy()/2
	quad := []image.Rectangle{
		image.Rect(0, 0, mx, my), image.Rect(mx, 0, b.Dx(), my),
		image.Rect(0, my, mx, b.Dy()), image.Rect(mx, my, b.Dx(), b.Dy()),
	}
	const enough = 200
	for i := range ps {
		c := styleFor(i).line.Color.(color.RGBA)
		for q, r := range quad {
			n := countNear(img, r, c, 8)
			if q == i && n < enough {
				t.Errorf("series %q: %d pixels of %v in its own cell %d, want at least %d", ps[i].Title, n, c, q, enough)
			}
			if q != i && n != 0 {
				t.Errorf("series %q: %d pixels of %v in cell %d, want none", ps[i].Title, n, c, q)
			}
		}
	}
	for q := range 3 {
		if n := nonWhite(img, quad[q]); n < 5000 {
			t.Errorf("cell %d has %d drawn pixels, want a whole panel", q, n)
		}
	}
	if n := nonWhite(img, quad[3]); n != 0 {
		t.Errorf("the empty cell has %d drawn pixels, want none", n)
	}
}

// TestSharedLegend checks where a figure-wide legend goes, that it shows
// every series' colour, that the panels keep out of it and that it takes
// over from the panels' own legends.
func TestSharedLegend(t *testing.T) {
	// Panel 1 has "c" instead of "a": the legend names all three.
	ps := panels(2, "a", "b")
	ps[1].Series[0].Name = "c"
	for _, placement := range []LegendPlacement{LegendRight, LegendBelow} {
		t.Run(placement.String(), func(t *testing.T) {
			f := Figure{Panels: ps, Columns: 2, Width: 1000, Height: 400, Legend: placement}
			l, err := f.layout()
			if err != nil {
				t.Fatal(err)
			}
			sh := l.shared
			if sh == nil {
				t.Fatal("no shared legend")
			}
			var names []string
			for _, e := range sh.entries {
				names = append(names, e.name)
				if len(e.thumb) == 0 {
					t.Errorf("entry %q has no thumbnail", e.name)
				}
			}
			if want := []string{"a", "b", "c"}; !slices.Equal(names, want) {
				t.Errorf("legend names %q, want %q", names, want)
			}
			for i, c := range l.charts {
				if len(c.legend) != 0 {
					t.Errorf("panel %d keeps a legend of its own", i)
				}
			}

			w, h := px(1000), px(400)
			box := vg.Rectangle{Min: sh.at, Max: vg.Point{X: sh.at.X + sh.w, Y: sh.at.Y + sh.h}}
			if box.Min.X < 0 || box.Min.Y < 0 || box.Max.X > w || box.Max.Y > h {
				t.Fatalf("legend box %v outside the %v×%v image", box, w, h)
			}
			switch placement {
			case LegendRight:
				if l.area.Max.X > box.Min.X || l.area.Min.Y != 0 || l.area.Max.Y != h {
					t.Errorf("panels' area %v overlaps the legend at %v", l.area, box)
				}
				if sh.cols != 1 {
					t.Errorf("legend in %d columns, want 1", sh.cols)
				}
			case LegendBelow:
				if l.area.Min.Y < box.Max.Y || l.area.Min.X != 0 || l.area.Max.X != w {
					t.Errorf("panels' area %v overlaps the legend at %v", l.area, box)
				}
				if sh.cols != 3 {
					t.Errorf("legend in %d columns, want all 3 entries in one row", sh.cols)
				}
				if d := (box.Min.X + box.Max.X - w) / 2; math.Abs(float64(d)) > 0.01 {
					t.Errorf("legend %v off centre by %v pt", box, d)
				}
			}

			b, err := l.draw()
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			lr := pixels(box, 400)
			for i := range 3 {
				c := styleFor(i).line.Color.(color.RGBA)
				if n := countNear(img, lr, c, 8); n < 30 {
					t.Errorf("%d pixels of series %d's colour in the legend, want at least 30", n, i)
				}
			}
			// Beyond the legend's box and the panels' area, nothing is
			// drawn.
			var rest image.Rectangle
			if placement == LegendRight {
				rest = image.Rect(lr.Max.X+1, 0, 1000, 400)
			} else {
				rest = image.Rect(0, lr.Max.Y+1, 1000, 400)
			}
			if n := nonWhite(img, rest); n != 0 {
				t.Errorf("%d pixels drawn in %v, outside the legend and panels", n, rest)
			}
		})
	}
}

func TestLayoutSharedFolds(t *testing.T) {
	names := make([]string, 40)
	for i := range names {
		names[i] = fmt.Sprintf("series %d", i)
	}
	const availW, availH = 400, 150
	l, ok := layoutShared(names, 1, availW, availH)
	if !ok {
		t.Fatal("no layout")
	}
	if l.w > availW || l.h > availH {
		t.Errorf("legend %v×%v pt, want within %v×%v", l.w, l.h, availW, availH)
	}
	if l.size != 7 {
		t.Errorf("text size %d pt, want the smallest, 7", l.size)
	}
	k := len(l.entries) - 1
	if want := fmt.Sprintf("… and %d more", len(names)-k); l.entries[k].name != want {
		t.Errorf("last entry %q, want %q", l.entries[k].name, want)
	}
	for i, e := range l.entries[:k] {
		if e.name != names[i] {
			t.Errorf("entry %d = %q, want %q", i, e.name, names[i])
		}
	}
	// One more entry would not have fitted.
	more := append(slices.Clone(l.entries[:k+1:k+1]), legendEntry{name: fmt.Sprintf("… and %d more", len(names)-k-1)})
	if m := measureShared(7, more, 1); m.h <= availH {
		t.Errorf("%d entries fit in %v pt but only %d were shown", k+1, availH, k)
	}

	// Below the panels, the entries spread over columns.
	l, ok = layoutShared(names[:6], 6, 2000, 100)
	if !ok || l.cols != 6 || l.size != 11 {
		t.Errorf("6 entries across 2000 pt: ok %v, %d columns at %d pt; want 6 columns at 11 pt", ok, l.cols, l.size)
	}
	l, ok = layoutShared(names[:6], 6, 150, 200)
	if !ok || l.cols >= 6 || l.w > 150 {
		t.Errorf("6 entries across 150 pt: ok %v, %d columns %v pt wide; want fewer columns within 150 pt", ok, l.cols, l.w)
	}

	if _, ok := layoutShared([]string{strings.Repeat("long name ", 20)}, 1, 100, 100); ok {
		t.Error("a name wider than the room was laid out")
	}
}

func TestFigureErrors(t *testing.T) {
	ok := panels(4, "a", "b")
	long := panels(2, strings.Repeat("a very long series name ", 4))
	tests := []struct {
		name string
		fig  Figure
		want string
	}{
		{"no panels", Figure{}, "no panels"},
		{"negative columns", Figure{Panels: ok, Columns: -1}, "Columns = -1 is negative"},
		{"unknown legend", Figure{Panels: ok, Legend: 7}, "unknown legend placement LegendPlacement(7)"},
		{"negative legend", Figure{Panels: ok, Legend: -1}, "unknown legend placement LegendPlacement(-1)"},
		{"grid too short", Figure{Panels: ok, Columns: 2, Height: 2*MinHeight - 1}, "too small for 4 panels in 2×2"},
		{"grid too narrow", Figure{Panels: ok, Columns: 2, Width: 2*MinPanelWidth - 1}, "too small"},
		{"grid too tall", Figure{Panels: panels(19, "a"), Columns: 1}, "out of range"},
		{"one row too wide", Figure{Panels: panels(14, "a")}, "set Columns to wrap the panels into rows"},
		{"no room beside", Figure{Panels: ok, Columns: 2, Width: 2 * MinPanelWidth, Legend: LegendRight}, "no room for the legend LegendRight"},
		{"no room below", Figure{Panels: ok, Columns: 2, Height: 2 * MinHeight, Legend: LegendBelow}, "no room for the legend LegendBelow"},
		{"name too long beside", Figure{Panels: long, Width: 2*MinPanelWidth + 100, Legend: LegendRight}, "no room for the legend"},
		{"bad panel", Figure{Panels: []Panel{ok[0], {Title: "x"}}, Columns: 1}, `panel 1 ("x"): no series`},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.fig.WritePNG(filepath.Join(dir, "f.png"))
			if err == nil {
				t.Fatal("WritePNG succeeded, want an error")
			}
			if !strings.HasPrefix(err.Error(), "plots: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to start with \"plots: \" and contain %q", err, tt.want)
			}
		})
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("failed writes left %q", names)
	}
}

func TestLegendPlacementString(t *testing.T) {
	for l, want := range map[LegendPlacement]string{
		LegendInPanels: "LegendInPanels", LegendRight: "LegendRight", LegendBelow: "LegendBelow", 3: "LegendPlacement(3)",
	} {
		if got := l.String(); got != want {
			t.Errorf("LegendPlacement(%d).String() = %q, want %q", int(l), got, want)
		}
	}
}
