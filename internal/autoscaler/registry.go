package autoscaler

import (
	"fmt"
	"strings"

	"github.com/prescale/prescale/internal/sim"
	"github.com/prescale/prescale/pkg/inference"
)

// Names lists every policy in report order.
func Names() []string {
	return []string{"static", "ce-alert", "hpa", "kpa", "pro-rps", "phpa", "prescale", "oracle"}
}

// Options carries the tunable parts of the policies.
type Options struct {
	Prescale PrescaleConfig
}

// DefaultOptions returns every policy's defaults.
func DefaultOptions() Options { return Options{Prescale: DefaultPrescale()} }

// New returns the named policy with its defaults (prescale's from o).
func New(name string, o Options) (sim.Policy, error) {
	switch name {
	case "static":
		return Static{}, nil
	case "ce-alert":
		return CEAlert{Config: DefaultCEAlert()}, nil
	case "hpa":
		return HPA{Config: DefaultHPA()}, nil
	case "kpa":
		return KPA{Config: DefaultKPA()}, nil
	case "pro-rps":
		return ProRPS{Config: DefaultProRPS()}, nil
	case "phpa":
		return PHPA{Config: DefaultPHPA()}, nil
	case "prescale":
		if err := o.Prescale.Validate(); err != nil {
			return nil, err
		}
		return Prescale{Config: o.Prescale}, nil
	case "oracle":
		return Oracle{}, nil
	}
	return nil, fmt.Errorf("unknown policy %q: known policies are %s", name, strings.Join(Names(), ", "))
}

// Parse turns a comma-separated list ("" or "all" = every policy) into policies.
func Parse(list string, o Options) ([]sim.Policy, error) {
	return parseList(list, Names(), func(n string) (sim.Policy, error) { return New(n, o) })
}

// parseList resolves a comma-separated list of names ("" or "all" = all)
// with newPolicy, dropping repeats.
func parseList(list string, all []string, newPolicy func(string) (sim.Policy, error)) ([]sim.Policy, error) {
	names := all
	if s := strings.TrimSpace(list); s != "" && s != "all" {
		names = strings.Split(s, ",")
	}
	var out []sim.Policy
	seen := map[string]bool{}
	for _, n := range names {
		n = strings.TrimSpace(n)
		if seen[n] {
			continue
		}
		seen[n] = true
		p, err := newPolicy(n)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// Named gives a policy another name (for variants in one report).
type Named struct {
	sim.Policy
	Label string
}

func (n Named) Name() string { return n.Label }

// PrescaleVariants are prescale with slower control loops (10 s; 15 s,
// HPA's sync period; 30 s, the schedule recommended before) and with the
// trained prescale-peak forecaster instead of the default holt-peak, for
// the sensitivity table of bench/RESULTS.md.
func PrescaleVariants(o Options) []sim.Policy {
	at := func(period int) PrescaleConfig {
		c := o.Prescale
		c.Period = period
		return c
	}
	trained := o.Prescale
	if f, _, err := NewForecaster(inference.ChoiceTrained); err == nil {
		trained.Forecaster, trained.ForecasterName = f, f.Name()
	}
	return []sim.Policy{
		Named{Prescale{Config: at(10)}, "prescale(10s)"},
		Named{Prescale{Config: at(15)}, "prescale(15s)"},
		Named{Prescale{Config: at(30)}, "prescale(30s)"},
		Named{Prescale{Config: trained}, "prescale(trained)"},
	}
}
