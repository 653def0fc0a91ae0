// Package livee2e runs `prescale bench-live --quick` against a real plugin
// (three short platform runs: the hpa and the reactive burst, then the zero
// stage) and checks the report's structure and that the platform's counters
// were read. It is a load test: make test runs it alone, after the rest
// (SOLO_PKGS). No timed or performance assertions.
package livee2e
