package sim

import (
	"encoding/csv"
	"fmt"
	"image/color"
	"io"
	"os"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Row is one policy's result on one trace.
type Row struct {
	Trace     string
	Functions int
	Minutes   int
	Result    Result
	Wall      time.Duration
}

// OracleRatio is the row's replica-seconds over the oracle's on the same
// trace (0 when there is no oracle row).
func OracleRatio(rows []Row, r Row) float64 {
	for _, o := range rows {
		if o.Trace == r.Trace && o.Result.Policy == "oracle" && o.Result.Metrics.ReplicaSeconds > 0 {
			return r.Result.Metrics.ReplicaSeconds / o.Result.Metrics.ReplicaSeconds
		}
	}
	return 0
}

func fmtLat(s float64) string {
	switch {
	case s >= 100:
		return strconv.FormatFloat(s, 'f', 0, 64) + "s"
	case s >= 1:
		return strconv.FormatFloat(s, 'f', 2, 64) + "s"
	default:
		return strconv.FormatFloat(s*1000, 'f', 0, 64) + "ms"
	}
}

// Table writes the rows as a markdown table.
func Table(w io.Writer, rows []Row) error {
	_, err := fmt.Fprintln(w, "| trace | policy | requests | cold-start delayed | % | queued % | over SLO % | p50 | p95 | p99 | replica-hours | × oracle | scaling actions |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	if err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	for _, r := range rows {
		m := &r.Result.Metrics
		ratio := "–"
		if x := OracleRatio(rows, r); x > 0 {
			ratio = strconv.FormatFloat(x, 'f', 2, 64)
		}
		_, err := fmt.Fprintf(w, "| %s | %s | %d | %d | %.2f | %.2f | %.2f | %s | %s | %s | %.1f | %s | %d |\n",
			r.Trace, r.Result.Policy, m.Requests, m.ColdDelayed, m.Pct(m.ColdDelayed), m.Pct(m.Queued), m.Pct(m.OverSLO),
			fmtLat(m.Latency.Quantile(0.5)), fmtLat(m.Latency.Quantile(0.95)), fmtLat(m.Latency.Quantile(0.99)),
			m.ReplicaSeconds/3600, ratio, m.Actions)
		if err != nil {
			return fmt.Errorf("write table: %w", err)
		}
	}
	return nil
}

// WriteCSV writes the rows with full precision (latencies in seconds).
func WriteCSV(w io.Writer, rows []Row) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"trace", "functions", "minutes", "policy", "requests", "cold_delayed", "cold_delayed_pct",
		"queued", "over_slo", "over_slo_pct", "p50_s", "p95_s", "p99_s", "mean_s", "replica_seconds", "oracle_ratio", "actions", "wall_s"})
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', 8, 64) }
	for _, r := range rows {
		m := &r.Result.Metrics
		_ = cw.Write([]string{r.Trace, strconv.Itoa(r.Functions), strconv.Itoa(r.Minutes), r.Result.Policy,
			strconv.FormatInt(m.Requests, 10), strconv.FormatInt(m.ColdDelayed, 10), f(m.Pct(m.ColdDelayed)),
			strconv.FormatInt(m.Queued, 10), strconv.FormatInt(m.OverSLO, 10), f(m.Pct(m.OverSLO)),
			f(m.Latency.Quantile(0.5)), f(m.Latency.Quantile(0.95)), f(m.Latency.Quantile(0.99)), f(m.Latency.Mean()),
			f(m.ReplicaSeconds), f(OracleRatio(rows, r)), strconv.FormatInt(m.Actions, 10), f(r.Wall.Seconds())})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// Plot writes a PNG of one trace: the load (requests per minute) on top and
// every policy's replicas (summed over functions, mean per minute) below.
func Plot(path, title string, rows []Row) error {
	if len(rows) == 0 {
		return fmt.Errorf("plot %s: no rows", path)
	}
	load := plot.New()
	load.Title.Text = title
	load.Y.Label.Text = "requests / min"
	load.X.Label.Text = "minute"
	l, err := plotter.NewLine(series(rows[0].Result.Load))
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	l.Color = color.Gray{Y: 60}
	load.Add(l)

	reps := plot.New()
	reps.Y.Label.Text = "replicas (sum over functions)"
	reps.X.Label.Text = "minute"
	reps.Legend.Top = true
	reps.Legend.Left = true
	for i, r := range rows {
		ln, err := plotter.NewLine(series(r.Result.Replicas))
		if err != nil {
			return fmt.Errorf("plot %s: %w", path, err)
		}
		ln.Color = plotutil.Color(i)
		ln.Dashes = plotutil.Dashes(i / 7)
		if r.Result.Policy == "prescale" {
			ln.Width = vg.Points(2)
		}
		reps.Add(ln)
		reps.Legend.Add(r.Result.Policy, ln)
	}
	return WriteStacked(path, vg.Points(900), vg.Points(620), load, reps)
}

// WriteStacked draws top above bottom, aligned, into a w×h PNG at path.
func WriteStacked(path string, w, h vg.Length, top, bottom *plot.Plot) error {
	img := vgimg.New(w, h)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadX: vg.Millimeter, PadY: vg.Millimeter * 3,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	cs := plot.Align([][]*plot.Plot{{top}, {bottom}}, tiles, dc)
	top.Draw(cs[0][0])
	bottom.Draw(cs[1][0])
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("plot %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	return nil
}

func series(ys []float64) plotter.XYs {
	pts := make(plotter.XYs, len(ys))
	for i, y := range ys {
		pts[i].X, pts[i].Y = float64(i), y
	}
	return pts
}
