package vllm

import (
	"bytes"
	"testing"

	"github.com/nsys-gate/gate/parse"
)

// checkMetrics is what every parser promises on any input: no panic, only
// finite values, a name, and a direction compare understands.
func checkMetrics(t *testing.T, ms []parse.ExtraMetric, ws []parse.Warning) {
	for _, m := range ms {
		if m.Name == "" || !finite(m.Value) {
			t.Fatalf("bad metric %+v", m)
		}
		if m.Better != BetterLower && m.Better != BetterHigher && m.Better != BetterInfo {
			t.Fatalf("bad direction %+v", m)
		}
		for _, s := range m.Samples {
			if !finite(s) {
				t.Fatalf("non-finite sample in %+v", m)
			}
		}
	}
	for _, w := range ws {
		if w.Code == "" || w.Message == "" {
			t.Fatalf("empty warning %+v", w)
		}
	}
}

func seed(f *testing.F, files ...string) {
	for _, name := range files {
		f.Add(read(f, name))
	}
}

func FuzzParseBench(f *testing.F) {
	seed(f, "latency_v0.6.json", "latency_v0.11.json", "throughput_v0.11.json", "serve_v0.8.json", "serve_v0.11.json")
	f.Add([]byte(`{"avg_latency": NaN, "latencies": [Infinity], "percentiles": {"50": -Infinity}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ms, ws := ParseBench(data, "fuzz.json")
		checkMetrics(t, ms, ws)
	})
}

func FuzzParseMetrics(f *testing.F) {
	seed(f, "metrics_v0.6.prom", "metrics_v0.11.prom")
	f.Add([]byte(scrapeAfter))
	f.Add([]byte(scrapeBefore))
	f.Fuzz(func(t *testing.T, data []byte) {
		ms, ws := ParseMetrics(data, "fuzz.prom")
		checkMetrics(t, ms, ws)
	})
}

func FuzzParseLog(f *testing.F) {
	// The first lines of the real logs, not all of them: small inputs run
	// and mutate faster.
	for _, name := range []string{"log_v0.6.txt", "log_v0.12.txt"} {
		lines := bytes.SplitAfter(read(f, name), []byte("\n"))
		f.Add(bytes.Join(lines[:min(len(lines), 24)], nil))
	}
	// Small seeds too: the fuzzer minimises large inputs slowly.
	f.Add([]byte("Engine 000: Avg prompt throughput: 1.0 tokens/s, Avg generation throughput: 2.0 tokens/s, Running: 1 reqs, Waiting: 0 reqs, Preemptions: 1, GPU KV cache usage: 3.0%, Prefix cache hit rate: 4.0%\n"))
	f.Add([]byte("| Unpadded Tokens | Padded Tokens | Num Paddings | Runtime Mode | Count |\n|---|---|---|---|---|\n| 3 | 4 | 1 | FULL | 2 |\nMFU: 1.0 TF/s/GPU 2.0 GB/s/GPU\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ms, ws := ParseLog(data, "fuzz.log")
		checkMetrics(t, ms, ws)
	})
}
