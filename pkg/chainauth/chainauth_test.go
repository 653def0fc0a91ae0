package chainauth

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

const (
	keyA = "0123456789abcdef0123456789abcdef"
	keyB = "fedcba9876543210fedcba9876543210"
)

var t0 = time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)

func TestSignVerify(t *testing.T) {
	k := MustKeys(keyA)
	body := []byte(`{"function":"hello"}`)
	a, err := k.Sign(LegPrediction, body, t0, "call-1")
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != "call-1" || !a.Time().Equal(t0) || len(a.Sig) != 64 {
		t.Fatalf("auth %+v", a)
	}
	if err := k.Verify(LegPrediction, body, &a, t0.Add(30*time.Second), 90*time.Second); err != nil {
		t.Fatalf("valid signature: %v", err)
	}
	tamper := func(f func(*Auth)) *Auth { c := a; f(&c); return &c }
	tests := []struct {
		name  string
		keys  Keys
		leg   string
		body  string
		auth  *Auth
		now   time.Time
		want  error
		words string
	}{
		{"unsigned", k, LegPrediction, string(body), nil, t0, ErrUnsigned, "unsigned"},
		{"wrong key", MustKeys(keyB), LegPrediction, string(body), &a, t0, ErrBadSig, "does not verify"},
		{"other body", k, LegPrediction, `{"function":"hello-python"}`, &a, t0, ErrBadSig, "does not verify"},
		{"other leg", k, LegProbe, string(body), &a, t0, ErrBadSig, "does not verify"},
		{"forged timestamp", k, LegPrediction, string(body), tamper(func(c *Auth) { c.Timestamp += 1000 }), t0, ErrBadSig, "does not verify"},
		{"forged id", k, LegPrediction, string(body), tamper(func(c *Auth) { c.ID = "call-2" }), t0, ErrBadSig, "does not verify"},
		{"stale", k, LegPrediction, string(body), &a, t0.Add(91 * time.Second), ErrStale, "ago"},
		{"future", k, LegPrediction, string(body), &a, t0.Add(-91 * time.Second), ErrStale, "future"},
		{"bad id", k, LegPrediction, string(body), tamper(func(c *Auth) { c.ID = "a\nb" }), t0, ErrMalformed, "id"},
		{"short sig", k, LegPrediction, string(body), tamper(func(c *Auth) { c.Sig = "abcd" }), t0, ErrMalformed, "hex digits"},
		{"not hex", k, LegPrediction, string(body), tamper(func(c *Auth) { c.Sig = strings.Repeat("zz", 32) }), t0, ErrMalformed, "not hex"},
		{"no keys", Keys{}, LegPrediction, string(body), &a, t0, ErrNoKey, "no chain key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.keys.Verify(tc.leg, []byte(tc.body), tc.auth, tc.now, 90*time.Second)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.words) {
				t.Fatalf("%v, want %v (%q)", err, tc.want, tc.words)
			}
		})
	}
	// A validly signed timestamp centuries away is stale, not fresh by
	// overflow.
	for _, far := range []int64{math.MaxInt64, math.MinInt64, 1 << 62, -(1 << 62)} {
		b, err := k.Sign(LegPrediction, body, time.UnixMilli(far), "far")
		if err != nil {
			t.Fatal(err)
		}
		if err := k.Verify(LegPrediction, body, &b, t0, 90*time.Second); !errors.Is(err, ErrStale) {
			t.Errorf("timestamp %d: %v, want stale", far, err)
		}
	}
	// Exactly stale_after old is still fresh.
	if err := k.Verify(LegPrediction, body, &a, t0.Add(90*time.Second), 90*time.Second); err != nil {
		t.Fatalf("at the boundary: %v", err)
	}
}

// Rotation: the first line signs, the second (previous) key still
// verifies; a key dropped from the secret no longer does.
func TestRotation(t *testing.T) {
	body := []byte("payload")
	old, _ := MustKeys(keyA).Sign(LegProbe, body, t0, "n1")
	rotated := MustKeys(keyB + "\n" + keyA + "\n")
	if err := rotated.Verify(LegProbe, body, &old, t0, time.Minute); err != nil {
		t.Fatalf("previous key refused after rotation: %v", err)
	}
	fresh, err := rotated.Sign(LegProbe, body, t0, "n2")
	if err != nil {
		t.Fatal(err)
	}
	if err := MustKeys(keyB).Verify(LegProbe, body, &fresh, t0, time.Minute); err != nil {
		t.Fatalf("the first line does not sign: %v", err)
	}
	if err := MustKeys(keyA).Verify(LegProbe, body, &fresh, t0, time.Minute); !errors.Is(err, ErrBadSig) {
		t.Fatalf("signed with the previous key: %v", err)
	}
	if err := MustKeys(keyB).Verify(LegProbe, body, &old, t0, time.Minute); !errors.Is(err, ErrBadSig) {
		t.Fatalf("retired key still verifies: %v", err)
	}
	// Phase one of a rotation ("old\nnew"): the old key signs, both verify.
	phase1 := MustKeys(keyA + "\n" + keyB)
	if err := phase1.Verify(LegProbe, body, &fresh, t0, time.Minute); err != nil {
		t.Fatalf("phase one refuses the new key: %v", err)
	}
}

func TestParseKeys(t *testing.T) {
	for _, tc := range []struct {
		secret string
		n      int
		want   error
	}{
		{keyA, 1, nil},
		{"  " + keyA + "  \n\n", 1, nil},
		{keyA + "\r\n" + keyB + "\r\n", 2, nil},
		{"", 0, ErrNoKey},
		{"\n \n", 0, ErrNoKey},
		{"short", 0, ErrBadKey},
		{keyA + "\n" + keyB + "\n" + keyA, 0, ErrBadKey},
		{strings.Repeat("k", MaxKeyLen+1), 0, ErrBadKey},
	} {
		k, err := ParseKeys(tc.secret)
		if !errors.Is(err, tc.want) || k.Len() != tc.n {
			t.Errorf("ParseKeys(%q) = %d keys, %v; want %d, %v", tc.secret, k.Len(), err, tc.n, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), keyA) {
			t.Errorf("the error shows the key: %v", err)
		}
	}
}

func TestSignRefuses(t *testing.T) {
	if _, err := (Keys{}).Sign(LegProbe, nil, t0, "x"); !errors.Is(err, ErrNoKey) {
		t.Fatalf("no key: %v", err)
	}
	if _, err := MustKeys(keyA).Sign(LegProbe, nil, t0, ""); !errors.Is(err, ErrMalformed) {
		t.Fatalf("empty id: %v", err)
	}
	if _, err := MustKeys(keyA).Sign("sideways", nil, t0, "x"); err == nil {
		t.Fatal("unknown leg signed")
	}
	id, err := NewID()
	if err != nil || !ValidID(id) || len(id) != 32 {
		t.Fatalf("NewID %q %v", id, err)
	}
}

// FuzzVerify: any signature fields and body give an error or, only for a
// genuine signature, nil — never a panic, never a forged acceptance.
func FuzzVerify(f *testing.F) {
	k := MustKeys(keyA)
	good, _ := k.Sign(LegProbe, []byte("body"), t0, "id-1")
	f.Add([]byte("body"), good.Timestamp, good.ID, good.Sig)
	f.Add([]byte(""), int64(0), "", "")
	f.Add([]byte("x"), int64(-1), "a\nb", strings.Repeat("0", 64))
	f.Fuzz(func(t *testing.T, body []byte, ts int64, id, sig string) {
		a := Auth{Timestamp: ts, ID: id, Sig: sig}
		err := k.Verify(LegProbe, body, &a, t0, time.Minute)
		if err == nil && !(string(body) == "body" && ts == good.Timestamp && id == good.ID && strings.EqualFold(sig, good.Sig)) {
			t.Fatalf("forged signature accepted: %q %+v", body, a)
		}
	})
}
