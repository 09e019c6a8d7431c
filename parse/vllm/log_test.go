package vllm

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/nsys-gate/gate/internal/stats"
)

// medianOf reads a field of the non-idle statistics lines with a regexp of
// the test's own, so that the parser is checked against an independent read.
func medianOf(t *testing.T, file, field string) float64 {
	t.Helper()
	re := regexp.MustCompile(regexp.QuoteMeta(field) + `: ([0-9.]+)`)
	var xs []float64
	for _, line := range strings.Split(string(read(t, file)), "\n") {
		if !strings.Contains(line, "Avg prompt throughput") || strings.Contains(line, "throughput: 0.0 tokens/s, Avg generation throughput: 0.0") {
			continue
		}
		if m := re.FindStringSubmatch(line); m != nil {
			v, _ := strconv.ParseFloat(m[1], 64)
			xs = append(xs, v)
		}
	}
	if len(xs) == 0 {
		t.Fatalf("%s: no %q", file, field)
	}
	return stats.Median(stats.Sorted(xs))
}

func TestLogVersions(t *testing.T) {
	for _, tc := range []struct {
		file    string
		want    map[string]string // metric -> field read independently
		absent  []string
		idle    bool
		special map[string]float64
	}{
		{"log_v0.6.txt",
			map[string]string{
				"vllm.log.generation_throughput":  "Avg generation throughput",
				"vllm.log.prompt_throughput":      "Avg prompt throughput",
				"vllm.log.running":                "Running",
				"vllm.log.waiting":                "Pending",
				"vllm.log.swapped":                "Swapped",
				"vllm.log.gpu_kv_cache_usage_pct": "GPU KV cache usage",
			},
			[]string{"vllm.log.mfu_tflops_per_gpu", "vllm.log.cudagraph.padding_pct", "vllm.log.preemptions"},
			true,
			map[string]float64{"vllm.log.preemptions_cumulative": 1}},
		{"log_v0.12.txt",
			map[string]string{
				"vllm.log.generation_throughput":  "Avg generation throughput",
				"vllm.log.prompt_throughput":      "Avg prompt throughput",
				"vllm.log.waiting":                "Waiting",
				"vllm.log.gpu_kv_cache_usage_pct": "GPU KV cache usage",
				"vllm.log.prefix_cache_hit_pct":   "Prefix cache hit rate",
			},
			[]string{"vllm.log.swapped", "vllm.log.cpu_kv_cache_usage_pct", "vllm.log.preemptions_cumulative"},
			true,
			// The two CUDA-graph tables hold 224 steps each; paddings
			// (2*64+7*21+3*12) over padded tokens (32*118+32*64+24*21+600*9+520*12).
			map[string]float64{
				"vllm.log.preemptions":           2,
				"vllm.log.cudagraph.steps":       448,
				"vllm.log.cudagraph.padding_pct": 100 * float64(2*64+7*21+3*12) / float64(32*118+32*64+24*21+600*9+520*12),
				"vllm.log.cudagraph.eager_pct":   100 * 9.0 / 224,
			}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			ms, ws := ParseLog(read(t, tc.file), tc.file)
			got := byName(ms)
			for name, field := range tc.want {
				if m := got[name]; !near(m.Value, medianOf(t, tc.file, field)) || len(m.Samples) < 2 {
					t.Errorf("%s = %+v, want median of %q = %v", name, m, field, medianOf(t, tc.file, field))
				}
			}
			for name, v := range tc.special {
				if m, ok := got[name]; !ok || !near(m.Value, v) {
					t.Errorf("%s = %+v, want %v", name, m, v)
				}
			}
			for _, name := range tc.absent {
				if _, ok := got[name]; ok {
					t.Errorf("unexpected %s", name)
				}
			}
			if idle := len(ws) > 0 && ws[0].Code == WarnIdle; idle != tc.idle {
				t.Errorf("idle warning %v, want %v: %v", idle, tc.idle, ws)
			}
			if m := got["vllm.log.generation_throughput"]; m.Better != BetterHigher || m.Unit != "tok/s" {
				t.Errorf("direction/unit: %+v", m)
			}
		})
	}
}

func TestLogVariants(t *testing.T) {
	for _, tc := range []struct {
		name string
		log  string
		want map[string]float64
		code string // expected first warning code, "" for none
	}{
		{"v0.10 engine line without preemptions",
			"INFO 07-01 10:00:00 [loggers.py:118] Engine 000: Avg prompt throughput: 100.0 tokens/s, Avg generation throughput: 50.0 tokens/s, Running: 2 reqs, Waiting: 0 reqs, GPU KV cache usage: 1.5%, Prefix cache hit rate: 0.0%\n",
			map[string]float64{"vllm.log.generation_throughput": 50, "vllm.log.prompt_throughput": 100, "vllm.log.running": 2, "vllm.log.gpu_kv_cache_usage_pct": 1.5}, ""},
		{"two engines: throughputs add, usage averages",
			"Engine 000: Avg prompt throughput: 10.0 tokens/s, Avg generation throughput: 100.0 tokens/s, Running: 4 reqs, Waiting: 1 reqs, GPU KV cache usage: 10.0%, Prefix cache hit rate: 50.0%\n" +
				"Engine 001: Avg prompt throughput: 30.0 tokens/s, Avg generation throughput: 300.0 tokens/s, Running: 6 reqs, Waiting: 3 reqs, GPU KV cache usage: 30.0%, Prefix cache hit rate: 70.0%\n",
			map[string]float64{"vllm.log.generation_throughput": 400, "vllm.log.prompt_throughput": 40, "vllm.log.running": 10, "vllm.log.waiting": 4, "vllm.log.gpu_kv_cache_usage_pct": 20, "vllm.log.prefix_cache_hit_pct": 60}, ""},
		{"aggregated DP logging and trailing fields",
			"2 Engines Aggregated: Avg prompt throughput: 1.0 tokens/s, Avg generation throughput: 2.0 tokens/s, Running: 1 reqs, Waiting: 0 reqs, Preemptions: 4, GPU KV cache usage: 3.0%, Prefix cache hit rate: 0.0%, External prefix cache hit rate: 5.0%, MM cache hit rate: 1.0%\n",
			map[string]float64{"vllm.log.generation_throughput": 2, "vllm.log.preemptions": 4, "vllm.log.prefix_cache_hit_pct": 0}, ""},
		{"ANSI colours",
			"\x1b[32mINFO\x1b[0m 01-01 00:00:00 metrics.py:1] Avg prompt throughput: 7.0 tokens/s, Avg generation throughput: 9.0 tokens/s, Running: 1 reqs, Swapped: 0 reqs, Pending: 0 reqs, GPU KV cache usage: 0.5%, CPU KV cache usage: 0.0%.\n",
			map[string]float64{"vllm.log.generation_throughput": 9, "vllm.log.swapped": 0}, ""},
		{"only idle lines",
			"Avg prompt throughput: 0.0 tokens/s, Avg generation throughput: 0.0 tokens/s, Running: 0 reqs, Waiting: 0 reqs, GPU KV cache usage: 0.0%, Prefix cache hit rate: 0.0%\n",
			nil, WarnIdle},
		{"not a vLLM log", "hello\nworld\n", nil, WarnUnrecognised},
		{"garbled number",
			"Avg prompt throughput: 1.2.3 tokens/s, Avg generation throughput: 4.0 tokens/s, Running: 1 reqs\n",
			nil, WarnIncomplete},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ms, ws := ParseLog([]byte(tc.log), "x.log")
			got := byName(ms)
			for name, v := range tc.want {
				if m, ok := got[name]; !ok || !near(m.Value, v) {
					t.Errorf("%s = %+v, want %v", name, m, v)
				}
			}
			if tc.want == nil && len(ms) != 0 {
				t.Errorf("metrics invented: %v", ms)
			}
			if tc.code == "" && len(ws) != 0 || tc.code != "" && (len(ws) == 0 || ws[0].Code != tc.code) {
				t.Errorf("warnings %v, want %q", ws, tc.code)
			}
		})
	}
}
