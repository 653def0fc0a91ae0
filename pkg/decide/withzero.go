package decide

import "fmt"

// WithZero applies a scale-to-zero decision z to the load policy's
// decision d (Policy.Decide for the same function and instant): the one
// way the scaler, the simulator and the tests combine the two. Pure.
//
// The load policy owns every count from two replicas up (its need,
// max(predicted, reactive), and its stabilization): when it wants two or
// more, that stands. Between zero and one replica the zero decision rules
// — the same split as the simulator's scale-to-zero controllers: a
// function that the load policy would hold at its one-replica minimum is
// released when z.Floor is 0, and pre-warmed (0 → 1) when z.Floor is 1.
// Requests in flight always keep one replica. A z with no opinion
// (scale to zero off) leaves d as it is; z is recorded on the decision, and
// its reason joins d's.
func WithZero(d Decision, z ZeroDecision) Decision {
	if d.Invalid || z.Rule == RuleDisabled || z.Rule == "" {
		return d
	}
	zc := z
	d.Zero = &zc
	policy := d.After
	target := policy
	if policy < 2 && max(d.Predicted, d.Reactive) < 2 {
		target = max(z.Floor, 0)
		if d.Observed.InFlight > 0 || z.Floor < 0 {
			target = max(target, 1)
		}
	}
	d.Reasons = append(d.Reasons, fmt.Sprintf("zero (%s): %s", z.Rule, z.Reason))
	if target != policy {
		d.After = target
		why := z.Reason
		if d.ForecastOnly && d.After != d.Before {
			why = "forecast-only: would " + why
		}
		d.Reason = why
	} else if target <= 1 && target == z.Floor && policy < 2 {
		d.Reason = z.Reason // the zero decision is why, even where the policy agrees
	}
	d.Scale = d.After != d.Before && !d.ForecastOnly
	return d
}
