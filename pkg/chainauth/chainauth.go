package chainauth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// SecretName is the OpenFaaS secret that holds the chain key(s).
const SecretName = "prescale-chain-key"

// Key bounds.
const (
	MinKeyLen = 16   // bytes of one key (after trimming)
	MaxKeyLen = 4096 // bytes of one key
	MaxKeys   = 2    // the current key and the previous one
)

// Legs of the chain, the domains a signature is bound to: a signed probe
// payload is never accepted as a prediction, nor the other way round.
const (
	LegProbe      = "probe"      // load-probe → predictor
	LegPrediction = "prediction" // predictor → (callback) scaler
	// The batch forms of the two legs (chain.ProbeBatch,
	// chain.PredictionBatch): one signature over a whole batch.
	LegProbeBatch      = "probe-batch"
	LegPredictionBatch = "prediction-batch"
)

// validLeg reports whether leg is one of the Leg constants.
func validLeg(leg string) bool {
	switch leg {
	case LegProbe, LegPrediction, LegProbeBatch, LegPredictionBatch:
		return true
	}
	return false
}

// Errors, compared with errors.Is. Each names why a message is rejected.
var (
	ErrNoKey      = errors.New("no chain key")
	ErrBadKey     = errors.New("bad chain key")
	ErrUnsigned   = errors.New("unsigned message")
	ErrMalformed  = errors.New("malformed signature")
	ErrBadSig     = errors.New("signature does not verify")
	ErrStale      = errors.New("stale message")
	ErrReplayed   = errors.New("replayed message")
	ErrIDMismatch = errors.New("call id mismatch")
	errInvalidLeg = errors.New("unknown chain leg")
)

var idRE = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

const (
	version   = "prescale-chain-v1" // bound into every signature
	sigHexLen = 2 * sha256.Size
)

// Auth is the signature a chain message carries (the "auth" field of
// chain.ProbePayload and chain.Prediction).
type Auth struct {
	// Timestamp is when the message was signed, Unix milliseconds.
	Timestamp int64 `json:"ts"`
	// ID is a random nonce (load-probe) or the async call id the
	// predictor was invoked with; the scaler accepts each id once.
	ID string `json:"id"`
	// Sig is the hex HMAC-SHA256 of the signing input.
	Sig string `json:"sig"`
}

// Time is the signing time.
func (a Auth) Time() time.Time { return time.UnixMilli(a.Timestamp).UTC() }

// Keys are the chain keys: the first signs, every one verifies.
type Keys struct {
	keys [][]byte
}

// ParseKeys reads the secret's content: one key per line (blank lines
// ignored, surrounding whitespace trimmed), 1..MaxKeys keys of
// MinKeyLen..MaxKeyLen bytes each.
func ParseKeys(secret string) (Keys, error) {
	var k Keys
	for _, line := range strings.Split(secret, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if len(line) < MinKeyLen || len(line) > MaxKeyLen {
			return Keys{}, fmt.Errorf("%w: secret %s line %d has %d bytes, must have %d..%d",
				ErrBadKey, SecretName, len(k.keys)+1, len(line), MinKeyLen, MaxKeyLen)
		}
		k.keys = append(k.keys, []byte(line))
	}
	switch {
	case len(k.keys) == 0:
		return Keys{}, fmt.Errorf("%w: secret %s is empty", ErrNoKey, SecretName)
	case len(k.keys) > MaxKeys:
		return Keys{}, fmt.Errorf("%w: secret %s holds %d keys, at most %d (the current key, then the previous one)",
			ErrBadKey, SecretName, len(k.keys), MaxKeys)
	}
	return k, nil
}

// MustKeys is ParseKeys for literals in tests and examples; it panics on a
// bad key.
func MustKeys(secret string) Keys {
	k, err := ParseKeys(secret)
	if err != nil {
		panic(err)
	}
	return k
}

// Len is the number of keys (0: none configured, nothing verifies).
func (k Keys) Len() int { return len(k.keys) }

// NewID returns a random 128-bit nonce (hex) for a message that has no
// call id.
func NewID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("chain nonce: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// ValidID reports whether id can be a message id: 1..128 characters of
// [A-Za-z0-9._:-] (a UUID, a hex nonce).
func ValidID(id string) bool { return idRE.MatchString(id) }

// Sign signs payload for leg at time at with id (see ValidID) with the
// current key.
func (k Keys) Sign(leg string, payload []byte, at time.Time, id string) (Auth, error) {
	if len(k.keys) == 0 {
		return Auth{}, ErrNoKey
	}
	if !validLeg(leg) {
		return Auth{}, fmt.Errorf("%w %q", errInvalidLeg, leg)
	}
	if !ValidID(id) {
		return Auth{}, fmt.Errorf("%w: id %q must be 1..128 characters of [A-Za-z0-9._:-]", ErrMalformed, id)
	}
	a := Auth{Timestamp: at.UnixMilli(), ID: id}
	a.Sig = hex.EncodeToString(mac(k.keys[0], leg, a.Timestamp, id, payload))
	return a, nil
}

// Verify checks that a is a signature of payload for leg by one of the
// keys, made at most maxAge before now (and at most maxAge after it: clock
// skew). The error wraps ErrUnsigned (a nil a), ErrMalformed, ErrBadSig,
// ErrStale or ErrNoKey and says which.
func (k Keys) Verify(leg string, payload []byte, a *Auth, now time.Time, maxAge time.Duration) error {
	if a == nil {
		return ErrUnsigned
	}
	if len(k.keys) == 0 {
		return fmt.Errorf("%w: nothing can be verified", ErrNoKey)
	}
	if !validLeg(leg) {
		return fmt.Errorf("%w %q", errInvalidLeg, leg)
	}
	if !ValidID(a.ID) {
		return fmt.Errorf("%w: id %q must be 1..128 characters of [A-Za-z0-9._:-]", ErrMalformed, a.ID)
	}
	if len(a.Sig) != sigHexLen {
		return fmt.Errorf("%w: sig must be %d hex digits, has %d characters", ErrMalformed, sigHexLen, len(a.Sig))
	}
	sig, err := hex.DecodeString(a.Sig)
	if err != nil {
		return fmt.Errorf("%w: sig is not hex", ErrMalformed)
	}
	ok := false
	for _, key := range k.keys {
		// Every key is tried (no early exit), so the time taken does not
		// say which one matched.
		if hmac.Equal(sig, mac(key, leg, a.Timestamp, a.ID, payload)) {
			ok = true
		}
	}
	if !ok {
		return fmt.Errorf("%w (leg %s, id %s)", ErrBadSig, leg, a.ID)
	}
	// The age is checked after the signature: a forged timestamp is a
	// forgery, not a stale message.
	// Times, not durations, are compared: a timestamp centuries away
	// cannot overflow a time.Duration into looking fresh.
	at := a.Time()
	switch {
	case at.Before(now.Add(-maxAge)):
		return fmt.Errorf("%w: signed %s ago at %s, more than stale_after %s", ErrStale, now.Sub(at).Round(time.Millisecond), at.Format(time.RFC3339Nano), maxAge)
	case at.After(now.Add(maxAge)):
		return fmt.Errorf("%w: signed %s in the future at %s, more than stale_after %s (clock skew?)", ErrStale, at.Sub(now).Round(time.Millisecond), at.Format(time.RFC3339Nano), maxAge)
	}
	return nil
}

// mac is HMAC-SHA256(key, version \n leg \n ts \n id \n payload). The id
// and leg cannot contain a newline, so the fields cannot run into each
// other.
func mac(key []byte, leg string, ts int64, id string, payload []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(version + "\n" + leg + "\n" + strconv.FormatInt(ts, 10) + "\n" + id + "\n"))
	h.Write(payload)
	return h.Sum(nil)
}
