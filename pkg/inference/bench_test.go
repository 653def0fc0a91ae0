package inference

import (
	"testing"
	"time"

	"github.com/prescale/prescale/pkg/decide"
)

func BenchmarkReplicaPredict(b *testing.B) {
	m, err := DefaultReplicaModel()
	if err != nil {
		b.Fatal(err)
	}
	f := decide.Features{P50: 0.2, P90: 0.4, P99: 0.6, Status200: 600, RPS: 20, InFlight: 4, Replicas: 2}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, _, err := m.PredictReplicas(f); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkForecast(b *testing.B) {
	fc, err := DefaultForecaster()
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	hist := make([]decide.Sample, 240)
	for i := range hist {
		hist[i] = decide.Sample{Interval: 60, RPS: float64(5 + i%13)}
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := fc.Forecast(hist, 5*time.Minute, now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadAndValidate(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := Defaults(); err != nil {
			b.Fatal(err)
		}
	}
}
