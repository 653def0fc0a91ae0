package live

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/prescale/prescale/internal/sim"
)

// Named is one run's History under a policy name.
type Named struct {
	Name    string
	History *History
}

// Plot writes a PNG: requests started per second (of the first run: every
// run replays the same arrivals) above the desired replicas over time of
// each run.
func Plot(path, title string, runs []Named) error {
	if len(runs) == 0 || runs[0].History == nil || runs[0].History.Len() < 2 {
		return fmt.Errorf("plot %s: no samples", path)
	}
	load := plot.New()
	load.Title.Text = title
	load.Y.Label.Text = "requests started / s"
	load.X.Label.Text = "seconds"
	s := runs[0].History.Samples()
	var pts plotter.XYs
	for i := 1; i < len(s); i++ {
		if dt := s[i].T - s[i-1].T; dt > 0 {
			pts = append(pts, plotter.XY{X: s[i].T, Y: (s[i].Started - s[i-1].Started) / dt})
		}
	}
	l, err := plotter.NewLine(pts)
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	l.Color = color.Gray{Y: 60}
	load.Add(l)

	reps := plot.New()
	reps.Y.Label.Text = "desired replicas"
	reps.X.Label.Text = "seconds"
	reps.Legend.Top, reps.Legend.Left = true, true
	for i, r := range runs {
		var xy plotter.XYs
		for _, x := range r.History.Samples() {
			xy = append(xy, plotter.XY{X: x.T, Y: float64(x.Replicas)})
		}
		ln, err := plotter.NewLine(xy)
		if err != nil {
			return fmt.Errorf("plot %s: %w", path, err)
		}
		ln.Color = plotutil.Color(i)
		ln.Dashes = plotutil.Dashes(i / 7)
		if r.Name == "prescale" {
			ln.Width = vg.Points(2)
		}
		reps.Add(ln)
		reps.Legend.Add(r.Name, ln)
	}
	return sim.WriteStacked(path, vg.Points(900), vg.Points(620), load, reps)
}
