// Package eventually is the tests' one wait for a condition that no event
// announces: it checks the condition until it holds, with a safety net
// that only turns a hang into a failure. It lives in pkg/ (not internal/)
// because the functions' tests import it, and a function's build copies
// only pkg/.
package eventually
