package model

import (
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// plotSeries picks the busiest function of each of the three longest
// traces (then by number of eligible functions, then name) for the
// forecast-vs-actual plots.
func plotSeries(fr *ForecastResult) []int {
	type tr struct {
		name  string
		count int
		steps int
		best  int
		total float64
	}
	by := map[string]*tr{}
	for i, s := range fr.Series {
		t := by[s.Trace]
		if t == nil {
			t = &tr{name: s.Trace, best: -1}
			by[s.Trace] = t
		}
		t.count++
		t.steps = max(t.steps, len(s.Counts))
		var sum float64
		for _, c := range s.Counts {
			sum += c
		}
		if sum > t.total {
			t.total, t.best = sum, i
		}
	}
	var list []*tr
	for _, t := range by {
		list = append(list, t)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].steps != list[j].steps {
			return list[i].steps > list[j].steps
		}
		if list[i].count != list[j].count {
			return list[i].count > list[j].count
		}
		return list[i].name < list[j].name
	})
	var out []int
	for i := 0; i < len(list) && i < 3; i++ {
		out = append(out, list[i].best)
	}
	return out
}

func palette() []color.Color {
	return []color.Color{
		color.RGBA{0, 0, 0, 255}, color.RGBA{214, 39, 40, 255}, color.RGBA{31, 119, 180, 255},
		color.RGBA{44, 160, 44, 255}, color.RGBA{148, 103, 189, 255}, color.RGBA{255, 127, 14, 255},
	}
}

// writePlots writes forecast-vs-actual plots and the error-per-model
// charts; it returns the file names.
func writePlots(dir string, fr *ForecastResult) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("plots dir: %w", err)
	}
	var names []string
	palette := palette()
	show := []int{fr.Default}
	for i, c := range fr.Candidates {
		if c.Name == "seasonal naive (60 min)" || c.Name == "Holt-Winters additive" || c.Name == "last value" {
			show = append(show, i)
		}
	}
	for n, si := range plotSeries(fr) {
		s := fr.Series[si]
		p := plot.New()
		p.Title.Text = fmt.Sprintf("%s / %.8s: next-5-minute peak, test split", shortTrace(s.Trace), s.Hash)
		p.X.Label.Text = "minute of the trace"
		p.Y.Label.Text = "requests per minute (peak over the horizon)"
		actual := plotter.XYs{}
		lines := make([]plotter.XYs, len(show))
		for pi, pt := range fr.testPts {
			if pt.S != si {
				continue
			}
			x := float64(pt.T + 1)
			actual = append(actual, plotter.XY{X: x, Y: pt.Actual})
			for li, ci := range show {
				lines[li] = append(lines[li], plotter.XY{X: x, Y: fr.testF[ci][pi]})
			}
		}
		la, err := plotter.NewLine(actual)
		if err != nil {
			return nil, fmt.Errorf("plot: %w", err)
		}
		la.Color, la.Width = palette[0], vg.Points(1.5)
		p.Add(la)
		p.Legend.Add("actual peak", la)
		for li, ci := range show {
			l, err := plotter.NewLine(lines[li])
			if err != nil {
				return nil, fmt.Errorf("plot: %w", err)
			}
			l.Color = palette[1+li%(len(palette)-1)]
			if li > 0 {
				l.Dashes = []vg.Length{vg.Points(3), vg.Points(2)}
			}
			p.Add(l)
			p.Legend.Add(fr.Candidates[ci].Name, l)
		}
		p.Legend.Top = true
		name := fmt.Sprintf("forecast_%d_%s.png", n+1, slug(shortTrace(s.Trace)))
		if err := p.Save(9*vg.Inch, 4*vg.Inch, filepath.Join(dir, name)); err != nil {
			return nil, fmt.Errorf("plot %s: %w", name, err)
		}
		names = append(names, name)
	}
	for _, m := range []struct {
		file, title, label string
		get                func(Scores) float64
	}{
		{"error_mase.png", "MASE per model (test split; lower is better)", "MASE", func(s Scores) float64 { return s.MASE }},
		{"error_under.png", "Under-forecast rate per model (test split; lower is better)", "share of intervals under the actual peak", func(s Scores) float64 { return s.Under }},
		{"error_mae.png", "MAE per model (test split; lower is better)", "requests per minute", func(s Scores) float64 { return s.MAE }},
	} {
		p := plot.New()
		p.Title.Text = m.title
		p.Y.Label.Text = m.label
		vals := plotter.Values{}
		var labels []string
		for i, c := range fr.Candidates {
			vals = append(vals, m.get(fr.Test[i]))
			labels = append(labels, c.Name)
		}
		bars, err := plotter.NewBarChart(vals, vg.Points(30))
		if err != nil {
			return nil, fmt.Errorf("plot: %w", err)
		}
		bars.Color = palette[2]
		p.Add(bars)
		p.NominalX(labels...)
		if err := p.Save(10*vg.Inch, 4*vg.Inch, filepath.Join(dir, m.file)); err != nil {
			return nil, fmt.Errorf("plot %s: %w", m.file, err)
		}
		names = append(names, m.file)
	}
	return names, nil
}
