package compare

import "github.com/nsys-gate/gate/parse"

// ResultSchema versions the JSON layout of Result.
const ResultSchema = "gate.result/v1"

// Verdict is the judgement of one metric or of a whole comparison.
type Verdict string

// Verdicts, from best to worst for a metric; NotComparable, NoBaseline and
// BaselineUnavailable only apply to a whole comparison.
const (
	Info          Verdict = "info" // shown, not gated
	Pass          Verdict = "pass"
	Warn          Verdict = "warn"
	Fail          Verdict = "fail"
	NotComparable Verdict = "not_comparable"
	NoBaseline    Verdict = "no_baseline"
	// BaselineUnavailable is a baseline that exists but could not be
	// fetched (GitHub kept failing, or rate-limited past the wait budget).
	// Compare never gives it: the caller that fetched sets it. It is not
	// NoBaseline, which a bootstrapping gate.yml may let pass.
	BaselineUnavailable Verdict = "baseline_unavailable"
	// Accepted is a comparison whose every failure the pull request
	// accepted (a label and a reason line, see the action's acceptance).
	// Compare never gives it either: the Result keeps its measured verdict
	// and the caller that read the acceptance says Accepted beside it.
	Accepted Verdict = "accepted"
	// Missing is an entry of a merged report that has no result: its leg
	// crashed or uploaded nothing. It is never a pass.
	Missing Verdict = "missing"
)

// Kind says how a metric is judged.
type Kind string

const (
	Exact Kind = "exact" // structural, compared value to value
	Stat  Kind = "stat"  // noisy time, compared sample to sample
)

// Result is the outcome of comparing a head summary with a base summary.
// render turns it into markdown, HTML, text or JSON; it holds everything a
// report shows, so rendering needs nothing else.
type Result struct {
	Schema  string   `json:"schema"`
	Verdict Verdict  `json:"verdict"`
	Reasons []string `json:"reasons,omitempty"` // why not comparable / no baseline
	Counts  Counts   `json:"counts"`
	Base    Side     `json:"base"`
	Head    Side     `json:"head"`
	// Metrics is every compared metric, ordered by group then name.
	Metrics []Metric `json:"metrics"`
	// Regressions are the metrics that failed, then those that warned, in
	// the order a reviewer should read them (see Class); the first names the
	// cause in the verdict line.
	Regressions []Finding `json:"regressions,omitempty"`
	// Improvements are the metrics that got better by as much as the other
	// way would have warned, in the same order. An optimisation says so.
	Improvements []Finding `json:"improvements,omitempty"`
	// Attribution says where the time went in each phase whose step time
	// regressed or improved.
	Attribution []PhaseAttribution `json:"attribution,omitempty"`
	// Sampling is what the GPU's sampled counters showed beyond the
	// gpu_metrics.* metrics (clocks, a typical step, a cause), when either
	// side sampled them.
	Sampling *Sampling `json:"sampling,omitempty"`
	// Steps are each phase's step spans, base and head, for the report's
	// distributions.
	Steps    []PhaseSteps `json:"steps,omitempty"`
	Kernels  KernelDiff   `json:"kernels"`
	Rules    []Rule       `json:"rules"`
	Warnings []string     `json:"warnings,omitempty"`
	// ConfigID names the gate configuration; it keys the sticky comment.
	ConfigID string `json:"config_id"`
	// RuleChanges is how the head's own gate.yml would have judged
	// differently from the rules that did (the baseline's): shown near the
	// top of the report, never applied. Compare leaves it empty.
	RuleChanges []RuleChange `json:"rule_changes,omitempty"`
	// Baseline says where the caller found Base, in words (the action: the
	// pull request's merge base or the newest on a branch, with commit, run
	// and age). Compare leaves it empty.
	Baseline string `json:"baseline,omitempty"`
	// ReportURL links where the full report of this result is: the
	// workflow run whose artifacts hold report.html. Compare leaves it
	// empty.
	ReportURL string `json:"report_url,omitempty"`
}

// RuleChange is one way a proposed gate.yml differs from the applied one:
// What ("fail threshold", "ignore", "kernel-share") of Metric (empty for a
// setting of the whole file) goes from Base to Head. When Count metrics
// change alike, Metric is the glob of the rule that changes them. An entry
// with only What counts the changes left out.
type RuleChange struct {
	What   string `json:"what"`
	Metric string `json:"metric,omitempty"`
	Count  int    `json:"count,omitempty"`
	Base   string `json:"base,omitempty"`
	Head   string `json:"head,omitempty"`
}

// Counts tallies metric verdicts.
type Counts struct {
	Fail int `json:"fail"`
	Warn int `json:"warn"`
	Pass int `json:"pass"`
	Info int `json:"info"`
}

// Side is what the report shows about one of the two summaries.
type Side struct {
	Source   parse.Source    `json:"source"`
	GPU      parse.GPU       `json:"gpu"`
	Warnings []parse.Warning `json:"warnings,omitempty"`
}

// Metric is one compared metric: its Group (a report section), values in
// Unit (gate's units, or the extra metric's own), and the verdict.
type Metric struct {
	Name      string    `json:"name"`
	Group     Group     `json:"group"`
	Unit      Unit      `json:"unit"`
	Kind      Kind      `json:"kind"`
	Better    Better    `json:"better"` // Lower, Higher or Descriptive
	Base      float64   `json:"base"`
	Head      float64   `json:"head"`
	Delta     float64   `json:"delta"`     // head - base, in Unit
	DeltaPct  float64   `json:"delta_pct"` // relative change, percent; 0 when base is 0
	HasBase   bool      `json:"has_base"`
	HasHead   bool      `json:"has_head"`
	CI        *Interval `json:"ci,omitempty"` // stat metrics: interval of the relative change
	P         float64   `json:"p,omitempty"`  // stat metrics: Mann-Whitney U p-value
	NBase     int       `json:"n_base,omitempty"`
	NHead     int       `json:"n_head,omitempty"`
	Threshold string    `json:"threshold,omitempty"` // the rule's thresholds, for display
	Rule      string    `json:"rule,omitempty"`      // the glob of the rule that applied
	Verdict   Verdict   `json:"verdict"`
	Note      string    `json:"note,omitempty"` // e.g. "too few samples (2 vs 2)"
	// Improved is set when the metric got better by as much as a change the
	// other way would have warned about (significant and beyond the floor).
	Improved bool `json:"improved,omitempty"`
}

// PhaseSteps is one phase's per-step spans (ns) on each side, in step
// order: what a step-time p50 summarises, for a report to draw.
type PhaseSteps struct {
	Phase string    `json:"phase"`
	Base  []float64 `json:"base_ns"`
	Head  []float64 `json:"head_ns"`
}

// PhaseAttribution is where one phase's time went: the change of its
// kernel time per step, base to head, decomposed into kernels and
// components. Kernels are the largest changes, Rest the others summed, and
// together they sum to HeadNs - BaseNs; so do Components. Values are per
// step: each side's totals divided by its step count.
type PhaseAttribution struct {
	Phase      string     `json:"phase"`
	BaseSteps  int        `json:"base_steps"`
	HeadSteps  int        `json:"head_steps"`
	BaseNs     float64    `json:"base_ns"` // kernel time per step
	HeadNs     float64    `json:"head_ns"`
	Kernels    []TimePart `json:"kernels"`
	Rest       *TimePart  `json:"rest,omitempty"`
	Components []TimePart `json:"components"`
}

// TimePart is one kernel's (or component's, or the rest's) kernel time and
// launches per step on each side.
type TimePart struct {
	Name         string  `json:"name"`
	Component    string  `json:"component,omitempty"` // a kernel's
	Count        int     `json:"count,omitempty"`     // the rest: how many kernels
	BaseNs       float64 `json:"base_ns"`
	HeadNs       float64 `json:"head_ns"`
	BaseLaunches float64 `json:"base_launches"`
	HeadLaunches float64 `json:"head_launches"`
}

// Finding is one ranked regression or improvement.
type Finding struct {
	Metric string `json:"metric"` // a name in Result.Metrics
	Label  string `json:"label"`  // the metric for people: "decode step p50"
	Class  Class  `json:"class"`
	// Past is how many times over its threshold the change went (the fail
	// threshold for a failure, else warn); it orders findings of a class.
	Past float64 `json:"past"`
}

// Interval is a confidence interval of the relative change, in percent.
type Interval struct {
	Lo         float64 `json:"lo"`
	Hi         float64 `json:"hi"`
	Confidence float64 `json:"confidence"`
}

// KernelDiff is how the set of kernels changed between base and head.
type KernelDiff struct {
	Added   []KernelChange `json:"added"`
	Removed []KernelChange `json:"removed"`
	Variant []KernelChange `json:"variant_changed"`
	// Largest changes by total time and by count per decode step.
	TopTime  []KernelChange `json:"top_time"`
	TopCount []KernelChange `json:"top_count"`
}

// KernelChange pairs a base kernel with the head kernel it was matched to.
// Match says how: "exact", "normalized", "family", "component", or "" for
// added/removed kernels.
type KernelChange struct {
	Base        string  `json:"base,omitempty"`
	Head        string  `json:"head,omitempty"`
	Match       string  `json:"match,omitempty"`
	Component   string  `json:"component"`
	BaseNs      int64   `json:"base_ns"`
	HeadNs      int64   `json:"head_ns"`
	BasePerStep float64 `json:"base_per_step"`
	HeadPerStep float64 `json:"head_per_step"`
	BaseCount   int64   `json:"base_count"`
	HeadCount   int64   `json:"head_count"`
}

// Rule gates the metrics whose names match Metric (a glob, path.Match style
// per dot-separated segment, "*" matching one segment and "**" any number).
type Rule struct {
	Metric string `json:"metric" yaml:"metric"`
	Better Better `json:"better,omitempty" yaml:"better,omitempty"` // "lower" or "higher"; default per metric
	Warn   string `json:"warn,omitempty" yaml:"warn,omitempty"`     // "5%", "2pp", "10us", "1"
	Fail   string `json:"fail,omitempty" yaml:"fail,omitempty"`
	Floor  string `json:"floor,omitempty" yaml:"floor,omitempty"` // changes below this absolute size are noise
	Kind   Kind   `json:"kind,omitempty" yaml:"kind,omitempty"`
	Ignore bool   `json:"ignore,omitempty" yaml:"ignore,omitempty"`
}

// worstFirst orders the verdicts of whole comparisons from the one that
// needs attention most: what a merged report leads with.
var worstFirst = []Verdict{Fail, Missing, BaselineUnavailable, NotComparable, NoBaseline, Warn, Accepted, Pass, Info}

// Rank is v's place in that order, 0 for Fail; a verdict this gate does not
// know ranks first, as a failure would: it must never read as a pass.
func Rank(v Verdict) int {
	for i, w := range worstFirst {
		if w == v {
			return i
		}
	}
	return 0
}

// Worst is the verdict of several comparisons taken together (the entries
// of a merged report): the one of lowest Rank; Pass for none.
func Worst(vs ...Verdict) Verdict {
	w := Pass
	for _, v := range vs {
		if Rank(v) < Rank(w) {
			w = v
		}
	}
	return w
}
