// Package plots draws training curves and other line charts as PNG images
// with gonum.org/v1/plot.
//
// A [Figure] is one PNG image: one or more [Panel] values laid out in a grid
// (one row unless Figure.Columns says otherwise), with either a legend in
// each panel or one legend for the whole figure beside or below the panels
// (Figure.Legend). WritePNG is the short form for one row of panels with
// their own legends. Curves builds the standard training report (loss and
// test accuracy per epoch, one line per arm) on top of it.
//
// Every line gets a colour, a dash pattern and a point marker chosen from the
// series name, so the same name looks the same in every panel of one image;
// that is what lets a figure-wide legend describe every panel.
// Non-finite points (NaN or ±Inf in X or Y) are not drawn: the line is broken
// where they occur, which makes a diverged run visible as a gap. A series with
// no finite point at all is an error, [ErrNoFinitePoints], because a legend
// entry without a line would be misleading.
//
// Either axis of a panel can be logarithmic (Panel.LogX, Panel.LogY), in
// base 10. Its ticks are labelled at powers of ten, and also at 2 and 5 times
// them when the axis spans less than two decades. On a log axis a point whose
// value there is zero or negative cannot be drawn and is treated like a
// non-finite point: it is skipped and breaks the line; a series with no
// positive point there is an error like one with no finite point.
//
// Files are written atomically: the image is rendered in memory, then
// written with [atomicfile.Write], so a reader never sees a partial PNG.
//
// The fonts are the Liberation fonts that gonum/plot embeds; no system fonts
// are needed.
package plots

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Default and limiting image sizes, in pixels.
const (
	// DefaultPanelWidth is the width of one grid column (one panel of a
	// row) when WritePNG or a Figure is given a width of 0.
	DefaultPanelWidth = 600
	// DefaultHeight is the height of one grid row (the image height for
	// one row of panels) when WritePNG or a Figure is given a height of 0.
	DefaultHeight = 450
	// MinPanelWidth is the smallest width of one grid column that WritePNG
	// and Figure.WritePNG accept.
	MinPanelWidth = 200
	// MinHeight is the smallest height of one grid row that WritePNG and
	// Figure.WritePNG accept.
	MinHeight = 200
	// MaxSide is the largest image width or height that WritePNG and
	// Figure.WritePNG accept.
	MaxSide = 8192
)

// dpi is the resolution at which points are converted to pixels. At 96 DPI a
// 12 pt label is 16 px tall.
const dpi = vgimg.DefaultDPI

// ErrNoFinitePoints is returned (wrapped) by WritePNG, Figure.WritePNG and
// Curves when a series has no point that can be drawn: none whose X and Y
// are both finite and, on a log axis, positive.
var ErrNoFinitePoints = errors.New("no finite points")

// Series is one named line: Y[i] at X[i].
//
// Points are joined in the order given. A point whose X or Y is NaN or
// infinite, or not positive on a log axis, is skipped and breaks the line in
// two.
type Series struct {
	Name string
	X, Y []float64
}

// Panel is one chart: a title, axis labels and its lines.
//
// YMin and YMax, when not nil, fix the corresponding end of the Y axis;
// otherwise it is fitted to the data. Lines leaving a fixed range are
// clipped. An axis whose data have a single value is widened around it (on a
// log axis, by half a decade each way).
//
// LogX and LogY make the X or the Y axis logarithmic, in base 10. A fixed
// YMin or YMax on a log Y axis must be positive.
type Panel struct {
	Title, XLabel, YLabel string
	Series                []Series
	YMin, YMax            *float64
	LogX, LogY            bool
}

// WritePNG draws the panels side by side, in one row, with a legend in each,
// in one PNG image of width×height pixels, and writes it to path. A width or
// height of 0 means the default size: DefaultPanelWidth pixels per panel
// and DefaultHeight pixels.
//
// It is short for
//
//	Figure{Panels: panels, Width: width, Height: height}.WritePNG(path)
//
// and Figure.WritePNG describes the drawing and the errors.
func WritePNG(path string, width, height int, panels ...Panel) error {
	return Figure{Panels: panels, Width: width, Height: height}.WritePNG(path)
}

// validate reports the first problem with p's contents.
func (p Panel) validate() error {
	if len(p.Series) == 0 {
		return errors.New("no series")
	}
	seen := make(map[string]bool, len(p.Series))
	for i, s := range p.Series {
		if s.Name == "" {
			return fmt.Errorf("series %d has no name", i)
		}
		if seen[s.Name] {
			return fmt.Errorf("duplicate series name %q", s.Name)
		}
		seen[s.Name] = true
		if len(s.X) != len(s.Y) {
			return fmt.Errorf("series %q: len(X) = %d, len(Y) = %d", s.Name, len(s.X), len(s.Y))
		}
		if len(p.segments(s)) == 0 {
			if p.LogX || p.LogY {
				return fmt.Errorf("series %q: %w (a log axis draws only positive values)", s.Name, ErrNoFinitePoints)
			}
			return fmt.Errorf("series %q: %w", s.Name, ErrNoFinitePoints)
		}
	}
	for _, b := range []struct {
		name string
		v    *float64
	}{{"YMin", p.YMin}, {"YMax", p.YMax}} {
		if b.v == nil {
			continue
		}
		if !finite(*b.v) {
			return fmt.Errorf("%s = %v is not finite", b.name, *b.v)
		}
		if p.LogY && *b.v <= 0 {
			return fmt.Errorf("%s = %v is not positive, as a log y axis needs", b.name, *b.v)
		}
	}
	if p.YMin != nil && p.YMax != nil && *p.YMin >= *p.YMax {
		return fmt.Errorf("YMin = %v is not below YMax = %v", *p.YMin, *p.YMax)
	}

	return nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// drawable reports whether the point (x, y) can be drawn in p: both
// coordinates finite, and positive on a log axis.
func (p Panel) drawable(x, y float64) bool {
	return finite(x) && finite(y) && (!p.LogX || x > 0) && (!p.LogY || y > 0)
}

// segments splits s into runs of consecutive points that p can draw.
func (p Panel) segments(s Series) []plotter.XYs {
	var segs []plotter.XYs
	var cur plotter.XYs
	for i := range s.X {
		x, y := s.X[i], s.Y[i]
		if !p.drawable(x, y) {
			if len(cur) > 0 {
				segs = append(segs, cur)
				cur = nil
			}
			continue
		}
		cur = append(cur, plotter.XY{X: x, Y: y})
	}
	if len(cur) > 0 {
		segs = append(segs, cur)
	}
	return segs
}

// chart is a panel turned into a gonum plot, with the legend kept aside so
// that it can be placed after the layout is known.
type chart struct {
	plot   *plot.Plot
	legend []legendEntry
	lines  []plotter.XYs // every drawn segment, to place the legend
}

type legendEntry struct {
	name  string
	thumb []plot.Thumbnailer
}

// newChart builds the gonum plot for p, to be drawn about w×h pixels large.
// styles maps series names to style indices.
func newChart(p Panel, styles map[string]int, w, h int) (*chart, error) {
	plt := plot.New()
	plt.Title.Text = p.Title
	plt.Title.TextStyle.Font.Size = vg.Points(14)
	plt.Title.Padding = vg.Points(6)
	// gonum places the title at the top of the panel's canvas, whose
	// height above the data area varies with the tick labels and markers at
	// the top edge, so titles in a row of panels would not line up. It
	// keeps room for the title, drawn invisibly; drawTitle draws it at a
	// fixed height above the data area.
	plt.Title.TextStyle.Color = color.Transparent
	plt.X.Label.Text = p.XLabel
	plt.Y.Label.Text = p.YLabel
	plt.X.Label.Padding = vg.Points(2)
	plt.Y.Label.Padding = vg.Points(2)
	plt.Add(plotter.NewGrid())

	c := &chart{plot: plt}
	allInt := true
	for _, s := range p.Series {
		st := styleFor(styles[s.Name])
		segs := p.segments(s)
		n := 0
		for _, seg := range segs {
			n += len(seg)
		}
		every := 1
		if n > maxMarkers+maxMarkers/4 {
			every = (n + maxMarkers - 1) / maxMarkers
		}

		var marks plotter.XYs
		var first *plotter.Line
		k := 0
		for _, seg := range segs {
			for _, pt := range seg {
				if pt.X != math.Trunc(pt.X) {
					allInt = false
				}
				if len(seg) == 1 || k%every == 0 {
					marks = append(marks, pt)
				}
				k++
			}
			l, err := plotter.NewLine(seg)
			if err != nil {
				return nil, fmt.Errorf("series %q: %w", s.Name, err)
			}
			l.LineStyle = st.line
			plt.Add(l)
			c.lines = append(c.lines, seg)
			if first == nil {
				first = l
			}
		}
		sc, err := plotter.NewScatter(marks)
		if err != nil {
			return nil, fmt.Errorf("series %q: %w", s.Name, err)
		}
		sc.GlyphStyle = st.glyph
		plt.Add(sc)
		c.legend = append(c.legend, legendEntry{name: s.Name, thumb: []plot.Thumbnailer{first, sc}})
	}
	// About one labelled tick per 90 px across and 70 px up.
	nx, ny := clamp(w/90, 2, 8), clamp(h/70, 2, 8)
	var err error
	if p.LogX {
		plt.X.Scale = plot.LogScale{}
		plt.X.Tick.Marker = logTicker{n: nx}
		plt.X.Min, plt.X.Max, err = logAxisRange(plt.X.Min, plt.X.Max, nil, nil)
	} else {
		plt.X.Tick.Marker = niceTicker{n: nx, integer: allInt}
		plt.X.Min, plt.X.Max, err = axisRange(plt.X.Min, plt.X.Max, nil, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("x %w", err)
	}
	if p.LogY {
		plt.Y.Scale = plot.LogScale{}
		plt.Y.Tick.Marker = logTicker{n: ny}
		plt.Y.Min, plt.Y.Max, err = logAxisRange(plt.Y.Min, plt.Y.Max, p.YMin, p.YMax)
	} else {
		plt.Y.Tick.Marker = niceTicker{n: ny}
		plt.Y.Min, plt.Y.Max, err = axisRange(plt.Y.Min, plt.Y.Max, p.YMin, p.YMax)
	}
	if err != nil {
		return nil, fmt.Errorf("y %w", err)
	}
	return c, nil
}

// axisRange returns the range of an axis whose data span [lo, hi], with
// the fixed ends fixLo and fixHi where not nil. An empty range is widened
// (away from a fixed end) by a tenth of its magnitude, and at least by 1.
// A range whose length overflows a float64 is an error: it cannot be scaled.
func axisRange(lo, hi float64, fixLo, fixHi *float64) (float64, float64, error) {
	if fixLo != nil {
		lo = *fixLo
	}
	if fixHi != nil {
		hi = *fixHi
	}
	widen := func(v float64) float64 { return math.Max(1, math.Abs(v)/10) }
	if hi <= lo {
		switch {
		case fixLo != nil:
			hi = lo + widen(lo)
		case fixHi != nil:
			lo = hi - widen(hi)
		default:
			lo, hi = lo-widen(lo), hi+widen(hi)
		}
	}
	if d := hi - lo; !finite(d) || d <= 0 {
		return lo, hi, fmt.Errorf("range [%v, %v] too wide to draw", lo, hi)
	}
	return lo, hi, nil
}

// maxMarkers is about the most point markers drawn on one series.
const maxMarkers = 20

// niceTicker places about n labelled ticks at round numbers (1, 2 or 5
// times a power of ten apart) and unlabelled minor ticks between them. If
// integer is set, as for an axis of epochs, every tick is a whole number.
type niceTicker struct {
	n       int
	integer bool
}

func clamp(v, lo, hi int) int { return min(max(v, lo), hi) }

// Ticks implements plot.Ticker.
func (t niceTicker) Ticks(lo, hi float64) []plot.Tick {
	span := hi - lo
	if !finite(span) || span <= 0 {
		return endTicks(lo, hi)
	}
	raw := span / float64(max(t.n, 1))
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	var step float64
	var minors int
	switch norm := raw / mag; {
	case norm < math.Sqrt2: // nearest of 1, 2, 5 and 10 on a log scale
		step, minors = mag, 5
	case norm < math.Sqrt(10):
		step, minors = 2*mag, 4
	case norm < math.Sqrt(50):
		step, minors = 5*mag, 5
	default:
		step, minors = 10*mag, 5
	}
	if t.integer && step < 1 {
		step, minors = 1, 1
	}
	minor := step / float64(minors)
	if t.integer && minor != math.Trunc(minor) {
		minor = step
	}
	if !(minor > 0) || !finite(step) { // span near the smallest float64
		return endTicks(lo, hi)
	}
	prec := 0
	if step < 1 {
		prec = int(math.Ceil(-math.Log10(step) - 1e-9))
	}
	label := func(v float64) string {
		if v == 0 {
			return "0"
		}
		if a := math.Abs(v); a >= 1e6 || a < 1e-4 {
			// Enough significant digits to tell neighbours apart.
			digits := clamp(int(math.Ceil(math.Log10(a/step)+1e-9))+1, 1, 15)
			return strconv.FormatFloat(v, 'g', digits, 64)
		}
		return strconv.FormatFloat(v, 'f', prec, 64)
	}

	const eps = 1e-9
	k0, k1 := math.Ceil(lo/minor-eps), math.Floor(hi/minor+eps)
	if !(k1-k0 <= 1000) || math.Max(math.Abs(lo), math.Abs(hi)) > 1e12*span {
		// The span is too small against the values to step through.
		return endTicks(lo, hi)
	}
	var ticks []plot.Tick
	for k := k0; k <= k1; k++ {
		v := k * minor
		if m := math.Mod(math.Abs(k), float64(minors)); minor != step && m > eps && m < float64(minors)-eps {
			ticks = append(ticks, plot.Tick{Value: v})
			continue
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: label(v)})
	}
	return ticks
}

// endTicks labels just the ends of an axis whose range is too narrow or
// too wide for niceTicker. (gonum's own ticker can loop for a very long time
// on such ranges.)
func endTicks(lo, hi float64) []plot.Tick {
	return []plot.Tick{
		{Value: lo, Label: strconv.FormatFloat(lo, 'g', -1, 64)},
		{Value: hi, Label: strconv.FormatFloat(hi, 'g', -1, 64)},
	}
}

// drawTitle draws the chart's title centred above its data area da, at the
// same height for every chart whose data area has the same top.
func (c *chart) drawTitle(da draw.Canvas) {
	t := c.plot.Title
	if t.Text == "" {
		return
	}
	sty := t.TextStyle
	sty.Color = color.Black
	// Clear of a tick label centred on the top edge of the data area.
	overhang := c.plot.Y.Tick.Label.Rectangle("0").Size().Y / 2
	top := da.Max.Y + overhang + t.Padding + sty.Rectangle(t.Text).Size().Y
	da.FillText(sty, vg.Point{X: da.Center().X, Y: top + sty.FontExtents().Descent}, t.Text)
}

// drawLegend draws the chart's legend, on a white box, in the corner of the
// data area da that covers the fewest line samples.
func (c *chart) drawLegend(da draw.Canvas) {
	if len(c.legend) == 0 {
		return
	}
	const (
		inset  = legInset
		margin = legInner
	)
	// Use the largest font, down to 7 pt, at which the legend fits in the
	// data area. If it does not fit even at 7 pt, list as many entries as
	// fit and then "… and N more".
	availW, availH := da.Size().X-2*inset, da.Size().Y-2*inset
	entries := c.legend
	var (
		leg        plot.Legend
		boxW, boxH vg.Length
	)
	for size := 11; size >= 7; size-- {
		leg = newLegend(size)
		w, h := legendSize(leg, entries)
		boxW, boxH = w+2*margin, h+2*margin
		if boxW <= availW && boxH <= availH {
			break
		}
	}
	if boxH > availH {
		entries = nil
		for k := len(c.legend) - 1; k >= 1; k-- {
			try := append(c.legend[:k:k], legendEntry{name: fmt.Sprintf("… and %d more", len(c.legend)-k)})
			w, h := legendSize(leg, try)
			if h+2*margin <= availH {
				entries, boxW, boxH = try, w+2*margin, h+2*margin
				break
			}
		}
		if entries == nil { // not even one entry fits: no legend
			return
		}
	}
	for _, e := range entries {
		leg.Add(e.name, e.thumb...)
	}

	corners := []vg.Point{ // box minimum, best first when tied
		{X: da.Max.X - inset - boxW, Y: da.Max.Y - inset - boxH}, // top right
		{X: da.Min.X + inset, Y: da.Max.Y - inset - boxH},        // top left
		{X: da.Max.X - inset - boxW, Y: da.Min.Y + inset},        // bottom right
		{X: da.Min.X + inset, Y: da.Min.Y + inset},               // bottom left
	}
	trX, trY := c.plot.Transforms(&da)
	best, bestHits := corners[0], -1
	for _, at := range corners {
		box := vg.Rectangle{Min: at, Max: vg.Point{X: at.X + boxW, Y: at.Y + boxH}}
		hits := 0
		for _, seg := range c.lines {
			hits += lineHits(box, seg, trX, trY)
		}
		if bestHits < 0 || hits < bestHits {
			best, bestHits = at, hits
		}
	}

	box := vg.Rectangle{Min: best, Max: vg.Point{X: best.X + boxW, Y: best.Y + boxH}}
	drawLegendBox(da, box)

	inner := draw.Canvas{Canvas: da.Canvas, Rectangle: vg.Rectangle{
		Min: vg.Point{X: box.Min.X + margin, Y: box.Min.Y + margin},
		Max: vg.Point{X: box.Max.X - margin, Y: box.Max.Y - margin},
	}}
	leg.Draw(inner)
}

// newLegend returns an empty legend, drawn from the top left, with text of
// the given size in points.
func newLegend(size int) plot.Legend {
	leg := plot.NewLegend()
	leg.Top, leg.Left = true, true
	leg.Padding = vg.Points(2)
	leg.ThumbnailWidth = vg.Points(28)
	leg.TextStyle.Font.Size = vg.Points(float64(size))
	return leg
}

// legendSize returns the size of leg's contents as Legend.Draw lays them
// out with Top and Left set.
func legendSize(leg plot.Legend, entries []legendEntry) (w, h vg.Length) {
	sty := leg.TextStyle
	var textW, entryH vg.Length
	for _, e := range entries {
		if r := sty.Rectangle(" " + e.name); r.Max.X > textW {
			textW = r.Max.X
		}
		if r := sty.Rectangle(e.name); r.Max.Y > entryH {
			entryH = r.Max.Y
		}
	}
	n := vg.Length(len(entries))
	return leg.ThumbnailWidth + textW, sty.FontExtents().Descent + n*entryH + (n-1)*leg.Padding
}

// lineHits counts samples, about 2 pt apart, of the polyline pts (in data
// coordinates) that fall inside box.
func lineHits(box vg.Rectangle, pts plotter.XYs, trX, trY func(float64) vg.Length) int {
	in := func(p vg.Point) bool {
		return p.X >= box.Min.X && p.X <= box.Max.X && p.Y >= box.Min.Y && p.Y <= box.Max.Y
	}
	hits := 0
	prev := vg.Point{X: trX(pts[0].X), Y: trY(pts[0].Y)}
	if in(prev) {
		hits++
	}
	for _, q := range pts[1:] {
		cur := vg.Point{X: trX(q.X), Y: trY(q.Y)}
		d := math.Hypot(float64(cur.X-prev.X), float64(cur.Y-prev.Y))
		steps := int(math.Min(d/2, 10000)) + 1
		for k := 1; k <= steps; k++ {
			t := vg.Length(float64(k) / float64(steps))
			if in(vg.Point{X: prev.X + t*(cur.X-prev.X), Y: prev.Y + t*(cur.Y-prev.Y)}) {
				hits++
			}
		}
		prev = cur
	}
	return hits
}

// style is the look of one series.
type style struct {
	line  draw.LineStyle
	glyph draw.GlyphStyle
}

// palette is the colour cycle (matplotlib's "tab10"), dark enough to read on
// white and distinct from the grey of the axes and grid.
var palette = []color.RGBA{
	{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, // blue
	{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}, // orange
	{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}, // green
	{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, // red
	{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}, // purple
	{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff}, // brown
	{R: 0xe3, G: 0x77, B: 0xc2, A: 0xff}, // pink
	{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff}, // grey
	{R: 0xbc, G: 0xbd, B: 0x22, A: 0xff}, // olive
	{R: 0x17, G: 0xbe, B: 0xcf, A: 0xff}, // cyan
}

// dashes is the dash-pattern cycle; its length is coprime with the
// palette's so that colour and dash together repeat only after 70 names.
var dashes = [][]vg.Length{
	nil, // solid
	{vg.Points(7), vg.Points(3)},
	{vg.Points(2), vg.Points(2)},
	{vg.Points(8), vg.Points(3), vg.Points(2), vg.Points(3)},
	{vg.Points(4), vg.Points(4)},
	{vg.Points(12), vg.Points(4)},
	{vg.Points(8), vg.Points(2), vg.Points(2), vg.Points(2), vg.Points(2), vg.Points(2)},
}

// glyphs is the marker cycle; filled shapes first.
var glyphs = []draw.GlyphDrawer{
	draw.CircleGlyph{},
	draw.BoxGlyph{},
	draw.PyramidGlyph{},
	draw.RingGlyph{},
	draw.SquareGlyph{},
	draw.TriangleGlyph{},
	draw.CrossGlyph{},
	draw.PlusGlyph{},
}

// styleFor returns the style of the i'th distinct series name.
func styleFor(i int) style {
	col := palette[i%len(palette)]
	return style{
		line: draw.LineStyle{
			Color:  col,
			Width:  vg.Points(2),
			Dashes: dashes[i%len(dashes)],
		},
		glyph: draw.GlyphStyle{
			Color:  col,
			Radius: vg.Points(3),
			Shape:  glyphs[i%len(glyphs)],
		},
	}
}
