package replay_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prescale/prescale/internal/replay"
	"github.com/prescale/prescale/internal/testenv"
	"github.com/prescale/prescale/internal/trace"
)

func TestScheduleTimes(t *testing.T) {
	got := replay.ScheduleTimes([]float64{61.5, 0.5, 10}, 10)
	want := []time.Duration{50 * time.Millisecond, time.Second, 6150 * time.Millisecond}
	if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("got %v, want %v (real instants / speed, sorted)", got, want)
	}
}

func TestSchedule(t *testing.T) {
	counts := []float64{3, 0, 10, 1}
	a := replay.Schedule(counts, 60, 7)
	b := replay.Schedule(counts, 60, 7)
	c := replay.Schedule(counts, 60, 8)
	if len(a) != 14 {
		t.Fatalf("%d arrivals, want 14", len(a))
	}
	per := make([]int, 4)
	for i, off := range a {
		if i > 0 && off < a[i-1] {
			t.Fatal("arrivals not sorted")
		}
		if off != b[i] {
			t.Fatal("same seed, different schedule")
		}
		per[int(off/time.Second)]++ // speed 60: one trace minute = 1 s
	}
	if per[0] != 3 || per[1] != 0 || per[2] != 10 || per[3] != 1 {
		t.Fatalf("per-minute counts %v, want [3 0 10 1]", per)
	}
	same := true
	for i := range a {
		same = same && a[i] == c[i]
	}
	if same {
		t.Fatal("different seeds gave the same schedule")
	}
}

// function is a fake function behind a fake gateway path (the seam).
type function struct {
	mu    sync.Mutex
	n     int
	paths map[string]int
}

func (f *function) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.n++
	n := f.n
	f.paths[r.Method+" "+r.URL.Path]++
	f.mu.Unlock()
	time.Sleep(2 * time.Millisecond)
	if n%10 == 0 {
		http.Error(w, "boom", http.StatusInternalServerError)
		return
	}
	_, _ = w.Write([]byte("hello"))
}

func TestRunSyntheticTrace(t *testing.T) {
	// A one-column per-minute CSV with a header, as users write them.
	path := filepath.Join(t.TempDir(), "ramp.csv")
	if err := os.WriteFile(path, []byte("count\n10\n20\n40\n30\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fns, err := trace.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	f := &function{paths: map[string]int{}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	var progress bytes.Buffer
	start := time.Now()
	sum, err := replay.Run(context.Background(), replay.Config{
		Gateway: srv.URL, Function: "hello-python", Counts: fns[0].Counts, Speed: 120, Seed: 1, Progress: &progress,
	})
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 1500*time.Millisecond {
		t.Fatalf("4 minutes at speed 120 took %s, want about 2 s", el)
	}
	if sum.Scheduled != 100 || sum.Completed != 100 || sum.Failed != 0 || sum.Status[200] != 90 || sum.Status[500] != 10 {
		t.Fatalf("summary %+v", sum)
	}
	if f.paths["POST /function/hello-python"] != 100 {
		t.Fatalf("paths %v", f.paths)
	}
	if sum.Percentile(0.5) < 0.002 || sum.Percentile(0.99) < sum.Percentile(0.5) || sum.RPS() <= 0 {
		t.Fatalf("latencies p50 %v p99 %v rps %v", sum.Percentile(0.5), sum.Percentile(0.99), sum.RPS())
	}
	var out bytes.Buffer
	sum.Write(&out)
	for _, want := range []string{"Requests/sec:", "50% in", "99% in", "[200]\t90 responses", "[500]\t10 responses"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("report lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(progress.String(), "replay hello-python") {
		t.Fatalf("no progress bar: %q", progress.String())
	}
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  replay.Config
		want string
	}{
		{"bad gateway", replay.Config{Gateway: "localhost:8080", Function: "f", Counts: []float64{1}, Speed: 1}, "http(s) URL"},
		{"bad speed", replay.Config{Gateway: "http://x", Function: "f", Counts: []float64{1}, Speed: 0}, "speed"},
		{"empty window", replay.Config{Gateway: "http://x", Function: "f", Speed: 1}, "empty"},
		{"bad name", replay.Config{Gateway: "http://x", Function: "a/b", Counts: []float64{1}, Speed: 1}, "function"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := replay.Run(context.Background(), tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
	// Nothing listening: every request fails and is reported, none lost.
	sum, err := replay.Run(context.Background(), replay.Config{Gateway: "http://127.0.0.1:1", Function: "f", Counts: []float64{5}, Speed: 600})
	if err != nil || sum.Failed != 5 || sum.Completed != 0 || len(sum.Errors) == 0 {
		t.Fatalf("dead gateway: %+v %v", sum, err)
	}
	// Max in-flight: arrivals beyond it are dropped, not queued.
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { time.Sleep(300 * time.Millisecond) }))
	defer slow.Close()
	sum, err = replay.Run(context.Background(), replay.Config{Gateway: slow.URL, Function: "f", Counts: []float64{20}, Speed: 600, MaxInFlight: 2})
	if err != nil || sum.Dropped == 0 || sum.Completed+sum.Dropped != 20 {
		t.Fatalf("bounded in-flight: %+v %v", sum, err)
	}
}

func TestRunSharedTrace(t *testing.T) {
	fns, err := trace.Open(testenv.Trace(t, "invitro_azure2019_fullday_10fn_invocations.csv"))
	if err != nil {
		t.Fatal(err)
	}
	fn, err := trace.Select(fns, 7, "")
	if err != nil {
		t.Fatal(err)
	}
	w := fn.Window(0, 5)
	f := &function{paths: map[string]int{}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	sum, err := replay.Run(context.Background(), replay.Config{Gateway: srv.URL, Function: "fn", Counts: w.Counts, Speed: 300, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if want := int(w.Total()); sum.Scheduled != want || sum.Completed != want || want == 0 {
		t.Fatalf("replayed %d/%d of the trace's %d", sum.Completed, sum.Scheduled, want)
	}
}
