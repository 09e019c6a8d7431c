package compare

// DefaultKernelShare is the share of kernel time above which a single kernel's
// metrics are gated; below it they are informational. It guards against the
// many-comparisons problem: with hundreds of kernels some will drift by chance.
const DefaultKernelShare = 0.02

// defaultRules make gate.yml optional. They are tried after the user's rules,
// in this order; the first match wins.
//
// Exact metrics are structural and, in a deterministic workload, identical
// run to run (kernels and copies per step, graph coverage, the kernel set):
// any increase warns and a small one fails. Per-step times are statistical:
// they fail only when the per-step samples differ significantly AND the
// median moved by more than the threshold. Whole-window aggregates without
// per-step samples (kernel and component totals, busy share) have no
// distribution to test: they are exact, compared value to value, with wider
// margins (a total over hundreds of launches moved by 0.1-4% between two
// runs of the same code on the fixtures).
var defaultRules = []Rule{
	// Per-step times: Mann-Whitney U on the per-step samples.
	{Metric: "phases.*.span.p50", Kind: Stat, Warn: "5%", Fail: "10%", Floor: "2us"},
	{Metric: "phases.*.busy.p50", Kind: Stat, Warn: "5%", Fail: "10%", Floor: "2us"},
	{Metric: "phases.*.kernel_time.p50", Kind: Stat, Warn: "5%", Fail: "10%", Floor: "2us"},
	{Metric: "phases.*.busy_pct.p50", Kind: Stat, Warn: "2pp", Fail: "5pp"},
	// Per-step structure.
	{Metric: "phases.*.kernels", Kind: Exact, Warn: "0", Fail: "1%"},
	{Metric: "phases.*.memcpys", Kind: Exact, Warn: "0", Fail: "1%"},
	{Metric: "phases.*.memcpy_bytes", Kind: Exact, Warn: "0", Fail: "1%"},
	{Metric: "phases.*.dtoh", Kind: Exact, Fail: "0"},
	{Metric: "phases.*.syncs", Kind: Exact, Fail: "0"},
	{Metric: "phases.*.steps", Kind: Exact},
	// CUDA graphs: coverage down by more than a point fails.
	{Metric: "cuda_graphs.coverage_count", Kind: Exact, Warn: "0.5pp", Fail: "1pp"},
	{Metric: "cuda_graphs.coverage_time", Kind: Exact, Warn: "0.5pp", Fail: "1pp"},
	// GPU busy share of the scope window. Without a scope the window holds
	// the setup too, whose idle time moves by 2 points run to run on the
	// fixtures; hence 3pp. Per-step busy share (above) is the sharper test.
	{Metric: "gpu_time.busy_pct", Kind: Exact, Warn: "3pp", Fail: "5pp"},
	// The kernel set: new or vanished kernels above the kernel share.
	{Metric: "kernel_set.added", Kind: Exact, Fail: "0"},
	{Metric: "kernel_set.removed", Kind: Exact, Fail: "0"},
	{Metric: "kernel_set.variants", Kind: Exact, Warn: "0"},
	// Single kernels (only above the kernel share; the rest are info).
	{Metric: "kernels.*.per_step", Kind: Exact, Warn: "0", Fail: "1%"},
	{Metric: "kernels.*.total", Kind: Exact, Warn: "10%", Fail: "25%", Floor: "10us"},
	{Metric: "kernels.*.count", Kind: Exact, Warn: "1%"},
	// Components: share of the phase's kernel time, and time.
	{Metric: "components.*.*.share", Kind: Exact, Warn: "2pp", Fail: "5pp"},
	{Metric: "components.*.*.time", Kind: Exact, Warn: "10%", Fail: "25%", Floor: "10us"},
	// Window-level memory traffic; per-step copies are gated above.
	{Metric: "memory.*.*.count", Kind: Exact, Warn: "5%"},
	{Metric: "memory.*.*.bytes", Kind: Exact, Warn: "5%"},
	{Metric: "memory.*.*.gbps", Kind: Exact},
	{Metric: "bandwidth.*.*", Kind: Exact, Warn: "10%"},
	// Multi-GPU.
	{Metric: "devices.*.busy_pct", Kind: Exact, Warn: "2pp", Fail: "5pp"},
	{Metric: "communication.exposed_pct", Kind: Exact, Warn: "2pp", Fail: "5pp"},
	{Metric: "communication.exposed.p50", Kind: Stat, Warn: "5%", Fail: "10%", Floor: "2us"},
	{Metric: "communication.*.time", Kind: Exact, Warn: "10%", Fail: "25%", Floor: "10us"},
	{Metric: "communication.*.count", Kind: Exact, Warn: "0", Fail: "1%"},
	{Metric: "communication.imbalance", Kind: Exact, Warn: "5pp", Fail: "10pp"},
	// User metrics from outside the profile.
	{Metric: "extra.*", Warn: "5%", Fail: "10%"},
}

// DefaultRules returns a copy of the built-in rules.
func DefaultRules() []Rule {
	return append([]Rule(nil), defaultRules...)
}
