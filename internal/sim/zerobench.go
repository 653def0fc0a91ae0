package sim

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Curve is one policy's knob sweep (see internal/autoscaler.ZeroCurves).
type Curve struct {
	Policy string
	Knob   string
	Points []Policy
	Values []string
}

// ZeroBenchOptions configures ZeroBench.
type ZeroBenchOptions struct {
	TraceDir, OutDir string
	Config           Config // MinReplicas must be 0
	Curves           []Curve
	Log              io.Writer
	// Traces overrides the trace list (file names in TraceDir); nil = zeroTraces.
	Traces []ZeroTrace
	// ColdStartCost is W for the combined-cost column (default 600 s).
	ColdStartCost float64
}

// ZeroTrace is one trace of the frontier benchmark and the part simulated.
type ZeroTrace struct {
	File                     string
	From, Minutes, Functions int
	Why                      string
}

// zeroTraces: the traces the targets name, plus the Azure 2021 head
// (real arrival instants). The full-day 10- and 5-function files run the
// same windows as the main benchmark (their functions are busy all day:
// every zero policy keeps them warm, and the full day would triple the
// run time for the same answer); the 1000-function file runs its full day.
func zeroTraces() []ZeroTrace {
	return []ZeroTrace{
		{File: "dirigent_azure2019_500fn_8h_invocations.csv", Why: "whole trace (8 h), all 500 functions"},
		{File: "invitro_azure2019_fullday_1000fn_inv.csv", Why: "the full day, all 1000 functions"},
		{File: "invitro_azure2019_fullday_10fn_invocations.csv", From: 480, Minutes: 480, Why: "minutes 480–959 (08:00–16:00), all functions"},
		{File: "invitro_azure2019_fullday_5fn_invocations.csv", From: 600, Minutes: 240, Why: "minutes 600–839 (10:00–14:00), all functions"},
		{File: "invitro_azure2021_first998_invocations.csv", Why: "whole head (~108 min), real invocation instants"},
	}
}

// ZeroTraces is the frontier benchmark's trace list, filtered to the files
// whose name contains one of the comma-separated strings ("" = all).
func ZeroTraces(only string) []ZeroTrace {
	all := zeroTraces()
	if strings.TrimSpace(only) == "" {
		return all
	}
	var out []ZeroTrace
	for _, t := range all {
		for _, s := range strings.Split(only, ",") {
			if s = strings.TrimSpace(s); s != "" && strings.Contains(t.File, s) {
				out = append(out, t)
				break
			}
		}
	}
	return out
}

// ZeroPoint is one simulated point of a curve.
type ZeroPoint struct {
	Policy, Value string
	Metrics       Metrics
	P75           float64 // 75th-percentile function's cold-start share, %
}

// ZeroFrontier is one trace's curves.
type ZeroFrontier struct {
	Trace  ZeroTrace
	Name   string
	Loaded Loaded
	Curves map[string][]ZeroPoint
	Order  []string
	Knobs  map[string]string
}

// ZeroBench sweeps every curve on every trace, writes <trace>_zero.png and
// ZERO.md (frontier tables and the target checks) into OutDir.
func ZeroBench(ctx context.Context, o ZeroBenchOptions) error {
	if o.Config.MinReplicas != 0 {
		return fmt.Errorf("zero bench: min replicas must be 0, not %d", o.Config.MinReplicas)
	}
	if o.ColdStartCost <= 0 {
		o.ColdStartCost = 600
	}
	traces := o.Traces
	if traces == nil {
		traces = zeroTraces()
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return fmt.Errorf("out dir: %w", err)
	}
	logw := o.Log
	if logw == nil {
		logw = io.Discard
	}
	var lds []Loaded
	var use []ZeroTrace
	for _, tr := range traces {
		path := filepath.Join(o.TraceDir, tr.File)
		if _, err := os.Stat(path); err != nil {
			fmt.Fprintf(logw, "zero bench: %s missing, skipped\n", path)
			continue
		}
		ld, err := LoadTrace(path, LoadOptions{From: tr.From, Minutes: tr.Minutes, Functions: tr.Functions}, o.Config.DefaultService)
		if err != nil {
			return err
		}
		lds = append(lds, ld)
		use = append(use, tr)
	}
	if len(use) == 0 {
		return fmt.Errorf("zero bench: none of the traces is in %s", o.TraceDir)
	}
	runs := 0
	for _, c := range o.Curves {
		runs += len(c.Points)
	}
	bar := progressbar.NewOptions(runs*len(use), progressbar.OptionSetWriter(logw), progressbar.OptionSetDescription("zero frontiers"),
		progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true), progressbar.OptionClearOnFinish())
	t0 := time.Now()
	var fronts []ZeroFrontier
	for i, tr := range use {
		name := traceName(tr.File)
		fr := ZeroFrontier{Trace: tr, Name: name, Loaded: lds[i], Curves: map[string][]ZeroPoint{}, Knobs: map[string]string{}}
		for _, c := range o.Curves {
			fr.Order = append(fr.Order, c.Policy)
			fr.Knobs[c.Policy] = c.Knob
			for k, p := range c.Points {
				bar.Describe(fmt.Sprintf("%s %s", name, p.Name()))
				res, err := Run(ctx, o.Config, lds[i].Functions, p)
				if err != nil {
					return err
				}
				fr.Curves[c.Policy] = append(fr.Curves[c.Policy], ZeroPoint{Policy: p.Name(), Value: c.Values[k], Metrics: res.Metrics, P75: FnColdPct(res.PerFn, 0.75)})
				_ = bar.Add(1)
			}
		}
		if err := PlotFrontier(filepath.Join(o.OutDir, name+"_zero.png"), name, fr); err != nil {
			return err
		}
		fronts = append(fronts, fr)
	}
	_ = bar.Finish()
	md := ZeroMarkdown(fronts, o, time.Since(t0))
	if err := os.WriteFile(filepath.Join(o.OutDir, "ZERO.md"), md, 0o644); err != nil {
		return fmt.Errorf("write ZERO.md: %w", err)
	}
	fmt.Fprintf(logw, "wrote %s (%.0f s)\n", filepath.Join(o.OutDir, "ZERO.md"), time.Since(t0).Seconds())
	return nil
}

func traceName(file string) string {
	for _, sfx := range []string{"_invocations.csv", "_inv.csv", ".csv"} {
		if strings.HasSuffix(file, sfx) {
			return strings.TrimSuffix(file, sfx)
		}
	}
	return file
}

// At interpolates a curve (sorted by wasted replica-seconds) at waste w:
// cold-start % and p75 % linearly between the two neighbouring points; ok
// false when w is outside the curve's range.
func At(pts []ZeroPoint, w float64) (coldPct, p75 float64, ok bool) {
	s := sortedByWaste(pts)
	for i := 0; i+1 < len(s); i++ {
		a, b := s[i], s[i+1]
		wa, wb := a.Metrics.WastedSeconds, b.Metrics.WastedSeconds
		if w >= wa && w <= wb {
			f := 0.0
			if wb > wa {
				f = (w - wa) / (wb - wa)
			}
			return a.Metrics.ColdPct() + f*(b.Metrics.ColdPct()-a.Metrics.ColdPct()), a.P75 + f*(b.P75-a.P75), true
		}
	}
	if len(s) == 1 && s[0].Metrics.WastedSeconds == w {
		return s[0].Metrics.ColdPct(), s[0].P75, true
	}
	return 0, 0, false
}

func sortedByWaste(pts []ZeroPoint) []ZeroPoint {
	s := append([]ZeroPoint(nil), pts...)
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j].Metrics.WastedSeconds < s[j-1].Metrics.WastedSeconds; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s
}

// ZeroMarkdown renders the frontier tables and the target checks.
func ZeroMarkdown(fronts []ZeroFrontier, o ZeroBenchOptions, wall time.Duration) []byte {
	var b bytes.Buffer
	w := func(f string, a ...any) { fmt.Fprintf(&b, f, a...) }
	w("## Scale to zero: cold starts against wasted replica time\n\n")
	w("*Generated by `make bench` (`prescale sim --zero-frontier … --out bench`, %.0f s on %d CPUs); hand-written analysis in bench/NOTES.md.*\n\n", wall.Seconds(), runtime.NumCPU())
	w("Every function starts at zero replicas and may return to zero (`--min-replicas 0`). A request that arrives when no replica\n")
	w("is ready is a **cold-start invocation**: the gateway (Knative: the activator) holds it and asks for one replica, which serves\n")
	w("after the cold start (`%s`). **Wasted replica-hours** = ∫ replicas serving no request dt (starting, or ready and idle);\n", o.Config.ColdStart)
	w("**replica-hours** = ∫ all replicas dt; **p75 function %%** = the 75th-percentile function's cold-start share (functions with\n")
	w("at least one invocation); **cost** = replica-hours + W × cold-start invocations at W = %.0f s (prescale.cold-start-cost's default).\n", o.ColdStartCost)
	w("Policies: *keepalive* = fixed keep-alive after the last invocation (OpenFaaS Pro's zero-duration); *kpa* = Knative KPA with\n")
	w("scale to zero (60 s stable window, then the grace period); *hybrid* = Shahrad et al.'s hybrid histogram (ATC 2020), 4-hour\n")
	w("histogram, 10 %% margins, CV threshold 2, time-series fallback for out-of-range idle times; *prescale* = pkg/decide's\n")
	w("DecideZero fed per 5 s tick like load-probe (histogram plan, periodicity, fixed keep-alive 4 × W until 8 idle times),\n")
	w("2 s chain lag; *oracle* = knows the arrivals, starts a replica one worst-case cold start ahead and releases it when no second\n")
	w("of the next cold-start horizon needs it. keepalive, hybrid and prescale share one load layer for replicas beyond the first\n")
	w("(reactive, 60 s stabilization), so their curves differ only in the zero decision; pre-warms start 15 s ahead.\n")
	w("*prescale-chain* is prescale whole, as the functions run it: the predictor's forecast step and the scaler's load policy\n")
	w("above one replica, its zero decision below, combined by decide.WithZero (one point, at the default W).\n\n")
	for _, fr := range fronts {
		w("### %s\n\n", fr.Name)
		w("%d functions, %d minutes — %s. ![%s frontier](%s_zero.png)\n\n", len(fr.Loaded.Functions), fr.Loaded.Minutes, fr.Trace.Why, fr.Name, fr.Name)
		w("| policy | knob | value | cold-start invocations | %% | p75 function %% | wasted replica-hours | replica-hours | cost (replica-hours) |\n|---|---|---|---:|---:|---:|---:|---:|---:|\n")
		for _, pol := range fr.Order {
			for _, p := range fr.Curves[pol] {
				m := p.Metrics
				w("| %s | %s | %s | %d | %.3f | %.1f | %.1f | %.1f | %.1f |\n", pol, fr.Knobs[pol], p.Value, m.ColdInvocations, m.ColdPct(), p.P75,
					m.WastedSeconds/3600, m.ReplicaSeconds/3600, CombinedCost(&m, o.ColdStartCost))
			}
		}
		w("\n%s\n", targetCheck(fr))
		w("%s", chainCheck(fr))
	}
	return b.Bytes()
}

// targetCheck compares the curves at the 10-minute keep-alive's waste.
func targetCheck(fr ZeroFrontier) string {
	var ref *ZeroPoint
	for i, p := range fr.Curves["keepalive"] {
		if p.Value == "10 min" {
			ref = &fr.Curves["keepalive"][i]
		}
	}
	if ref == nil {
		return ""
	}
	wr := ref.Metrics.WastedSeconds
	var b strings.Builder
	fmt.Fprintf(&b, "At the 10-minute keep-alive's waste (%.1f wasted replica-hours; it has %.3f %% cold-start invocations, p75 function %.1f %%):\n\n",
		wr/3600, ref.Metrics.ColdPct(), ref.P75)
	b.WriteString("| policy | cold-start % | vs keep-alive | p75 function % |\n|---|---:|---:|---:|\n")
	for _, pol := range fr.Order {
		if pol == ChainCurve {
			continue
		}
		c, p75, ok := At(fr.Curves[pol], wr)
		if !ok {
			fmt.Fprintf(&b, "| %s | not reached (curve spans %s) | | |\n", pol, wasteSpan(fr.Curves[pol]))
			continue
		}
		fmt.Fprintf(&b, "| %s | %.3f | %.2f× | %.1f |\n", pol, c, c/math.Max(ref.Metrics.ColdPct(), 1e-12), p75)
	}
	b.WriteString("\n" + dominance(fr) + "\n")
	return b.String()
}

// dominance says, for every point of the other curves whose waste lies in
// prescale's range, whether prescale's curve (interpolated at that waste)
// has fewer cold starts, pooled and at the 75th-percentile function.
func dominance(fr ZeroFrontier) string {
	pre := fr.Curves["prescale"]
	if len(pre) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("Frontier check — at each point of the other curves inside prescale's waste range, prescale's curve (interpolated) against it:\n\n")
	b.WriteString("| vs | points compared | prescale fewer pooled | prescale p75 ≤ theirs | points outside prescale's range |\n|---|---:|---:|---:|---:|\n")
	for _, pol := range fr.Order {
		if pol == "prescale" || pol == "oracle" || pol == ChainCurve {
			continue
		}
		n, pooled, p75, out := 0, 0, 0, 0
		for _, q := range fr.Curves[pol] {
			c, p, ok := At(pre, q.Metrics.WastedSeconds)
			if !ok {
				out++
				continue
			}
			n++
			if c < q.Metrics.ColdPct() {
				pooled++
			}
			if p <= q.P75 {
				p75++
			}
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d |\n", pol, n, pooled, p75, out)
	}
	return b.String()
}

// ChainCurve names the curve of prescale as the chain runs it (forecast
// load policy + zero decision through decide.WithZero), one point at the
// default W; chainCheck sets it beside the prescale curve's point at the
// same W, which runs the zero decision on the shared load layer.
const ChainCurve = "prescale-chain"

func chainCheck(fr ZeroFrontier) string {
	ch := fr.Curves[ChainCurve]
	if len(ch) == 0 {
		return ""
	}
	c := ch[0]
	for _, p := range fr.Curves["prescale"] {
		if p.Value != c.Value {
			continue
		}
		a, b := c.Metrics, p.Metrics
		return fmt.Sprintf("The chain as shipped (*%s*: the forecast load policy and the zero decision combined by decide.WithZero, as functions/scaler does) at W = %s: "+
			"%d cold-start invocations (%.3f %%, p75 function %.1f %%), %.1f wasted and %.1f replica-hours — against the prescale curve's point at the same W on the shared load layer: "+
			"%.2f× its cold starts, %.2f× its wasted and %.2f× its replica-hours.\n\n",
			ChainCurve, c.Value, a.ColdInvocations, a.ColdPct(), c.P75, a.WastedSeconds/3600, a.ReplicaSeconds/3600,
			float64(a.ColdInvocations)/math.Max(float64(b.ColdInvocations), 1), a.WastedSeconds/math.Max(b.WastedSeconds, 1e-9), a.ReplicaSeconds/math.Max(b.ReplicaSeconds, 1e-9))
	}
	return ""
}

func wasteSpan(pts []ZeroPoint) string {
	s := sortedByWaste(pts)
	if len(s) == 0 {
		return "nothing"
	}
	return fmt.Sprintf("%.1f–%.1f wasted replica-hours", s[0].Metrics.WastedSeconds/3600, s[len(s)-1].Metrics.WastedSeconds/3600)
}

// PlotFrontier writes the trace's frontiers: cold-start % (pooled, top) and
// the 75th-percentile function's % (bottom) against wasted replica-hours,
// one curve per policy.
func PlotFrontier(path, title string, fr ZeroFrontier) error {
	mk := func(ylabel string, y func(ZeroPoint) float64) (*plot.Plot, error) {
		p := plot.New()
		p.Title.Text = title
		p.X.Label.Text = "wasted replica-hours"
		p.Y.Label.Text = ylabel
		p.Legend.Top = true
		for i, pol := range fr.Order {
			pts := sortedByWaste(fr.Curves[pol])
			xy := make(plotter.XYs, len(pts))
			for k, q := range pts {
				xy[k].X, xy[k].Y = q.Metrics.WastedSeconds/3600, y(q)
			}
			l, s, err := plotter.NewLinePoints(xy)
			if err != nil {
				return nil, err
			}
			l.Color, s.Color = plotutil.Color(i), plotutil.Color(i)
			s.Shape = plotutil.Shape(i)
			if pol == "prescale" {
				l.Width = vg.Points(2)
			}
			p.Add(l, s)
			p.Legend.Add(pol, l, s)
		}
		p.Add(plotter.NewGrid())
		return p, nil
	}
	top, err := mk("cold-start invocations, % (pooled)", func(q ZeroPoint) float64 { return q.Metrics.ColdPct() })
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	bot, err := mk("p75 function's cold-start %", func(q ZeroPoint) float64 { return q.P75 })
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	bot.Title.Text = ""
	return WriteStacked(path, vg.Points(800), vg.Points(760), top, bot)
}
