// Package vllm reads what vLLM itself measures and turns it into
// parse.ExtraMetric values that gate compares under the same rules as the
// profile: the result JSON of `vllm bench latency`, `vllm bench throughput`
// and `vllm bench serve --save-result`, a Prometheus text scrape of a vLLM
// server's /metrics, and the periodic statistics lines of a vLLM log.
//
// Every parser returns the metrics it found and warnings for what it could
// not read; it never invents a value. Formats follow vLLM's own source for
// the versions named in testdata/vllm/README.md and tolerate the differences
// between them (renamed keys, renamed Prometheus families, new log fields).
//
// Conventions, so that one rule glob covers every source:
//
//   - latencies are milliseconds (unit "ms", better "lower"), whatever vLLM
//     wrote (seconds in latency results and Prometheus, ms in serve results);
//   - throughputs are per second (units "req/s", "tok/s", better "higher");
//   - percentages are 0..100 (unit "pct");
//   - descriptive values that depend on the workload rather than on the code
//     under test (token totals, request counts, KV-cache usage, running
//     requests) carry Better == "" (BetterInfo): shown, never gated.
//
// Samples (per request, per log line) sit on the metric whose value is their
// median (p50, median), because compare tests samples and shows their median.
//
// Names: `vllm.<stat>` and `vllm.<metric>.<stat>_ms` for bench serve results
// (vllm.output_throughput, vllm.ttft.p99_ms), `vllm.latency.*`,
// `vllm.throughput.*`, `vllm.metrics.*` for a /metrics scrape and `vllm.log.*`
// for log lines.
//
// Start at ParseBench (bench.go), ParseMetrics and ParseScrape (prom.go) and
// ParseLog (log.go); metric.go holds the naming and sorting they share.
package vllm
