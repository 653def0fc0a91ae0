package async

import (
	"net/http"
	"testing"
)

// The embedded server's counters grow with what the queue publishes: an
// accepted async request is at least one message in.
func TestNATSTrafficCounts(t *testing.T) {
	fn := newRecorder(t, nil)
	q, srv := startQueue(t, testConfig(t, fn.srv.URL, newFnSet("echo")))
	before, err := q.NATSTraffic()
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if resp, _ := post(t, srv.URL+"/async-function/echo", []byte("x"), nil); resp.StatusCode != http.StatusAccepted {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	after, err := q.NATSTraffic()
	if err != nil {
		t.Fatal(err)
	}
	if after.InMsgs-before.InMsgs < 3 || after.InBytes <= before.InBytes || after.OutMsgs < before.OutMsgs {
		t.Fatalf("traffic before %+v, after %+v", before, after)
	}
}
