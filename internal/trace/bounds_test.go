package trace

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const head2021 = "app,func,end_timestamp,duration\n"

// TestBoundsRefuseAbsurdValues: every number a trace holds is bounded; an
// absurd one is an error (naming the line and field, wrapping ErrBounds),
// never a panic (1e300 seconds overflowed the minute index) or a huge
// allocation (1e12 seconds asked for ~133 GB of per-minute counts).
func TestBoundsRefuseAbsurdValues(t *testing.T) {
	durHead := "HashOwner,HashApp,HashFunction,Average,Count,Minimum,Maximum,percentile_Average_0,percentile_Average_1,percentile_Average_25,percentile_Average_50,percentile_Average_75,percentile_Average_99,percentile_Average_100\n"
	tests := []struct{ name, in, want string }{
		{"2021 timestamp 1e300", head2021 + "a,f,1,0\na,f,1e300,0\n", "line 3: end_timestamp"},
		{"2021 timestamp 1e12", head2021 + "a,f,1e12,0.5\n", "line 2: end_timestamp"},
		{"2021 timestamp past 31 days", head2021 + "a,f,2678400,0\n", "end_timestamp"},
		{"2021 timestamp NaN", head2021 + "a,f,NaN,0\n", "end_timestamp"},
		{"2021 timestamp Inf", head2021 + "a,f,+Inf,0\n", "end_timestamp"},
		{"2021 timestamp 1e400", head2021 + "a,f,1e400,0\n", "end_timestamp"},
		{"2021 timestamp negative", head2021 + "a,f,-1,0\n", "end_timestamp"},
		{"2021 duration Inf", head2021 + "a,f,10,Inf\n", "line 2: duration"},
		{"2021 duration two days", head2021 + "a,f,10,172800\n", "duration"},
		{"2019 count 1e300", "HashFunction,Trigger,1,2\nh,http,1,1e300\n", "line 2 column 4: count"},
		{"2019 count NaN", "HashFunction,Trigger,1\nh,http,NaN\n", "count"},
		{"2019 first minute huge", "HashFunction,Trigger,99999999999\nh,http,1\n", "minute index"},
		{"2019 first minute negative", "HashFunction,Trigger,-5\nh,http,1\n", "minute index"},
		{"2019 too many minutes", "HashFunction,Trigger" + strings.Repeat(",1", MaxMinutes+1) + "\n", "minute columns"},
		{"counts Inf", "3\nInf\n", "line 2: count"},
		{"counts too long", strings.Repeat("1\n", MaxMinutes+1), "more than 44640"},
		{"durations Inf", durHead + "o,a,h,1,2,3,Inf,5,6,7,8,9,10,11\n", "line 2: Maximum"},
		{"durations huge ms", durHead + "o,a,h,1e300,2,3,4,5,6,7,8,9,10,11\n", "line 2: Average"},
		{"durations NaN count", durHead + "o,a,h,1,NaN,3,4,5,6,7,8,9,10,11\n", "line 2: Count"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if strings.HasPrefix(tc.in, "HashOwner,HashApp,HashFunction,Average") {
				_, err = ParseDurations(strings.NewReader(tc.in))
			} else {
				_, err = Read(strings.NewReader(tc.in))
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrBounds) {
				t.Fatalf("error %v, want ErrBounds mentioning %q", err, tc.want)
			}
		})
	}
}

// TestBoundsCells: many functions with one row each cannot together ask
// for more than MaxCells per-minute counts.
func TestBoundsCells(t *testing.T) {
	var b strings.Builder
	b.WriteString(head2021)
	for i := 0; i < MaxCells/MaxMinutes+2; i++ {
		fmt.Fprintf(&b, "a,f%d,2678399,0\n", i)
	}
	_, err := Read(strings.NewReader(b.String()))
	if err == nil || !errors.Is(err, ErrBounds) || !strings.Contains(err.Error(), "per-minute counts") {
		t.Fatalf("error %v, want the MaxCells bound", err)
	}
}

// TestOpenNamesFileLineField: the error from Open names the file, the line
// and the field.
func TestOpenNamesFileLineField(t *testing.T) {
	p := filepath.Join(t.TempDir(), "t.csv")
	if err := os.WriteFile(p, []byte(head2021+"a,f,1,0\na,f,1e300,0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(p)
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{p, "line 3", "end_timestamp", "1e300"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}

// TestBoundsAcceptTheEdges: values at the bounds still read.
func TestBoundsAcceptTheEdges(t *testing.T) {
	fns, err := Read(strings.NewReader(head2021 + "a,f,2678399,86400\na,f,0,0\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(fns[0].Counts) > MaxMinutes {
		t.Fatalf("%d minutes, more than MaxMinutes", len(fns[0].Counts))
	}
	if _, err := Read(strings.NewReader("HashFunction,Trigger,1\nh,http,1e8\n")); err != nil {
		t.Fatal(err)
	}
}
