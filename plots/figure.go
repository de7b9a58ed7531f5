package plots

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"

	"github.com/glr-project/glr/internal/atomicfile"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// LegendPlacement says where a Figure names its series.
type LegendPlacement int

const (
	// LegendInPanels, the zero value, draws a legend inside each panel,
	// naming that panel's series, in the corner of the panel where it
	// covers the fewest lines.
	LegendInPanels LegendPlacement = iota
	// LegendRight draws one legend for the whole figure, right of the
	// panels, naming each series once. It suits a figure whose panels show
	// the same series (arms, layers) under different conditions.
	LegendRight
	// LegendBelow is LegendRight with the legend centred below the panels,
	// its entries in as many columns as fit across the image.
	LegendBelow
)

// String returns the constant's name, as "LegendRight".
func (l LegendPlacement) String() string {
	switch l {
	case LegendInPanels:
		return "LegendInPanels"
	case LegendRight:
		return "LegendRight"
	case LegendBelow:
		return "LegendBelow"
	}
	return fmt.Sprintf("LegendPlacement(%d)", int(l))
}

// Figure is one PNG image of one or more panels laid out in a grid.
//
// The panels fill the grid row by row, Columns to a row (all of them in
// one row if Columns is 0; a Columns above len(Panels) counts as
// len(Panels)); cells left over in the last row stay empty. Panels in the
// same grid column share their data area's width, and panels in the same
// row its height, so that the axes line up.
//
// Width and Height are the image size in pixels. A Width of 0 means
// DefaultPanelWidth pixels per grid column and a Height of 0 means
// DefaultHeight pixels per row. The size never depends on the legend: a
// figure-wide legend takes its room from the panels.
//
// Legend says where the series are named; see LegendPlacement.
type Figure struct {
	Panels        []Panel
	Width, Height int
	Columns       int
	Legend        LegendPlacement
}

// WritePNG draws f and writes it to path as a PNG file.
//
// Lines get distinct colours, dash patterns and point markers. Styles are
// assigned by series name in order of first appearance across all panels,
// so a name has the same style in every panel. Colours repeat after ten
// names; the combination of colour, dash and marker repeats much later.
// Markers are drawn at every point of a short series and at about 20 evenly
// spaced points of a long one, and always at a point standing alone between
// points that cannot be drawn.
//
// With LegendInPanels each panel gets a legend on a white box, placed in the
// corner of the panel where it covers the least of the lines; its text
// shrinks, from 11 pt down to 7 pt, to fit a small panel, and if it still
// does not fit its last entries are folded into "… and N more". With
// LegendRight or LegendBelow one legend, in the same style, names every
// series of the figure once, in order of first appearance, and shrinks and
// folds the same way to leave each panel at least MinPanelWidth×MinHeight
// pixels.
//
// WritePNG returns an error, and writes nothing, if there are no panels, a
// panel has no series, a series has no name or shares it with another series
// in the same panel, a series' X and Y differ in length, a series has no
// point that can be drawn (ErrNoFinitePoints), a fixed Y bound is not finite
// (or not positive on a log axis) or YMin >= YMax, an axis would span more
// than a float64 can hold, Columns is negative, Legend is not one of the
// LegendPlacement constants, the size is out of range (each side at most
// MaxSide pixels, and at least MinPanelWidth pixels per grid column and
// MinHeight per row), or a figure-wide legend leaves less than that to the
// panels.
//
// The file is replaced atomically with atomicfile.Write: the PNG goes to a
// temporary file in the directory of path, is synced to disk, and is renamed
// over path, with mode 0644 masked by the umask. On error path is left as it
// was.
func (f Figure) WritePNG(path string) error {
	if path == "" {
		return errors.New("plots: empty output path")
	}
	data, err := f.render()
	if err != nil {
		return err
	}
	err = atomicfile.Write(path, 0o644, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
	if err != nil {
		return fmt.Errorf("plots: writing PNG: %w", err)
	}
	return nil
}

// Spacing of the layout, in points.
const (
	pad      = vg.Length(8)  // around the image's edges
	padX     = vg.Length(24) // between grid columns
	padY     = vg.Length(14) // between grid rows
	legInset = vg.Length(6)  // from a data area's edge to its legend box
	legInner = vg.Length(4)  // from a legend box's edge to its contents
	legColX  = vg.Length(14) // between columns of a figure-wide legend
)

// px converts a length in pixels to points.
func px(n int) vg.Length { return vg.Length(n) * vg.Inch / dpi }

// grid is the validated shape of a figure.
type grid struct {
	width, height int // image size, pixels
	cols, rows    int
}

// grid validates f's options and returns its shape.
func (f Figure) grid() (grid, error) {
	n := len(f.Panels)
	if n == 0 {
		return grid{}, errors.New("plots: no panels")
	}
	if f.Columns < 0 {
		return grid{}, fmt.Errorf("plots: Columns = %d is negative", f.Columns)
	}
	if f.Legend < LegendInPanels || f.Legend > LegendBelow {
		return grid{}, fmt.Errorf("plots: unknown legend placement %v", f.Legend)
	}
	g := grid{cols: n, width: f.Width, height: f.Height}
	if f.Columns > 0 {
		g.cols = min(f.Columns, n)
	}
	g.rows = (n + g.cols - 1) / g.cols
	if g.width == 0 {
		g.width = DefaultPanelWidth * g.cols
	}
	if g.height == 0 {
		g.height = DefaultHeight * g.rows
	}
	if g.width < 0 || g.height < 0 || g.width > MaxSide || g.height > MaxSide {
		hint := ""
		if f.Width == 0 && f.Columns == 0 && g.width > MaxSide {
			hint = "; set Columns to wrap the panels into rows"
		}
		return grid{}, fmt.Errorf("plots: image size %d×%d out of range (each side 0 or up to %d px%s)", g.width, g.height, MaxSide, hint)
	}
	if g.width < MinPanelWidth*g.cols || g.height < MinHeight*g.rows {
		return grid{}, fmt.Errorf("plots: image size %d×%d too small for %d panels in %d×%d (at least %d px wide and %d px high per panel)",
			g.width, g.height, n, g.rows, g.cols, MinPanelWidth, MinHeight)
	}
	return g, nil
}

// render validates f and returns the encoded PNG.
func (f Figure) render() ([]byte, error) {
	l, err := f.layout()
	if err != nil {
		return nil, err
	}
	return l.draw()
}

// figureLayout is a validated figure ready to draw: its grid, the area of
// the image (in points) that the panels share, their charts, and the
// figure-wide legend, or nil.
type figureLayout struct {
	grid
	area   vg.Rectangle
	charts []*chart
	shared *sharedLegend
}

// layout validates f and lays it out.
func (f Figure) layout() (*figureLayout, error) {
	g, err := f.grid()
	if err != nil {
		return nil, err
	}
	styles := make(map[string]int) // series name → style index
	var names []string             // in order of first appearance
	for i, p := range f.Panels {
		if err := p.validate(); err != nil {
			return nil, fmt.Errorf("plots: panel %d (%q): %w", i, p.Title, err)
		}
		for _, s := range p.Series {
			if _, ok := styles[s.Name]; !ok {
				styles[s.Name] = len(styles)
				names = append(names, s.Name)
			}
		}
	}

	// The panels' area: the image less the room of a figure-wide legend.
	w, h := px(g.width), px(g.height)
	area := vg.Rectangle{Max: vg.Point{X: w, Y: h}}
	var shared *sharedLegend
	if f.Legend != LegendInPanels {
		var ok bool
		switch f.Legend {
		case LegendRight:
			shared, ok = layoutShared(names, 1, w-2*pad-px(MinPanelWidth*g.cols), h-2*pad)
			if ok {
				shared.at = vg.Point{X: w - pad - shared.w, Y: (h - shared.h) / 2}
				area.Max.X = shared.at.X
			}
		case LegendBelow:
			shared, ok = layoutShared(names, len(names), w-2*pad, h-2*pad-px(MinHeight*g.rows))
			if ok {
				shared.at = vg.Point{X: (w - shared.w) / 2, Y: pad}
				area.Min.Y = pad + shared.h
			}
		}
		if !ok {
			return nil, fmt.Errorf("plots: no room for the legend %s in a %d×%d image of %d×%d panels (each at least %d×%d px)",
				f.Legend, g.width, g.height, g.rows, g.cols, MinPanelWidth, MinHeight)
		}
	}

	// Each panel is drawn in a cell about cellW×cellH pixels large.
	cellW := int(area.Size().X*dpi/vg.Inch) / g.cols
	cellH := int(area.Size().Y*dpi/vg.Inch) / g.rows
	charts := make([]*chart, len(f.Panels))
	for i, p := range f.Panels {
		c, err := newChart(p, styles, cellW, cellH)
		if err != nil {
			return nil, fmt.Errorf("plots: panel %d (%q): %w", i, p.Title, err)
		}
		charts[i] = c
	}
	if shared != nil {
		shared.addThumbs(charts)
		for _, c := range charts {
			c.legend = nil // named by the shared legend instead
		}
	}
	return &figureLayout{grid: g, area: area, charts: charts, shared: shared}, nil
}

// draw lays the charts out in their grid within the area, draws the shared
// legend if any, and returns the image PNG-encoded.
func (l *figureLayout) draw() (out []byte, err error) {
	// gonum/plot reports some impossible layouts by panicking. The inputs
	// are validated above, so this is a safety net that keeps the promise
	// that bad input gives an error rather than a crash.
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("plots: drawing failed: %v", r)
		}
	}()

	g, charts := l.grid, l.charts
	img := image.NewRGBA(image.Rect(0, 0, g.width, g.height))
	cnv := vgimg.NewWith(vgimg.UseImage(img), vgimg.UseDPI(dpi))
	dc := draw.New(cnv)

	plots := make([][]*plot.Plot, g.rows)
	for r := range plots {
		plots[r] = make([]*plot.Plot, g.cols)
		for c := range plots[r] {
			if i := r*g.cols + c; i < len(charts) {
				plots[r][c] = charts[i].plot
			}
		}
	}
	tiles := draw.Tiles{
		Rows: g.rows, Cols: g.cols,
		PadTop: pad, PadBottom: pad, PadLeft: pad, PadRight: pad + vg.Points(4),
		PadX: padX, PadY: padY,
	}
	canvases := plot.Align(plots, tiles, draw.Canvas{Canvas: dc.Canvas, Rectangle: l.area})
	for i, c := range charts {
		cv := canvases[i/g.cols][i%g.cols]
		c.plot.Draw(cv)
		da := c.plot.DataCanvas(cv)
		c.drawTitle(da)
		c.drawLegend(da)
	}
	if l.shared != nil {
		l.shared.draw(dc)
	}

	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: cnv}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("plots: encoding PNG: %w", err)
	}
	return buf.Bytes(), nil
}

// sharedLegend is the layout of a figure-wide legend: its entries in cols
// columns, filled row by row, on a box of w×h points whose lower left corner
// is at.
type sharedLegend struct {
	size    int // text size, points
	entries []legendEntry
	cols    int
	colW    []vg.Length // width of each column's contents
	w, h    vg.Length
	at      vg.Point
}

// layoutShared lays out a legend naming names in at most maxCols columns
// within availW×availH points: the largest text size from 11 pt down to 7 pt
// at which it fits, in as many columns as fit across; failing that, at 7 pt
// with its last entries folded into "… and N more". It reports false if not
// even one entry fits.
func layoutShared(names []string, maxCols int, availW, availH vg.Length) (*sharedLegend, bool) {
	entries := make([]legendEntry, len(names))
	for i, n := range names {
		entries[i] = legendEntry{name: n}
	}
	// fit returns the layout of es at size in the most columns that fit
	// across, if any.
	fit := func(size int, es []legendEntry) (*sharedLegend, bool) {
		for cols := min(maxCols, len(es)); cols >= 1; cols-- {
			l := measureShared(size, es, cols)
			if l.w <= availW {
				return l, true
			}
		}
		return nil, false
	}
	for size := 11; size >= 7; size-- {
		if l, ok := fit(size, entries); ok && l.h <= availH {
			return l, true
		}
	}
	for k := len(entries) - 1; k >= 1; k-- {
		try := append(entries[:k:k], legendEntry{name: fmt.Sprintf("… and %d more", len(entries)-k)})
		if l, ok := fit(7, try); ok && l.h <= availH {
			return l, true
		}
	}
	return nil, false
}

// measureShared returns the layout of entries at size points in cols
// columns, the box's size included.
func measureShared(size int, entries []legendEntry, cols int) *sharedLegend {
	l := &sharedLegend{size: size, entries: entries, cols: cols, colW: make([]vg.Length, cols)}
	leg := newLegend(size)
	for c := range cols {
		w, h := legendSize(leg, l.column(c))
		l.colW[c] = w
		l.w += w
		l.h = max(l.h, h)
	}
	l.w += vg.Length(cols-1)*legColX + 2*legInner
	l.h += 2 * legInner
	return l
}

// column returns the entries of column c, which are entries c, c+cols, ...
func (l *sharedLegend) column(c int) []legendEntry {
	var es []legendEntry
	for i := c; i < len(l.entries); i += l.cols {
		es = append(es, l.entries[i])
	}
	return es
}

// addThumbs gives each entry the line and marker of its series where it
// first appears in charts; all appearances look the same.
func (l *sharedLegend) addThumbs(charts []*chart) {
	thumbs := make(map[string][]plot.Thumbnailer)
	for _, c := range charts {
		for _, e := range c.legend {
			if thumbs[e.name] == nil {
				thumbs[e.name] = e.thumb
			}
		}
	}
	for i := range l.entries {
		l.entries[i].thumb = thumbs[l.entries[i].name]
	}
}

// draw draws the legend on dc.
func (l *sharedLegend) draw(dc draw.Canvas) {
	box := vg.Rectangle{Min: l.at, Max: vg.Point{X: l.at.X + l.w, Y: l.at.Y + l.h}}
	drawLegendBox(dc, box)
	x := box.Min.X + legInner
	for c := range l.cols {
		leg := newLegend(l.size)
		for _, e := range l.column(c) {
			leg.Add(e.name, e.thumb...)
		}
		leg.Draw(draw.Canvas{Canvas: dc.Canvas, Rectangle: vg.Rectangle{
			Min: vg.Point{X: x, Y: box.Min.Y + legInner},
			Max: vg.Point{X: x + l.colW[c], Y: box.Max.Y - legInner},
		}})
		x += l.colW[c] + legColX
	}
}

// drawLegendBox draws the white, grey-edged box behind a legend.
func drawLegendBox(c draw.Canvas, box vg.Rectangle) {
	c.SetColor(color.NRGBA{R: 255, G: 255, B: 255, A: 230})
	c.Fill(box.Path())
	c.SetLineStyle(draw.LineStyle{Color: color.Gray{Y: 160}, Width: vg.Points(0.75)})
	c.Stroke(box.Path())
}
