package decide_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prescale/prescale/pkg/decide"
	"github.com/prescale/prescale/pkg/faas"
)

// The stabilization label is read by the one duration parser: integer
// seconds or a Go duration, overflow, NaN/Inf and negatives refused.
func TestStabilizationLabel(t *testing.T) {
	for v, want := range map[string]time.Duration{"120": 2 * time.Minute, "90s": 90 * time.Second, "0": 0} {
		s, err := decide.ParseSettings(map[string]string{decide.LabelStabilization: v}, decide.DefaultSettings())
		if err != nil || s.Stabilization != want {
			t.Errorf("%q: %s, %v; want %s", v, s.Stabilization, err, want)
		}
	}
	for _, v := range []string{"18446744074", "-1", "NaN", "Inf", "soon"} {
		_, err := decide.ParseSettings(map[string]string{decide.LabelStabilization: v}, decide.DefaultSettings())
		if !errors.Is(err, faas.ErrDuration) || !strings.Contains(err.Error(), "label "+decide.LabelStabilization) || !strings.Contains(err.Error(), "0..86400") {
			t.Errorf("%q: %v; want a duration error naming the label and its range", v, err)
		}
	}
	if _, err := decide.ParseSettings(map[string]string{decide.LabelStabilization: "25h"}, decide.DefaultSettings()); err == nil || errors.Is(err, faas.ErrDuration) {
		t.Errorf("25h: %v; want a range error", err)
	}
}
