package vllm

import (
	"math"
	"sort"
	"strings"

	"github.com/nsys-gate/gate/parse"
)

// Directions of ExtraMetric.Better. BetterInfo marks a metric that describes
// the workload rather than judging it: compare shows it and does not gate it.
const (
	BetterLower  = "lower"
	BetterHigher = "higher"
	BetterInfo   = ""
)

// Warning codes produced by this package.
const (
	WarnUnrecognised = "vllm-unrecognised"         // the input is not a format this package knows
	WarnIncomplete   = "vllm-incomplete"           // a known format with missing or odd fields
	WarnIdle         = "vllm-idle-lines"           // log lines dropped from medians because the engine was idle
	WarnHistogram    = "vllm-histogram-resolution" // a quantile the buckets cannot resolve
)

func metric(name, unit, better string, v float64, source string) parse.ExtraMetric {
	return parse.ExtraMetric{Name: name, Unit: unit, Better: better, Value: v, Source: source}
}

func warn(code, format string) parse.Warning {
	return parse.Warning{Code: code, Message: format}
}

// finite reports whether v is a usable number (JSON null, NaN and ±Inf are not).
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// SortMetrics orders metrics by name then source, so that output is
// deterministic whatever order the input had.
func SortMetrics(ms []parse.ExtraMetric) {
	sort.SliceStable(ms, func(i, j int) bool {
		if ms[i].Name != ms[j].Name {
			return ms[i].Name < ms[j].Name
		}
		return ms[i].Source < ms[j].Source
	})
}

// median of xs (xs is not modified); 0 for an empty slice.

// pctName turns a percentile as vLLM writes it ("99", "99.9", "99.0") into a
// name segment without dots: "p99", "p99_9".
func pctName(p string) string {
	p = strings.TrimSuffix(p, ".0")
	return "p" + strings.ReplaceAll(p, ".", "_")
}
