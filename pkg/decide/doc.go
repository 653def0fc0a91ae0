// Package decide is prescale's decision logic, in one pure package:
// features → demand forecast → capacity (replicas) → policy.
// It has no clocks, no I/O and no package-level state: time is a parameter.
// The functions, `prescale up` and the simulator all call this code, so the
// simulator measures exactly what ships.
package decide
