package gate

import (
	"github.com/nsys-gate/gate/compare"
	"github.com/nsys-gate/gate/gate/action"
	"github.com/nsys-gate/gate/gate/config"
)

// Exit codes. A regression is not a tool failure: scripts can tell them apart.
const (
	exitOK            = 0 // pass or warn
	exitFail          = 1 // a gated metric regressed
	exitError         = 2 // usage or input error
	exitNotComparable = 3 // no baseline, or the two profiles cannot be compared
)

// exitCode is the one table from a verdict to gate's exit code, for gate
// compare and gate action alike. failOn is the action's fail-on input
// (empty for gate compare, which is action.FailOnFail): "fail" fails on
// regressions, "warn" on warnings too, "never" reports without failing.
// The neutral verdicts (no baseline, not comparable) exit 3 unless gate.yml
// says otherwise; a baseline that could not be fetched always exits 3.
func exitCode(v compare.Verdict, failOn string, cfg *config.Config) int {
	switch failOn {
	case action.FailOnNever:
		return exitOK
	case action.FailOnWarn:
		if v == compare.Warn {
			return exitFail
		}
	}
	switch v {
	case compare.Pass, compare.Warn, compare.Info, compare.Accepted:
		return exitOK
	case compare.Fail:
		return exitFail
	case compare.NoBaseline, compare.NotComparable:
		if code, ok := cfg.NeutralExit(v); ok {
			return code
		}
		return exitNotComparable
	case compare.BaselineUnavailable, compare.Missing:
		// Not no-baseline's code: an outage must not pass a gate that lets a
		// missing baseline through while it bootstraps, nor a leg that
		// crashed one that lets an incomparable profile through.
		return exitNotComparable
	}
	return exitError
}

// actionExit is exitCode for `gate action`, where a gate's first run passes:
// with no baseline artifact ever uploaded (Outcome.FirstRun) there is
// nothing to gate yet, and the first pull request of a new gate must not be
// red. gate.yml's exit: no-baseline still decides when it is set.
func actionExit(o action.Outcome) int {
	if len(o.Entries) > 0 {
		codes := make([]int, len(o.Entries))
		for i, e := range o.Entries {
			codes[i] = actionExit(e)
		}
		return worstExit(codes)
	}
	if o.Verdict == compare.NoBaseline && o.FirstRun {
		if _, set := o.Config.NeutralExit(compare.NoBaseline); !set {
			return exitOK
		}
	}
	return exitCode(o.Verdict, o.FailOn, o.Config)
}

// worstExit is the exit code of several entries gated together: a
// regression (1) first, then any other failing code, else 0.
func worstExit(codes []int) int {
	worst := exitOK
	for _, c := range codes {
		switch {
		case c == exitFail:
			return exitFail
		case worst == exitOK:
			worst = c
		}
	}
	return worst
}
