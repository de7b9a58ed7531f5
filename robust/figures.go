package robust

import (
	"cmp"
	"path/filepath"
	"slices"

	"github.com/glr-project/glr/corrupt"
	"github.com/glr-project/glr/plots"
)

// titles are the panel titles of the attack sets.
var titles = map[string]string{
	SetFGSMTransfer: "FGSM, transfer from the substitute",
	SetFGSM:         "FGSM (white box)",
	SetPGD:          "PGD (white box)",
	SetBPDAPGD:      "BPDA-PGD",
	SetZOFGSM:       "zeroth-order FGSM",
	SetZOPGD:        "zeroth-order PGD",
	SetSquare:       "Square Attack (score-based)",
	SetHopSkipJump:  "HopSkipJump (decision-based)",
	SetWorst:        "worst case of the attacks",
}

// writeFigures writes accuracy-vs-eps.png, one panel per ε-bounded set and
// the worst case, and accuracy-vs-severity.png, one panel per corruption,
// each with a line per model that starts at the clean accuracy at ε or
// severity 0, the accuracy axis fixed to [0, 1], and one legend for the
// figure. A figure without panels is not written.
func writeFigures(dir string, rows []Row) error {
	var attacks, corruptions []string
	for _, r := range rows {
		switch {
		case budgeted(r.Set) || r.Set == SetWorst:
			if !slices.Contains(attacks, r.Set) {
				attacks = append(attacks, r.Set)
			}
		case slices.Contains(corrupt.Names(), r.Set):
			if !slices.Contains(corruptions, r.Set) {
				corruptions = append(corruptions, r.Set)
			}
		}
	}
	if len(attacks) > 0 {
		if err := writeFigure(filepath.Join(dir, EpsFigure), panels(rows, attacks, "ε (L∞)")); err != nil {
			return err
		}
	}
	if len(corruptions) > 0 {
		return writeFigure(filepath.Join(dir, SeverityFigure), panels(rows, corruptions, "severity (0: clean)"))
	}
	return nil
}

// panels returns a panel per set: a series per model of accuracy against
// the parameter, from the clean accuracy at 0.
func panels(rows []Row, sets []string, xlabel string) []plots.Panel {
	clean := map[string]float64{}
	var models []string
	for _, r := range rows {
		if !slices.Contains(models, r.Model) {
			models = append(models, r.Model)
		}
		if r.Set == SetClean {
			clean[r.Model] = r.Accuracy
		}
	}
	lo, hi := 0.0, 1.0
	var out []plots.Panel
	for _, set := range sets {
		title := titles[set]
		if title == "" {
			title = set
		}
		p := plots.Panel{Title: title, XLabel: xlabel, YLabel: "accuracy", YMin: &lo, YMax: &hi}
		for _, m := range models {
			var pts []Row
			for _, r := range rows {
				if r.Model == m && r.Set == set {
					pts = append(pts, r)
				}
			}
			if len(pts) == 0 {
				continue
			}
			slices.SortStableFunc(pts, func(a, b Row) int { return cmp.Compare(a.Param, b.Param) })
			s := plots.Series{Name: m}
			if c, ok := clean[m]; ok && pts[0].Param > 0 {
				s.X, s.Y = append(s.X, 0), append(s.Y, c)
			}
			for _, r := range pts {
				s.X, s.Y = append(s.X, r.Param), append(s.Y, r.Accuracy)
			}
			p.Series = append(p.Series, s)
		}
		out = append(out, p)
	}
	return out
}

// Sizes of the figures' panels and of their shared legend, in pixels.
const (
	panelWidth  = 420
	panelHeight = 340
	legendRoom  = 70
)

// writeFigure draws the panels in a grid of up to three columns (four
// beyond six panels), each panelWidth×panelHeight pixels, with one legend
// for the whole figure below them.
func writeFigure(path string, ps []plots.Panel) error {
	cols := min(len(ps), 3)
	if len(ps) > 6 {
		cols = 4
	}
	rows := (len(ps) + cols - 1) / cols
	f := plots.Figure{Panels: ps, Columns: cols, Legend: plots.LegendBelow,
		Width: cols * panelWidth, Height: rows*panelHeight + legendRoom}
	return f.WritePNG(path)
}
