package decide

import (
	"testing"
	"time"
)

// BenchmarkDecide measures one policy decision with a forecast and a full
// 300 s stabilization window at a 5 s period (60 recommendations).
func BenchmarkDecide(b *testing.B) {
	p := DefaultPolicy()
	set := DefaultSettings()
	set.Max = 50
	var st State
	for i := 0; i < 60; i++ {
		st.Recommendations = append(st.Recommendations, Recommendation{At: t0.Add(time.Duration(i*5) * time.Second), Replicas: i%7 + 1})
	}
	in := Input{Function: "fn", Current: 4, Settings: set, Observed: Sample{RPS: 30, MeanLatency: 0.1, Interval: 5},
		Forecast: &Forecast{At: t0.Add(299 * time.Second), RPS: 45, Model: "m", Version: "1"}}
	now := t0.Add(300 * time.Second)
	for _, terse := range []bool{false, true} {
		name := "reasons"
		if terse {
			name = "terse"
		}
		b.Run(name, func(b *testing.B) {
			p.Terse = terse
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				d, _ := p.Decide(in, st, now)
				if d.After == 0 {
					b.Fatal("no decision")
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/decision")
		})
	}
}

// BenchmarkHoltPeak measures one forecast over 120 samples (the payload's
// default history) and a 30 s horizon at a 5 s period.
func BenchmarkHoltPeak(b *testing.B) {
	h := DefaultHoltPeak()
	hist := make([]Sample, 120)
	for i := range hist {
		hist[i] = Sample{At: t0.Add(time.Duration(i*5) * time.Second), Interval: 5, RPS: float64(i % 17)}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := h.Forecast(hist, 30*time.Second, t0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/forecast")
}
