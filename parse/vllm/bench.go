package vllm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/nsys-gate/gate/internal/stats"
	"github.com/nsys-gate/gate/parse"
)

// Bench kinds, as returned by benchKind.
const (
	KindLatency    = "latency"    // vllm bench latency --output-json
	KindThroughput = "throughput" // vllm bench throughput --output-json
	KindServe      = "serve"      // vllm bench serve --save-result
)

// maxSamples bounds the per-request samples copied from a serve result
// (--save-detailed), so that a summary stays a reviewable size.
const maxSamples = 10000

// ParseBench reads the result JSON of `vllm bench latency`, `vllm bench
// throughput` or `vllm bench serve --save-result` (and the older
// benchmarks/benchmark_*.py scripts that wrote the same keys). source names
// the input in metrics and warnings. Input that is not one of these yields no
// metrics and a warning.
func ParseBench(data []byte, source string) ([]parse.ExtraMetric, []parse.Warning) {
	obj, n, err := decodeObjects(data)
	if err != nil {
		return nil, []parse.Warning{warn(WarnUnrecognised, fmt.Sprintf("%s: not a vLLM benchmark result: %v", source, err))}
	}
	var ms []parse.ExtraMetric
	var ws []parse.Warning
	if n > 1 {
		ws = append(ws, warn(WarnIncomplete, fmt.Sprintf("%s: %d results appended in one file (--append-result); reading the last", source, n)))
	}
	switch benchKind(obj) {
	case KindLatency:
		ms, ws = benchLatency(obj, source, ws)
	case KindThroughput:
		ms = benchThroughput(obj, source)
	case KindServe:
		ms, ws = benchServe(obj, source, ws)
	default:
		return nil, []parse.Warning{warn(WarnUnrecognised, fmt.Sprintf("%s: JSON object is not a vLLM benchmark result (keys: %s)", source, keyList(obj, 8)))}
	}
	if len(ms) == 0 {
		ws = append(ws, warn(WarnIncomplete, fmt.Sprintf("%s: vLLM bench %s result holds no usable number", source, benchKind(obj))))
	}
	SortMetrics(ms)
	return ms, ws
}

// benchKind says which vLLM benchmark wrote obj: KindLatency,
// KindThroughput, KindServe, or "" when none did.
func benchKind(obj map[string]any) string {
	has := func(k string) bool { _, ok := obj[k]; return ok }
	switch {
	case has("avg_latency") && (has("latencies") || has("percentiles")):
		return KindLatency
	case has("requests_per_second") && has("tokens_per_second"):
		return KindThroughput
	case has("request_throughput") || has("output_throughput") || has("mean_ttft_ms") || has("mean_e2el_ms"):
		return KindServe
	}
	return ""
}

// decodeObjects decodes a JSON object. Python's json module writes NaN,
// Infinity and -Infinity for non-finite floats, which is not JSON; they are
// read as null (no value) rather than failing the whole file.
//
// `vllm bench serve --append-result` appends one object per run, separated
// by newlines; the last one is returned and n says how many there were.
func decodeObjects(data []byte) (obj map[string]any, n int, err error) {
	dec := json.NewDecoder(bytes.NewReader(pythonJSON(data)))
	for {
		var o map[string]any
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, n, err
		}
		if o == nil {
			return nil, n, fmt.Errorf("not a JSON object")
		}
		obj, n = o, n+1
	}
	if obj == nil {
		return nil, 0, fmt.Errorf("no JSON object")
	}
	return obj, n, nil
}

// pythonJSON replaces the bare tokens NaN, Infinity and -Infinity outside
// strings with null.
func pythonJSON(data []byte) []byte {
	var out []byte // allocated only when something is replaced
	inStr, esc := false, false
	last := 0
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inStr {
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
			continue
		}
		if c == '"' {
			inStr = true
			continue
		}
		for _, tok := range []string{"-Infinity", "Infinity", "NaN"} {
			if bytes.HasPrefix(data[i:], []byte(tok)) {
				out = append(out, data[last:i]...)
				out = append(out, "null"...)
				i += len(tok) - 1
				last = i + 1
				break
			}
		}
	}
	if out == nil {
		return data
	}
	return append(out, data[last:]...)
}

func num(obj map[string]any, key string) (float64, bool) {
	v, ok := obj[key].(float64)
	return v, ok && finite(v)
}

func nums(v any) []float64 {
	arr, _ := v.([]any)
	var out []float64
	for _, x := range arr {
		if f, ok := x.(float64); ok && finite(f) {
			out = append(out, f)
		}
	}
	return out
}

func keyList(obj map[string]any, n int) string {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) > n {
		keys = append(keys[:n], "...")
	}
	if len(keys) == 0 {
		return "none"
	}
	return strings.Join(keys, ", ")
}

// benchLatency reads vllm/benchmarks/latency.py (and benchmarks/
// benchmark_latency.py) output: seconds, converted to ms.
func benchLatency(obj map[string]any, src string, ws []parse.Warning) ([]parse.ExtraMetric, []parse.Warning) {
	var ms []parse.ExtraMetric
	samples := nums(obj["latencies"])
	for i := range samples {
		samples[i] *= 1000
	}
	if v, ok := num(obj, "avg_latency"); ok {
		ms = append(ms, metric("vllm.latency.avg_ms", "ms", BetterLower, v*1000, src))
	} else if len(samples) > 0 {
		ws = append(ws, warn(WarnIncomplete, src+": avg_latency is missing; using the mean of latencies"))
		ms = append(ms, metric("vllm.latency.avg_ms", "ms", BetterLower, stats.Mean(samples), src))
	}
	if v, ok := num(obj, "std_latency"); ok {
		ms = append(ms, metric("vllm.latency.std_ms", "ms", BetterLower, v*1000, src))
	}
	if pct, ok := obj["percentiles"].(map[string]any); ok {
		for k, v := range pct {
			f, ok := v.(float64)
			if !ok || !finite(f) || !isPercent(k) {
				ws = append(ws, warn(WarnIncomplete, fmt.Sprintf("%s: percentiles[%q] is not a number", src, k)))
				continue
			}
			m := metric("vllm.latency."+pctName(k)+"_ms", "ms", BetterLower, f*1000, src)
			if k == "50" {
				// The samples go with the median: compare tests them and
				// shows their median, which is this percentile.
				m.Samples = samples
			}
			ms = append(ms, m)
		}
	}
	sortWarnings(ws)
	return ms, ws
}

var percentRE = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

func isPercent(s string) bool { return percentRE.MatchString(s) }

// benchThroughput reads vllm/benchmarks/throughput.py output. Its
// tokens_per_second counts prompt and output tokens together.
func benchThroughput(obj map[string]any, src string) []parse.ExtraMetric {
	var ms []parse.ExtraMetric
	add := func(key, name, unit, better string, scale float64) {
		if v, ok := num(obj, key); ok {
			ms = append(ms, metric(name, unit, better, v*scale, src))
		}
	}
	add("requests_per_second", "vllm.throughput.requests_per_s", "req/s", BetterHigher, 1)
	add("tokens_per_second", "vllm.throughput.tokens_per_s", "tok/s", BetterHigher, 1)
	add("elapsed_time", "vllm.throughput.elapsed_ms", "ms", BetterLower, 1000)
	add("num_requests", "vllm.throughput.requests", "count", BetterInfo, 1)
	add("total_num_tokens", "vllm.throughput.tokens", "tokens", BetterInfo, 1)
	return ms
}

// serveStatRE matches the per-metric statistics of a serve result:
// mean_ttft_ms, median_itl_ms, std_e2el_ms, p99_tpot_ms, p99.9_ttft_ms.
var serveStatRE = regexp.MustCompile(`^(mean|median|std|p[0-9]+(?:\.[0-9]+)?)_([a-z][a-z0-9_]*?)_ms$`)

// benchServe reads vllm/benchmarks/serve.py (and benchmarks/
// benchmark_serving.py) --save-result output.
func benchServe(obj map[string]any, src string, ws []parse.Warning) ([]parse.ExtraMetric, []parse.Warning) {
	var ms []parse.ExtraMetric
	add := func(key, name, unit, better string) {
		if v, ok := num(obj, key); ok {
			ms = append(ms, metric(name, unit, better, v, src))
		}
	}
	add("request_throughput", "vllm.request_throughput", "req/s", BetterHigher)
	add("output_throughput", "vllm.output_throughput", "tok/s", BetterHigher)
	add("total_token_throughput", "vllm.total_token_throughput", "tok/s", BetterHigher)
	add("max_output_tokens_per_s", "vllm.max_output_throughput", "tok/s", BetterHigher)
	add("max_concurrent_requests", "vllm.max_concurrent_requests", "count", BetterInfo)
	add("completed", "vllm.completed", "count", BetterInfo)
	add("failed", "vllm.failed", "count", BetterLower)
	add("total_input_tokens", "vllm.input_tokens", "tokens", BetterInfo)
	add("total_output_tokens", "vllm.output_tokens", "tokens", BetterInfo)
	add("spec_decode_acceptance_rate", "vllm.spec_decode.acceptance_pct", "pct", BetterHigher)
	add("spec_decode_acceptance_length", "vllm.spec_decode.acceptance_length", "tokens", BetterHigher)
	if v, ok := num(obj, "duration"); ok {
		ms = append(ms, metric("vllm.duration_ms", "ms", BetterInfo, v*1000, src))
	}
	// benchmarks/benchmark_serving.py (vLLM <= 0.9) wrote the goodput under a
	// key with a stray colon; both are null unless --goodput was given.
	if _, ok := num(obj, "request_goodput"); ok {
		add("request_goodput", "vllm.request_goodput", "req/s", BetterHigher)
	} else {
		add("request_goodput:", "vllm.request_goodput", "req/s", BetterHigher)
	}

	// Per-request samples, present with --save-detailed.
	ok := okMask(obj)
	ttft := secondsToMs(pick(nums(obj["ttfts"]), ok))
	e2el := secondsToMs(pick(nums(obj["latencies"]), ok))

	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		sm := serveStatRE.FindStringSubmatch(k)
		if sm == nil {
			continue
		}
		v, isNum := num(obj, k)
		if !isNum {
			ws = append(ws, warn(WarnIncomplete, fmt.Sprintf("%s: %s is not a number", src, k)))
			continue
		}
		stat := sm[1]
		if stat[0] == 'p' {
			stat = pctName(stat[1:])
		}
		m := metric("vllm."+sm[2]+"."+stat+"_ms", "ms", BetterLower, v, src)
		if stat == "median" { // samples go with the median, which compare shows for them
			switch sm[2] {
			case "ttft":
				m.Samples = ttft
			case "e2el":
				m.Samples = e2el
			}
		}
		ms = append(ms, m)
	}
	return ms, ws
}

// okMask marks the requests that succeeded, from the "errors" list that
// --save-detailed keeps (an empty string means success); nil when absent.
func okMask(obj map[string]any) []bool {
	errs, isList := obj["errors"].([]any)
	if !isList {
		return nil
	}
	mask := make([]bool, len(errs))
	for i, e := range errs {
		s, _ := e.(string)
		mask[i] = e == nil || s == ""
	}
	return mask
}

// pick keeps xs[i] where ok[i]. Without a usable mask (serve.py drops
// "errors" unless --save-detailed) it drops zeros, which is what a failed
// request records and no successful one can.
func pick(xs []float64, ok []bool) []float64 {
	if ok == nil || len(ok) != len(xs) {
		var out []float64
		for _, x := range xs {
			if x > 0 {
				out = append(out, x)
			}
		}
		return out
	}
	var out []float64
	for i, x := range xs {
		if ok[i] {
			out = append(out, x)
		}
	}
	return out
}

func secondsToMs(xs []float64) []float64 {
	if len(xs) == 0 || len(xs) > maxSamples {
		return nil
	}
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = x * 1000
	}
	return out
}

func sortWarnings(ws []parse.Warning) {
	sort.SliceStable(ws, func(i, j int) bool { return ws[i].Message < ws[j].Message })
}
