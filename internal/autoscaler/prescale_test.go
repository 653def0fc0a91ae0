package autoscaler

import (
	"testing"
	"time"

	"github.com/prescale/prescale/internal/sim"
	"github.com/prescale/prescale/pkg/decide"
	"github.com/prescale/prescale/pkg/inference"
)

// The adapter turns the view into load-probe's sample and lets pkg/decide
// decide. Hand-computed: 70 rps at 0.5 s with 35 in flight, target
// concurrency 0.7 × 10 = 7. HoltPeak on one sample forecasts 70 × 1.1 = 77
// rps → 77 × 0.5 / 7 = 5.5; reactive max(70 × 0.5/7, 35/7) = 5; need 5.5 → 6.
func TestPrescaleAdapterCallsDecide(t *testing.T) {
	cfg := DefaultPrescale()
	cfg.Period = 30
	cfg.Forecaster = decide.DefaultHoltPeak()
	p := Prescale{Config: cfg}.NewController(info())
	if p.Period() != 30 || p.Lag() != 2 {
		t.Fatalf("period %d lag %d, want 30 and 2", p.Period(), p.Lag())
	}
	v := &fakeView{now: 30, replicas: 1, ready: 1, completions: 70 * 30, lat: 70 * 30 * 0.5, inflight: 35}
	if got := p.Decide(v); got != 6 {
		t.Fatalf("got %d, want 6", got)
	}
	d := p.(*prescaleCtl).last
	if d.ForecastState != "used" || d.Reactive != 5 || d.Predicted != 6 {
		t.Fatalf("decision %+v: want forecast used, reactive 5, predicted 6", d)
	}
}

func TestPrescaleIdleKeepsMinimum(t *testing.T) {
	p := Prescale{Config: DefaultPrescale()}.NewController(info())
	for _, now := range []float64{30, 60, 90} {
		if got := p.Decide(&fakeView{now: now, replicas: 1, ready: 1}); got != sim.Keep {
			t.Fatalf("t=%v idle: got %d, want Keep", now, got)
		}
	}
}

// The default prescale row runs what the predictor serves by default
// (holt-peak), over at least two periods; --prescale-forecaster trained
// picks the trained artefact and a bad name is refused.
func TestPrescaleDefaultForecaster(t *testing.T) {
	c := DefaultPrescale()
	if c.Forecaster.Name() != decide.DefaultHoltPeak().Name() {
		t.Fatalf("default forecaster is %s, want holt-peak (inference.DefaultForecasterChoice)", c.Forecaster.Name())
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Period != 5 || c.EffectiveHorizon() != 30*time.Second {
		t.Fatalf("period %d horizon %s, want 5 s and 30 s", c.Period, c.EffectiveHorizon())
	}
	c.Period = 30
	if c.EffectiveHorizon() != 60*time.Second {
		t.Fatalf("horizon at 30 s period = %s, want 60s (two periods, as the predictor)", c.EffectiveHorizon())
	}
	for _, tc := range []struct {
		name, want string
		err        bool
	}{
		{"", c.Forecaster.Name(), false},
		{inference.ChoiceTrained, "prescale-peak", false},
		{"prescale-peak", "prescale-peak", false},
		{inference.ChoiceBuiltin, "holt-peak", false},
		{"holt-peak", "holt-peak", false},
		{"nope", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, _, err := NewForecaster(tc.name)
			if (err != nil) != tc.err {
				t.Fatalf("err %v, want error %v", err, tc.err)
			}
			if err == nil && f.Name() != tc.want {
				t.Fatalf("forecaster %s, want %s", f.Name(), tc.want)
			}
		})
	}
	c.Forecaster = nil
	if err := c.Validate(); err == nil {
		t.Fatal("nil forecaster accepted")
	}
}
