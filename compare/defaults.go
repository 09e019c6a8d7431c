package compare

// DefaultKernelShare is the share of kernel time above which a single kernel's
// metrics are gated; below it they are informational. It guards against the
// many-comparisons problem: with hundreds of kernels some will drift by chance.
const DefaultKernelShare = 0.02

// defaultRules make gate.yml optional. They are tried after the user's rules,
// in this order; the first match wins. docs/judging.md lists them beside the
// noise measured between two runs of the same code (TestDefaultsAboveNoise
// keeps them there).
//
// Exact metrics are structural and, in a deterministic workload, identical
// run to run (kernels and copies per step, graph coverage): any increase
// beyond the floor warns and a small one fails. The floors are in the
// metric's own unit, so that a change nobody pays for (1 B -> 2 B copied per
// step, one more copy per request of 48 steps) is noise. Per-step times are
// statistical: they fail only when the per-step samples differ significantly
// AND the median moved by more than the threshold. Whole-window aggregates
// without per-step samples (kernel and component totals, busy share) have no
// distribution to test: they are exact, compared value to value, with wider
// margins (a total over hundreds of launches moved by 0.1-4% between two
// runs of the same code on the fixtures).
//
// Compositional metrics (shares, coverage by time, busy shares, rates) keep
// thresholds, but only to decide when they are worth a warning beside a
// regression of what they stand for: they never fail (see family.explain).
// The kernel set is news, not a verdict: a new kernel fails through what it
// costs (its phase's time, kernels per step).
var defaultRules = []Rule{
	// Per-step times: Mann-Whitney U on the per-step samples.
	{Metric: "phases.*.span.p50", Kind: Stat, Warn: "5%", Fail: "10%", Floor: "2us"},
	{Metric: "phases.*.busy.p50", Kind: Stat, Warn: "5%", Fail: "10%", Floor: "2us"},
	{Metric: "phases.*.kernel_time.p50", Kind: Stat, Warn: "5%", Fail: "10%", Floor: "2us"},
	{Metric: "phases.*.busy_pct.p50", Kind: Stat, Warn: "2pp", Fail: "5pp"},
	// Per-step structure; floors in launches, copies and bytes per step.
	{Metric: "phases.*.kernels", Kind: Exact, Warn: "0", Fail: "1%", Floor: "0.5"},
	{Metric: "phases.*.memcpys", Kind: Exact, Warn: "0", Fail: "1%", Floor: "0.1"},
	{Metric: "phases.*.memcpy_bytes", Kind: Exact, Warn: "0", Fail: "1%", Floor: "16KB"},
	{Metric: "phases.*.dtoh", Kind: Exact, Fail: "0", Floor: "0.1"},
	{Metric: "phases.*.syncs", Kind: Exact, Fail: "0", Floor: "0.1"},
	{Metric: "phases.*.steps", Kind: Exact},
	// Per token (prefill and mixed steps named with their tokens), and
	// the load's shape: shown.
	{Metric: "phases.*.ns_per_token.p50", Kind: Stat, Warn: "5%", Fail: "10%", Floor: "1ns"},
	{Metric: "phases.*.tokens_per_s", Kind: Exact, Warn: "5%", Fail: "10%"},
	{Metric: "phases.*.tokens", Kind: Exact},
	{Metric: "phases.*.requests", Kind: Exact},
	// CUDA-graph use per phase: a changed mode fails (a full graph that
	// became eager is every launch of every step); the figures behind it
	// are shown, the coverage explains.
	{Metric: "phases.*.graph_mode", Kind: Exact, Fail: "0", Floor: "0.5"},
	{Metric: "phases.*.graph_launches", Kind: Exact},
	{Metric: "phases.*.graph_kernels", Kind: Exact},
	{Metric: "phases.*.graph_coverage", Kind: Exact, Warn: "0.5pp", Fail: "1pp"},
	// Sampled GPU counters (nsys --gpu-metrics-devices), per step. DRAM
	// bytes per step are what a step costs in memory traffic: statistical
	// like times (two runs of the same code differ by 0.5% at most on the
	// H200 fixtures), with a floor of a third of one counter quantum (1% of
	// 4.8 TB/s over a 1.2 ms decode step is 56 MB). Bandwidth and activity
	// shares explain beside the step time.
	{Metric: "gpu_metrics.*.dram_read_bytes.p50", Kind: Stat, Warn: "5%", Fail: "10%", Floor: "16MB"},
	{Metric: "gpu_metrics.*.dram_write_bytes.p50", Kind: Stat, Warn: "5%", Fail: "10%", Floor: "16MB"},
	{Metric: "gpu_metrics.*.dram_*_pct.p50", Kind: Stat, Warn: "2pp", Fail: "5pp"},
	{Metric: "gpu_metrics.*.sm_active.p50", Kind: Stat, Warn: "2pp", Fail: "5pp"},
	{Metric: "gpu_metrics.*.tensor_active.p50", Kind: Stat, Warn: "2pp", Fail: "5pp"},
	{Metric: "gpu_metrics.*.pcie_*.p50", Kind: Stat},
	// CUDA graphs: launches leaving graphs fail; coverage explains. The
	// window's count holds warm-up launches, which move with the model.
	{Metric: "cuda_graphs.outside", Kind: Exact, Warn: "5%", Fail: "10%"},
	{Metric: "cuda_graphs.coverage_count", Kind: Exact, Warn: "0.5pp", Fail: "1pp"},
	{Metric: "cuda_graphs.coverage_time", Kind: Exact, Warn: "0.5pp", Fail: "1pp"},
	// GPU busy share of the scope window. Without a scope the window holds
	// the setup too, whose idle time moves by 2 points run to run on the
	// fixtures; hence 3pp. Per-step busy share (above) is the sharper test.
	{Metric: "gpu_time.busy_pct", Kind: Exact, Warn: "3pp", Fail: "5pp"},
	// The kernel set: shown as changes, not gated.
	{Metric: "kernel_set.*", Kind: Exact},
	// Single kernels (only above the kernel share; the rest are info).
	{Metric: "kernels.*.per_step", Kind: Exact, Warn: "0", Fail: "1%", Floor: "0.5"},
	{Metric: "kernels.*.total", Kind: Exact, Warn: "10%", Fail: "25%", Floor: "10us"},
	// Launches over the window hold warm-up and capture: shown; the
	// per-step launches above are the structural test.
	{Metric: "kernels.*.count", Kind: Exact},
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
