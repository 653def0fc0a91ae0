package inference

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"testing"
	"time"

	"github.com/prescale/prescale/pkg/decide"
)

// floats turns fuzz bytes into n finite numbers ≥ 0 (n from the bytes when
// n < 0), the inputs a model may see.
func floats(b []byte, n int) []float64 {
	if n < 0 {
		n = len(b) / 2
	}
	out := make([]float64, n)
	for i := range out {
		if len(b) >= 2 {
			out[i] = float64(binary.LittleEndian.Uint16(b)) / 16
			b = b[2:]
		}
	}
	return out
}

// FuzzLoadArtefact: any bytes are refused (ErrInvalid) or load as an
// artefact that re-encodes to itself; the content of any decodable
// artefact, sealed, either fails validation or evaluates without a panic to
// finite answers (replicas ≥ 1; forecasts finite and ≥ 0).
func FuzzLoadArtefact(f *testing.F) {
	for _, p := range []string{"../../model/artefacts/forecaster.json", "../../model/artefacts/seed-forest.json"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b, []byte{1, 0, 200, 3, 7, 9})
		}
	}
	f.Add([]byte(`{"schema":1,"kind":"replica-forest","name":"x","features":["rps"],"forest":{"task":"regression","trees":[{"inputs":[0],"feature":[0],"threshold":[1],"left":[-1],"right":[-1],"left_value":[1e308],"right_value":[1e308]},{"inputs":[0],"feature":[0],"threshold":[1],"left":[-1],"right":[-1],"left_value":[1e308],"right_value":[1e308]}]}}`), []byte{0, 1})
	f.Add([]byte(`{"schema":1,"kind":"demand-forecaster","name":"f","features":["rps"],"forecaster":{"method":"peak","horizon_steps":5,"step_seconds":60,"params":{"alpha":0.5,"mean_window":5,"trend_window":5,"sigma_window":5,"k":1,"period":10,"seasons":1e300}}}`), []byte{5, 5, 5, 5})
	f.Fuzz(func(t *testing.T, data, input []byte) {
		if a, err := Parse(data); err == nil {
			enc, err := a.Marshal()
			if err != nil {
				t.Fatalf("a parsed artefact does not marshal: %v", err)
			}
			b, err := Parse(enc)
			if err != nil || b.Version != a.Version || b.Checksum != a.Checksum {
				t.Fatalf("round trip: %v", err)
			}
		}
		var a Artefact
		if json.Unmarshal(data, &a) != nil {
			return
		}
		if a.Seal() != nil || a.Validate() != nil {
			return
		}
		switch a.Kind {
		case KindReplicaForest:
			m, err := NewReplicaModel(&a)
			if err != nil {
				t.Fatal(err)
			}
			p, err := m.PredictVector(floats(input, len(a.Features)))
			if err != nil {
				return
			}
			if p.Replicas < 1 || p.Replicas > decide.MaxReplicasLimit || !finiteF(p.Raw) {
				t.Fatalf("prediction %+v", p)
			}
		case KindForecaster:
			fc, err := NewForecaster(&a)
			if err != nil {
				t.Fatal(err)
			}
			hist := floats(input, -1)
			if len(hist) == 0 {
				hist = []float64{1}
			}
			v, err := fc.ForecastSeries(hist, int(len(input)%50), float64(len(input)%1440))
			if err == nil && (!finiteF(v) || v < 0) {
				t.Fatalf("forecast %v", v)
			}
			var samples []decide.Sample
			at := time.Unix(1700000000, 0)
			for i, x := range hist {
				samples = append(samples, decide.Sample{At: at.Add(time.Duration(i) * 10 * time.Second), Interval: 10, RPS: x})
			}
			out, err := fc.Forecast(samples, time.Minute, at)
			if err == nil && (!finiteF(out.RPS) || out.RPS < 0) {
				t.Fatalf("forecast %+v", out)
			}
		}
	})
}

func finiteF(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
