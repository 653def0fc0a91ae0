package runtime

import (
	"net/http"
	"sync"
	"testing"
	"time"
)

// TestForkOverloadQueuesNo429 reproduces an overloaded run against a
// fork-mode function with max_inflight 1 (hello-python in stack.yml): the
// dispatcher queues what one replica cannot take, so no client may see the
// watchdog's 429 — not even while impatient clients abandon requests that
// are running (as hey does when its timeout passes), leaving the watchdog
// busy killing and reaping the child after the plugin's slot is free.
func TestForkOverloadQueuesNo429(t *testing.T) {
	m := newManager(t, nil)
	gw := gateway(t, m)
	s := forkSpec(t, "busy", "cat >/dev/null; sleep 0.02; echo ok\n", 1)
	s.MaxInflight = 1
	s.Env = map[string]string{"max_inflight": "1"} // as stack.yml sets it: reaches the watchdog too
	deploy(t, m, s)
	waitAvailable(t, m, "busy", 1)

	const clients, perClient = 8, 12
	impatient := &http.Client{Timeout: 30 * time.Millisecond}
	var (
		mu                        sync.Mutex
		codes                     = map[int]int{}
		abandoned, served, failed int
		tooMany                   []string
	)
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perClient; i++ {
				cl := client
				if c%2 == 1 && i%2 == 0 { // half the clients give up on every other request
					cl = impatient
				}
				res := do(cl, "POST", gw.URL+"/function/busy", "x", nil)
				mu.Lock()
				switch {
				case res.err != nil && cl == impatient:
					abandoned++
				case res.err != nil:
					failed++
				default:
					codes[res.code]++
					if res.code == http.StatusOK {
						served++
					}
					if res.code == http.StatusTooManyRequests {
						tooMany = append(tooMany, res.header.Get(InternalHeader)+": "+res.body)
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	t.Logf("served %d, abandoned %d, failed %d, codes %v", served, abandoned, failed, codes)
	if len(tooMany) > 0 {
		t.Fatalf("%d responses were 429 although the dispatcher queues: %q", len(tooMany), tooMany[0])
	}
	if failed > 0 || served+abandoned != clients*perClient || codes[http.StatusOK] != served || len(codes) != 1 {
		t.Fatalf("served %d + abandoned %d of %d, failed %d, codes %v", served, abandoned, clients*perClient, failed, codes)
	}
	if abandoned == 0 {
		t.Fatal("no request was abandoned: the test did not exercise the race")
	}
}
