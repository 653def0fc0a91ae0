package function

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/prescale/prescale/pkg/chain"
	"github.com/prescale/prescale/pkg/decide"
	"github.com/prescale/prescale/pkg/gwtest"
	"github.com/prescale/prescale/pkg/natstest"
)

func TestShards(t *testing.T) {
	for name, tc := range map[string]struct {
		sizes         []int
		items, nbytes int
		want          [][2]int
	}{
		"none":           {nil, 3, 100, nil},
		"item limit":     {[]int{1, 1, 1, 1, 1, 1, 1}, 3, 100, [][2]int{{0, 3}, {3, 6}, {6, 7}}},
		"byte limit":     {[]int{40, 40, 40, 10, 10}, 50, 100, [][2]int{{0, 2}, {2, 5}}},
		"exactly full":   {[]int{50, 50, 50}, 10, 100, [][2]int{{0, 2}, {2, 3}}},
		"oversize alone": {[]int{10, 500, 10}, 10, 100, [][2]int{{0, 1}, {1, 2}, {2, 3}}},
		"one per shard":  {[]int{1, 1}, 1, 100, [][2]int{{0, 1}, {1, 2}}},
	} {
		t.Run(name, func(t *testing.T) {
			got := shards(tc.sizes, tc.items, tc.nbytes)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("shards(%v, %d, %d) = %v, want %v", tc.sizes, tc.items, tc.nbytes, got, tc.want)
			}
		})
	}
}

// A run over 7 opted-in functions with batch_size 3 makes 3 predictor
// calls (3, 3, 1 functions), each signed once; every function is in
// exactly one batch, and its run names that batch's call id.
func TestRunSendsShardedSignedBatches(t *testing.T) {
	gw := gwtest.New(t)
	ns := natstest.Start(t)
	gw.Env(t, ns.ClientURL())
	t.Setenv("batch_size", "3")
	t.Setenv("workers", "4")
	var names []string
	for i := range 7 {
		n := fmt.Sprintf("fn-%d", i)
		names = append(names, n)
		gw.SetFunction(n, 1, map[string]string{decide.LabelEnabled: "true"})
	}
	gw.SetFunction("not-me", 1, nil)
	gw.SetMetrics(gwtest.Metrics("fn-0", 100, 0, 100, 1, 5, map[string]float64{"0.1": 100}))
	if res, _ := call(t); res.StatusCode != http.StatusOK || len(gw.Asyncs()) != 0 {
		t.Fatalf("baseline run: %d %s, %d async calls", res.StatusCode, res.Body, len(gw.Asyncs()))
	}
	gw.SetMetrics(gwtest.Metrics("fn-0", 160, 0, 160, 1, 11, map[string]float64{"0.1": 160}))
	res, _ := call(t)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("run: %d %s", res.StatusCode, res.Body)
	}
	var out Result
	if err := json.Unmarshal(res.Body, &out); err != nil || len(out.Functions) != 7 {
		t.Fatalf("result %s: %v", res.Body, err)
	}
	as := gw.Asyncs()
	if len(as) != 3 {
		t.Fatalf("%d predictor calls, want 3", len(as))
	}
	callOf := map[string]string{}
	for _, r := range out.Functions {
		if r.Error != "" || r.CallID == "" {
			t.Fatalf("run %+v", r)
		}
		callOf[r.Function] = r.CallID
	}
	var seen []string
	for i, a := range as {
		var b chain.ProbeBatch
		if err := json.Unmarshal(a.Body, &b); err != nil {
			t.Fatal(err)
		}
		if err := b.Verify(gw.Keys(t), time.Now(), time.Minute); err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
		if want := []int{3, 3, 1}[i]; len(b.Items) != want {
			t.Fatalf("batch %d has %d items, want %d", i, len(b.Items), want)
		}
		for _, it := range b.Items {
			if it.Auth != nil || !it.At.Equal(b.At) || len(it.History) != 2 {
				t.Fatalf("batch %d item %+v", i, it)
			}
			if callOf[it.Function] != a.CallID {
				t.Fatalf("%s: run names call %q, sent in %q", it.Function, callOf[it.Function], a.CallID)
			}
			seen = append(seen, it.Function)
		}
	}
	if !reflect.DeepEqual(seen, names) {
		t.Fatalf("batched functions %v, want each of %v once, in order", seen, names)
	}
}
