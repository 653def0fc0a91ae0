package trace

import (
	"strings"
	"testing"

	"github.com/prescale/prescale/internal/testenv"
)

func TestReadFormats(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		wantFns   int
		wantFirst int
		wantHash  string
		wantCount []float64
	}{
		{"azure2019", "HashOwner,HashApp,HashFunction,Trigger,480,481,482\no,a,h1,http,1,2,3\no,a,h2,timer,0,0,5\n", 2, 480, "h1", []float64{1, 2, 3}},
		{"freyr", "HashFunction,Trigger,1,2\n0,timer,4,0\n", 1, 1, "0", []float64{4, 0}},
		{"counts with header", "requests\n3\n4\n\n5\n", 1, 0, "requests", []float64{3, 4, 5}},
		{"counts without header", "3\n4\n", 1, 0, "counts", []float64{3, 4}},
		{"invitro 1000fn", "HashFunction,HashApp,HashOwner,minute_1,minute_2\nh9,h9,h9,0,7\n", 1, 1, "h9", []float64{0, 7}},
		{"azure2021", "app,func,end_timestamp,duration\na,f,1.5,0.1\na,f,61,0.2\na,g,10,1\na,f,62,0.1\n", 2, 0, "f", []float64{1, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fns, err := Read(strings.NewReader(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if len(fns) != tc.wantFns {
				t.Fatalf("got %d functions, want %d", len(fns), tc.wantFns)
			}
			f := fns[0]
			if f.FirstMinute != tc.wantFirst || f.Hash != tc.wantHash {
				t.Fatalf("got first=%d hash=%q, want %d %q", f.FirstMinute, f.Hash, tc.wantFirst, tc.wantHash)
			}
			if len(f.Counts) != len(tc.wantCount) {
				t.Fatalf("counts %v, want %v", f.Counts, tc.wantCount)
			}
			for i := range f.Counts {
				if f.Counts[i] != tc.wantCount[i] {
					t.Fatalf("counts %v, want %v", f.Counts, tc.wantCount)
				}
			}
		})
	}
}

func TestAzure2021RealTimes(t *testing.T) {
	fns, err := Read(strings.NewReader("app,func,end_timestamp,duration\na,f,61,0.5\na,f,1.5,0.1\na,f,130,10\n"))
	if err != nil {
		t.Fatal(err)
	}
	f := fns[0]
	want := []float64{1.4, 60.5, 120}
	if len(f.Times) != 3 || len(f.Durations) != 3 {
		t.Fatalf("times %v durations %v", f.Times, f.Durations)
	}
	for i, w := range want {
		if d := f.Times[i] - w; d > 1e-9 || d < -1e-9 {
			t.Fatalf("times %v, want %v (start = end - duration, sorted)", f.Times, want)
		}
	}
	if f.Durations[2] != 10 || f.Counts[0] != 1 || f.Counts[1] != 1 || f.Counts[2] != 1 {
		t.Fatalf("durations %v counts %v", f.Durations, f.Counts)
	}
	w := f.Window(1, 3)
	if len(w.Times) != 2 || w.Times[0] != 0.5 || w.Durations[0] != 0.5 {
		t.Fatalf("window times %v durations %v", w.Times, w.Durations)
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", "empty trace"},
		{"negative", "HashFunction,Trigger,1\n0,http,-1\n", "finite number in 0.."},
		{"ragged", "HashOwner,HashApp,HashFunction,Trigger,1,2\no,a,h,http,1\n", "columns"},
		{"not a number", "5\nabc\n", "not a number"},
		{"two columns", "1,2\n", "one column"},
		{"bad minute header", "HashFunction,Trigger,x\n", "minute index"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestSelectAndWindow(t *testing.T) {
	fns := []Function{{Hash: "abcdef01"}, {Hash: "abcdef02", FirstMinute: 10, Counts: []float64{1, 2, 3, 4}}}
	if _, err := Select(fns, 5, ""); err == nil {
		t.Fatal("row out of range accepted")
	}
	if _, err := Select(fns, 0, "abcdef"); err == nil || !strings.Contains(err.Error(), "matches 2") {
		t.Fatalf("ambiguous prefix: %v", err)
	}
	f, err := Select(fns, 0, "abcdef02")
	if err != nil || f.Hash != "abcdef02" {
		t.Fatalf("select by hash: %v %v", f, err)
	}
	w := f.Window(1, 3)
	if w.FirstMinute != 11 || len(w.Counts) != 2 || w.Counts[0] != 2 || w.Total() != 5 || w.Peak() != 3 {
		t.Fatalf("window: %+v", w)
	}
	if got := f.Window(2, 0); len(got.Counts) != 2 {
		t.Fatalf("open-ended window: %+v", got)
	}
}

// TestSharedTraces reads every real trace and checks totals SOURCES.md states.
func TestSharedTraces(t *testing.T) {
	tests := []struct {
		file         string
		fns, minutes int
		total        float64
	}{
		{"dirigent_azure2019_500fn_8h_invocations.csv", 500, 480, 3037902},
		{"freyr_azure2019_1000fn_60min_invocations.csv", 1000, 60, 85470},
		{"invitro_azure2019_fullday_10fn_invocations.csv", 10, 1440, -1},
		{"invitro_azure2019_fullday_5fn_invocations.csv", 5, 1440, -1},
		{"invitro_azure2021_first998_invocations.csv", 49, -1, 998},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			fns, err := Open(testenv.Trace(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if len(fns) != tc.fns {
				t.Fatalf("%d functions, want %d", len(fns), tc.fns)
			}
			var total float64
			for _, f := range fns {
				total += f.Total()
				if tc.minutes > 0 && len(f.Counts) != tc.minutes {
					t.Fatalf("%s has %d minutes, want %d", f.Hash, len(f.Counts), tc.minutes)
				}
			}
			if tc.total >= 0 && total != tc.total {
				t.Fatalf("total %v, want %v", total, tc.total)
			}
		})
	}
	d, err := ReadDurations(testenv.Trace(t, "dirigent_azure2019_500fn_8h_durations.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(d) != 500 {
		t.Fatalf("%d durations rows, want 500", len(d))
	}
	for h, x := range d {
		if x.P0 > x.P50 || x.P50 > x.P100 {
			t.Fatalf("%s: percentiles out of order: %+v", h, x)
		}
	}
}

func TestParseDurationsErrors(t *testing.T) {
	head := "HashOwner,HashApp,HashFunction,Average,Count,Minimum,Maximum,percentile_Average_0,percentile_Average_1,percentile_Average_25,percentile_Average_50,percentile_Average_75,percentile_Average_99,percentile_Average_100\n"
	tests := []struct{ name, in, want string }{
		{"missing column", "HashFunction,Average\nh,1\n", `lacks column "Count"`},
		{"ragged", head + "o,a,h,1,2\n", "line 2 has 5 columns"},
		{"negative", head + "o,a,h,1,2,3,4,5,6,7,-8,9,10,11\n", "percentile_Average_50"},
		{"no rows", head, "no rows"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseDurations(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
	d, err := ParseDurations(strings.NewReader(head + "o,a,h,1,2,3,4,5,6,7,8,9,10,11\n"))
	if err != nil || d["h"].P50 != 8 || d["h"].P100 != 11 {
		t.Fatalf("parse: %+v %v", d, err)
	}
}
