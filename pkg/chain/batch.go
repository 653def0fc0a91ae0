package chain

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/prescale/prescale/pkg/chainauth"
)

// MaxBatch is the most items a ProbeBatch or a PredictionBatch may carry;
// a receiver refuses a larger batch whole (ErrBatchTooLarge).
const MaxBatch = 500

// The chain's batching defaults, one copy for the functions and the
// benchmark that reports on them.
const (
	// DefaultBatchSize is load-probe's batch_size: functions per predictor
	// call (one shard of a run).
	DefaultBatchSize = 50
	// DefaultBatchMaxBytes is load-probe's batch_max_bytes: a shard's body
	// stays under the async queue's default 256,000-byte limit (the plugin
	// and OpenFaaS).
	DefaultBatchMaxBytes = 250000
	// ListMin is the fewest functions of one namespace in a batch for
	// which the scaler lists the namespace once instead of reading each
	// function. A list returns every function of the namespace: with N
	// functions in batches of k, listing costs N/k statuses per function
	// and tick (at 500 functions in batches of ~8, about 62 times the
	// single reads), so small batches read their functions one by one and
	// only large ones list.
	ListMin = 33
)

// Batch errors, compared with errors.Is.
var (
	ErrBatchTooLarge = fmt.Errorf("batch over %d items", MaxBatch)
	ErrEmptyBatch    = errors.New("batch has no items")
)

// ProbeBatch is what load-probe sends predictor once per run per shard of
// functions: every function's observation in the shard. Its items carry
// no signature of their own: the batch is signed once
// (chainauth.LegProbeBatch) over its canonical bytes.
type ProbeBatch struct {
	At     time.Time       `json:"at"` // the run's time (every item's At)
	Source string          `json:"source"`
	Items  []ProbePayload  `json:"items"`
	Auth   *chainauth.Auth `json:"auth,omitempty"`
}

// PredictionBatch is predictor's answer to a ProbeBatch: one prediction per
// item it could forecast, one error per item it could not (a bad item
// never sinks the batch). Signed once (chainauth.LegPredictionBatch) only
// when the ProbeBatch was validly signed.
type PredictionBatch struct {
	At          time.Time    `json:"at"`
	Predictions []Prediction `json:"predictions"`
	Errors      []ItemError  `json:"errors,omitempty"`
	// Reasons say why the answer is unsigned, when it is.
	Reasons []string        `json:"reasons,omitempty"`
	Auth    *chainauth.Auth `json:"auth,omitempty"`
}

// ItemError is one item of a batch that was not answered or applied.
type ItemError struct {
	Index    int    `json:"index"` // the item's position in the batch
	Function string `json:"function"`
	Error    string `json:"error"`
}

// CheckSize says whether a batch of n items may be acted on.
func CheckSize(n int) error {
	switch {
	case n == 0:
		return ErrEmptyBatch
	case n > MaxBatch:
		return fmt.Errorf("%w: %d items (load-probe's batch_size bounds a shard)", ErrBatchTooLarge, n)
	}
	return nil
}

// SizeStatus is the HTTP status a receiver answers to err from CheckSize:
// 413 for a batch too large, 400 for an empty one.
func SizeStatus(err error) int {
	if errors.Is(err, ErrBatchTooLarge) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

// canonical is v's JSON encoding (v has had its auth field cleared).
func canonical(what string, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("canonical %s: %w", what, err)
	}
	return b, nil
}

func verify(keys chainauth.Keys, leg string, b []byte, err error, a *chainauth.Auth, now time.Time, maxAge time.Duration) error {
	if a == nil {
		return chainauth.ErrUnsigned
	}
	if err != nil {
		return fmt.Errorf("%w: %v", chainauth.ErrMalformed, err)
	}
	return keys.Verify(leg, b, a, now, maxAge)
}

// Canonical is what load-probe's signature covers: the batch's JSON
// without its auth field (see ProbePayload.Canonical).
func (b ProbeBatch) Canonical() ([]byte, error) {
	b.Auth = nil
	return canonical("probe batch", b)
}

// Sign sets b.Auth: one signature over the whole batch.
func (b *ProbeBatch) Sign(keys chainauth.Keys, now time.Time, id string) error {
	c, err := b.Canonical()
	if err != nil {
		return err
	}
	a, err := keys.Sign(chainauth.LegProbeBatch, c, now, id)
	if err != nil {
		return fmt.Errorf("sign probe batch of %d: %w", len(b.Items), err)
	}
	b.Auth = &a
	return nil
}

// Verify checks b.Auth at now.
func (b ProbeBatch) Verify(keys chainauth.Keys, now time.Time, maxAge time.Duration) error {
	c, err := b.Canonical()
	return verify(keys, chainauth.LegProbeBatch, c, err, b.Auth, now, maxAge)
}

// Canonical is what predictor's signature covers: the batch's JSON
// without its auth field.
func (b PredictionBatch) Canonical() ([]byte, error) {
	b.Auth = nil
	return canonical("prediction batch", b)
}

// Sign sets b.Auth: one signature over the whole batch with id (the async
// call id the predictor was invoked with, or a nonce).
func (b *PredictionBatch) Sign(keys chainauth.Keys, now time.Time, id string) error {
	c, err := b.Canonical()
	if err != nil {
		return err
	}
	a, err := keys.Sign(chainauth.LegPredictionBatch, c, now, id)
	if err != nil {
		return fmt.Errorf("sign prediction batch of %d: %w", len(b.Predictions), err)
	}
	b.Auth = &a
	return nil
}

// Verify checks b.Auth at now.
func (b PredictionBatch) Verify(keys chainauth.Keys, now time.Time, maxAge time.Duration) error {
	c, err := b.Canonical()
	return verify(keys, chainauth.LegPredictionBatch, c, err, b.Auth, now, maxAge)
}

// IsBatch reports whether a JSON object (its top-level keys) is a batch
// (ProbeBatch: "items"; PredictionBatch: "predictions") rather than one
// function's message.
func IsBatch(keys map[string]json.RawMessage) bool {
	_, items := keys["items"]
	_, preds := keys["predictions"]
	return items || preds
}
