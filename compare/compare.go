// Package compare judges a head summary against a base summary under rules:
// exact metrics value to value, times sample to sample with benchmath's
// statistics. It is pure and deterministic: no I/O, no clocks, no map order.
package compare

import "github.com/nsys-gate/gate/parse"

// Options configure a comparison.
type Options struct {
	// Rules are the user's rules; they take precedence over DefaultRules.
	Rules []Rule
	// KernelShare is the share of step time (0..1) above which a single kernel
	// is gated; smaller kernels are informational. Zero means the default, 2%.
	KernelShare float64
	// ConfigID names the configuration (keys the sticky comment).
	ConfigID string
}

// Compare judges head against base.
func Compare(base, head *parse.Summary, opts Options) *Result {
	return &Result{Schema: ResultSchema, Verdict: NotComparable, Reasons: []string{"compare is not implemented yet"}, ConfigID: opts.ConfigID}
}
