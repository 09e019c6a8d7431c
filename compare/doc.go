// Package compare judges a head summary against a base summary under rules:
// exact metrics value to value, times sample to sample with benchmath's
// statistics. It is pure and deterministic: no I/O, no clocks, no map order.
// Start reading at Compare; the vocabulary of metric names (groups, units,
// directions, phases, the families gate makes) is in vocab.go.
//
// # Order of judgement
//
// Comparability comes first: a different GPU model, device count,
// CUDA-graph trace mode, Nsight Systems major version or scope (parse.Comparable),
// or a head that lost what the base measured (blind.go: a phase's steps, steps
// with no GPU work, most GPU work outside every step, devices,
// communication, bandwidth, extra metrics) makes the verdict NotComparable,
// the reason first, and no metric is gated. A nil base gives NoBaseline.
// Otherwise every metric of either summary is judged under the first
// matching rule (the user's rules, then the defaults of defaults.go); the kernel diff adds
// the kernel_set metrics, which are news, not verdicts. Compositional
// metrics (shares of a phase's kernel time, coverage, busy shares, rates:
// see Compositional) never fail: they pass, or warn beside a failure of what
// they stand for. The verdict is the worst metric verdict.
//
// Result.Regressions ranks what failed (then warned) by Class, the cause
// first; Result.Improvements what got better by as much as the other way
// would have warned. docs/judging.md explains the rules to users.
//
// # Metric names
//
// Names are dot-separated segments:
//
//	phases.<phase>.span.p50            per-step GPU span (stat: per-step samples)
//	phases.<phase>.busy.p50            per-step busy time (stat)
//	phases.<phase>.kernel_time.p50     per-step kernel time (stat)
//	phases.<phase>.busy_pct.p50        per-step busy/span, percent (stat)
//	phases.<phase>.kernels|memcpys|memcpy_bytes|dtoh|syncs   mean per step (exact)
//	phases.<phase>.steps               step count (info)
//	cuda_graphs.outside                launches outside CUDA graphs (exact; info for a base without graphs)
//	cuda_graphs.coverage_count|coverage_time                 percent (exact)
//	gpu_time.busy_pct                  busy share of the window (exact)
//	memory.<kind>.<dir>.count|bytes|gbps                     window totals; memset's dir is "_"
//	kernel_set.added|removed|variants  kernel set changes above the kernel share
//	kernels.<name>.total|per_step|count                      per kernel
//	components.<phase>.<name>.share|time                     per component; phase "window" = all
//	bandwidth.<kernel>.gbps|pct_peak   from an Nsight Compute CSV
//	devices.<id>.busy_pct, communication.exposed_pct, communication.exposed.p50,
//	communication.<collective>.time    multi-GPU
//	extra.<name>                       user metrics, their own unit and direction
//
// Segments that come from a profile (phase, kernel, component, collective and
// extra names) are escaped with Segment: '.', '/', '%', glob characters,
// spaces and control bytes become %XX. A kernel name full of dots, slashes or
// brackets therefore stays one segment, so "kernels.*.total" matches every
// kernel and a hostile name can never act as a pattern. Rule globs match per
// segment as path.Match does, with "**" for any number of segments.
//
// # Statistics
//
// Stat metrics with per-step samples on both sides are compared with
// benchmath.AssumeNothing: medians, a two-sided Mann-Whitney U test at
// 5%, and an interval for the relative change of the median (see
// compareSamples for exactly what it covers). A time regresses only when the
// change is significant and beyond the rule's threshold. When the samples are
// too small for the test to ever reach significance (benchmath's warning,
// e.g. two prefill steps), the metric says so and can warn (beyond its fail
// threshold) but not fail.
// Stat metrics without samples (legacy summaries) are compared as values
// with a note; aggregates that never have samples (kernel and component
// totals) are exact metrics.
package compare
