package async

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// DLQ inspects and manages the dead-letter stream (prescale dlq).
type DLQ struct {
	js    jetstream.JetStream
	names Names
}

// Entry is one dead letter with its stream sequence.
type Entry struct {
	Seq     uint64     `json:"seq"`
	Subject string     `json:"subject"`
	Stored  time.Time  `json:"stored"`
	Letter  DeadLetter `json:"letter"`
	// Err is set when the stored data does not decode.
	Err string `json:"error,omitempty"`
}

// OpenDLQ uses nc and creates the streams, at the default limits, if they
// do not exist yet (existing streams keep the limits the plugin set).
func OpenDLQ(ctx context.Context, nc *nats.Conn, names Names) (*DLQ, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	_, errQ := js.Stream(ctx, names.Stream)
	_, errD := js.Stream(ctx, names.DLQStream)
	if errQ != nil || errD != nil {
		if err := ensureStreams(ctx, js, names, limitsOf(Defaults())); err != nil {
			return nil, err
		}
	}
	return &DLQ{js: js, names: names}, nil
}

// List returns every dead letter, oldest first.
func (d *DLQ) List(ctx context.Context) ([]Entry, error) {
	s, err := d.js.Stream(ctx, d.names.DLQStream)
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", d.names.DLQStream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", d.names.DLQStream, err)
	}
	var out []Entry
	if info.State.Msgs == 0 {
		return out, nil
	}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		e, err := d.get(ctx, s, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return out, err
		}
		out = append(out, e)
	}
	return out, nil
}

// Get returns the dead letter at seq.
func (d *DLQ) Get(ctx context.Context, seq uint64) (Entry, error) {
	s, err := d.js.Stream(ctx, d.names.DLQStream)
	if err != nil {
		return Entry{}, fmt.Errorf("stream %s: %w", d.names.DLQStream, err)
	}
	return d.get(ctx, s, seq)
}

func (d *DLQ) get(ctx context.Context, s jetstream.Stream, seq uint64) (Entry, error) {
	m, err := s.GetMsg(ctx, seq)
	if err != nil {
		return Entry{}, fmt.Errorf("dead letter %d: %w", seq, err)
	}
	e := Entry{Seq: m.Sequence, Subject: m.Subject, Stored: m.Time}
	if err := json.Unmarshal(m.Data, &e.Letter); err != nil {
		e.Err = fmt.Sprintf("undecodable dead letter: %v", err)
	}
	return e, nil
}

// Replay puts the request of dead letter seq back on the work stream (with
// its original call id) and then deletes the dead letter.
func (d *DLQ) Replay(ctx context.Context, seq uint64) (Request, error) {
	e, err := d.Get(ctx, seq)
	if err != nil {
		return Request{}, err
	}
	if e.Err != "" {
		return Request{}, fmt.Errorf("dead letter %d: %s", seq, e.Err)
	}
	req := e.Letter.Request
	if !ValidFunctionName(req.Function) {
		return Request{}, fmt.Errorf("dead letter %d: invalid function name %q", seq, req.Function)
	}
	req.QueuedAt = time.Now().UTC()
	data, err := json.Marshal(req)
	if err != nil {
		return Request{}, fmt.Errorf("encode request: %w", err)
	}
	// A replay is a new submission of the same call: its own message id,
	// so the de-duplication window does not swallow it.
	ack, err := d.js.Publish(ctx, d.names.subject(req.Function), data, jetstream.WithExpectStream(d.names.Stream),
		jetstream.WithMsgID(fmt.Sprintf("%s/replay/%d", req.CallID, seq)))
	if err != nil {
		return Request{}, fmt.Errorf("requeue dead letter %d: %w", seq, err)
	}
	if ack.Duplicate {
		return Request{}, fmt.Errorf("requeue dead letter %d: already replayed (call %s)", seq, req.CallID)
	}
	if err := d.Delete(ctx, seq); err != nil {
		return req, fmt.Errorf("requeued, but %w", err)
	}
	return req, nil
}

// Delete removes dead letter seq.
func (d *DLQ) Delete(ctx context.Context, seq uint64) error {
	s, err := d.js.Stream(ctx, d.names.DLQStream)
	if err != nil {
		return fmt.Errorf("stream %s: %w", d.names.DLQStream, err)
	}
	if err := s.DeleteMsg(ctx, seq); err != nil {
		return fmt.Errorf("delete dead letter %d: %w", seq, err)
	}
	return nil
}

// Purge removes every dead letter and returns how many there were.
func (d *DLQ) Purge(ctx context.Context) (uint64, error) {
	s, err := d.js.Stream(ctx, d.names.DLQStream)
	if err != nil {
		return 0, fmt.Errorf("stream %s: %w", d.names.DLQStream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("stream %s: %w", d.names.DLQStream, err)
	}
	if err := s.Purge(ctx); err != nil {
		return 0, fmt.Errorf("purge %s: %w", d.names.DLQStream, err)
	}
	return info.State.Msgs, nil
}

// DLQ returns a DLQ over the queue's own connection.
func (q *Queue) DLQ() *DLQ { return &DLQ{js: q.js, names: q.names} }
