package vllm

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/nsys-gate/gate/internal/stats"
	"github.com/nsys-gate/gate/parse"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/vllm/golden")

const fixtures = "../../testdata/vllm"

func read(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

type parser func([]byte, string) ([]parse.ExtraMetric, []parse.Warning)

var fixtureParsers = []struct {
	file  string
	parse parser
}{
	{"latency_v0.6.json", ParseBench},
	{"latency_v0.11.json", ParseBench},
	{"throughput_v0.11.json", ParseBench},
	{"serve_v0.8.json", ParseBench},
	{"serve_v0.11.json", ParseBench},
	{"metrics_v0.6.prom", ParseMetrics},
	{"metrics_v0.11.prom", ParseMetrics},
	{"log_v0.6.txt", ParseLog},
	{"log_v0.12.txt", ParseLog},
}

// TestGolden pins what each fixture turns into, so that a change in names,
// units or directions shows up in review.
func TestGolden(t *testing.T) {
	for _, fx := range fixtureParsers {
		t.Run(fx.file, func(t *testing.T) {
			ms, ws := fx.parse(read(t, fx.file), fx.file)
			got, err := json.MarshalIndent(struct {
				Metrics  []parse.ExtraMetric `json:"metrics"`
				Warnings []parse.Warning     `json:"warnings"`
			}{ms, ws}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := filepath.Join(fixtures, "golden", fx.file+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s; run go test -update and review the diff", fx.file, golden)
			}
		})
	}
}

func byName(ms []parse.ExtraMetric) map[string]parse.ExtraMetric {
	out := map[string]parse.ExtraMetric{}
	for _, m := range ms {
		out[m.Name] = m
	}
	return out
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func jsonObj(t *testing.T, name string) map[string]any {
	t.Helper()
	var obj map[string]any
	if err := json.Unmarshal(read(t, name), &obj); err != nil {
		t.Fatal(err)
	}
	return obj
}

func TestServeResultVersions(t *testing.T) {
	for _, tc := range []struct {
		file        string
		goodputKey  string
		wantNames   []string
		absent      []string
		ttftSamples int
		e2elSamples int
	}{
		// 0.8-era script: p99 only, no e2el by default, goodput key with a colon.
		{"serve_v0.8.json", "request_goodput:",
			[]string{"vllm.ttft.p99_ms", "vllm.itl.median_ms", "vllm.tpot.std_ms", "vllm.output_throughput", "vllm.request_throughput", "vllm.total_token_throughput"},
			[]string{"vllm.e2el.mean_ms", "vllm.failed", "vllm.request_goodput", "vllm.ttft.p50_ms"}, 16, 0},
		// 0.11+: failed requests, p99.9 keys, per-request latencies kept.
		{"serve_v0.11.json", "request_goodput",
			[]string{"vllm.ttft.p99_9_ms", "vllm.e2el.p90_ms", "vllm.failed", "vllm.max_output_throughput", "vllm.tpot.p50_ms"},
			[]string{"vllm.request_goodput"}, 0, 15},
	} {
		t.Run(tc.file, func(t *testing.T) {
			ms, ws := ParseBench(read(t, tc.file), tc.file)
			if len(ws) != 0 {
				t.Errorf("warnings: %v", ws)
			}
			got := byName(ms)
			obj := jsonObj(t, tc.file)
			if _, ok := obj[tc.goodputKey]; !ok {
				t.Fatalf("fixture lacks %q", tc.goodputKey)
			}
			for _, n := range tc.wantNames {
				if _, ok := got[n]; !ok {
					t.Errorf("missing %s", n)
				}
			}
			for _, n := range tc.absent {
				if _, ok := got[n]; ok {
					t.Errorf("unexpected %s (value %v)", n, got[n].Value)
				}
			}
			// Every *_ms key of the file is one metric with the same value.
			for k, v := range obj {
				sm := serveStatRE.FindStringSubmatch(k)
				if sm == nil {
					continue
				}
				stat := sm[1]
				if stat[0] == 'p' {
					stat = pctName(stat[1:])
				}
				m, ok := got["vllm."+sm[2]+"."+stat+"_ms"]
				if !ok || !near(m.Value, v.(float64)) || m.Unit != "ms" || m.Better != BetterLower {
					t.Errorf("%s = %v: got %+v", k, v, m)
				}
			}
			if m := got["vllm.output_throughput"]; m.Better != BetterHigher || m.Unit != "tok/s" || !near(m.Value, obj["output_throughput"].(float64)) {
				t.Errorf("output_throughput: %+v", m)
			}
			if n := len(got["vllm.ttft.median_ms"].Samples); n != tc.ttftSamples {
				t.Errorf("ttft samples: %d, want %d", n, tc.ttftSamples)
			}
			if n := len(got["vllm.e2el.median_ms"].Samples); n != tc.e2elSamples {
				t.Errorf("e2el samples: %d, want %d (failed requests dropped)", n, tc.e2elSamples)
			}
			if m := got["vllm.ttft.median_ms"]; len(m.Samples) > 0 && !near(stats.Median(stats.Sorted(m.Samples)), m.Value) {
				t.Errorf("median of the ttft samples %v != the file's median %v", stats.Median(stats.Sorted(m.Samples)), m.Value)
			}
			for _, s := range got["vllm.e2el.median_ms"].Samples {
				if s <= 0 {
					t.Errorf("e2el sample %v: a failed request leaked in", s)
				}
			}
		})
	}
}

func TestLatencyAndThroughput(t *testing.T) {
	for _, file := range []string{"latency_v0.6.json", "latency_v0.11.json"} {
		obj := jsonObj(t, file)
		ms, ws := ParseBench(read(t, file), file)
		if len(ws) != 0 {
			t.Errorf("%s: warnings %v", file, ws)
		}
		got := byName(ms)
		if m := got["vllm.latency.avg_ms"]; !near(m.Value, 1000*obj["avg_latency"].(float64)) || m.Unit != "ms" {
			t.Errorf("%s avg: %+v", file, m)
		}
		if m := got["vllm.latency.p50_ms"]; len(m.Samples) != 30 || !near(stats.Median(stats.Sorted(m.Samples)), m.Value) {
			t.Errorf("%s avg: %+v", file, m)
		}
		for k, v := range obj["percentiles"].(map[string]any) {
			if m := got["vllm.latency.p"+k+"_ms"]; !near(m.Value, 1000*v.(float64)) {
				t.Errorf("%s p%s: %+v", file, k, m)
			}
		}
		_, hasStd := obj["std_latency"]
		if _, ok := got["vllm.latency.std_ms"]; ok != hasStd {
			t.Errorf("%s: std_ms present %v, std_latency in file %v", file, ok, hasStd)
		}
	}
	obj := jsonObj(t, "throughput_v0.11.json")
	got := byName(must(ParseBench(read(t, "throughput_v0.11.json"), "t")))
	if m := got["vllm.throughput.tokens_per_s"]; !near(m.Value, obj["tokens_per_second"].(float64)) || m.Better != BetterHigher {
		t.Errorf("tokens_per_s: %+v", m)
	}
	if m := got["vllm.throughput.elapsed_ms"]; !near(m.Value, 1000*obj["elapsed_time"].(float64)) || m.Better != BetterLower {
		t.Errorf("elapsed_ms: %+v", m)
	}
	if m := got["vllm.throughput.requests"]; m.Better != BetterInfo || m.Value != 1000 {
		t.Errorf("requests: %+v", m)
	}
}

func must(ms []parse.ExtraMetric, _ []parse.Warning) []parse.ExtraMetric { return ms }

func TestBenchUnrecognised(t *testing.T) {
	for _, tc := range []struct{ name, in, code string }{
		{"not json", "Throughput: 12.3 requests/s", WarnUnrecognised},
		{"array", `[{"benchmark": {"name": "vLLM benchmark"}}]`, WarnUnrecognised},
		{"other object", `{"schema": "gate.summary/v1"}`, WarnUnrecognised},
		{"empty", ``, WarnUnrecognised},
		{"null", `null`, WarnUnrecognised},
		{"all NaN", `{"avg_latency": NaN, "latencies": [NaN], "percentiles": {}}`, WarnIncomplete},
		{"bad percentile", `{"avg_latency": 1.5, "latencies": [1.5], "percentiles": {"50": "x"}}`, WarnIncomplete},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ms, ws := ParseBench([]byte(tc.in), "in.json")
			if len(ws) == 0 || ws[len(ws)-1].Code != tc.code && ws[0].Code != tc.code {
				t.Errorf("warnings %v, want code %s", ws, tc.code)
			}
			for _, m := range ms {
				if !finite(m.Value) {
					t.Errorf("invented a non-finite value: %+v", m)
				}
			}
			if tc.code == WarnUnrecognised && len(ms) != 0 {
				t.Errorf("metrics from unrecognised input: %v", ms)
			}
		})
	}
	// --append-result: one object per line, the last one counts.
	ms, ws := ParseBench([]byte("{\"avg_latency\": 1.0, \"latencies\": [1.0], \"percentiles\": {}}\n{\"avg_latency\": 2.0, \"latencies\": [2.0], \"percentiles\": {}}\n"), "appended.json")
	if got := byName(ms)["vllm.latency.avg_ms"].Value; got != 2000 || len(ws) != 1 || ws[0].Code != WarnIncomplete {
		t.Errorf("appended results: avg %v, warnings %v", got, ws)
	}
	// Python writes NaN and Infinity; they are read as "no value", not as an error.
	ms, ws = ParseBench([]byte(`{"avg_latency": 2.0, "std_latency": NaN, "latencies": [2.0, Infinity, -Infinity, "NaN"], "percentiles": {"50": 2.0}}`), "py.json")
	got := byName(ms)
	if len(ws) != 0 || got["vllm.latency.avg_ms"].Value != 2000 || len(got["vllm.latency.p50_ms"].Samples) != 1 {
		t.Errorf("python JSON: %v %v", ms, ws)
	}
	if _, ok := got["vllm.latency.std_ms"]; ok {
		t.Errorf("NaN std became a metric")
	}
}

// histogramStats reads one histogram family of a fixture with a regexp,
// independently of expfmt: the sum and count over all label sets.
func histogramStats(t *testing.T, file, fam string) (sum, count float64) {
	t.Helper()
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(fam) + `_(sum|count)\{[^}]*\} (\S+)$`)
	for _, m := range re.FindAllStringSubmatch(string(read(t, file)), -1) {
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			t.Fatal(err)
		}
		if m[1] == "sum" {
			sum += v
		} else {
			count += v
		}
	}
	return sum, count
}

func TestPrometheusVersions(t *testing.T) {
	for _, tc := range []struct {
		file, itlFamily string
		preemptions     float64
		kvPct           float64
		hasTPOT         bool
		hasPrefix       bool
	}{
		{"metrics_v0.6.prom", "vllm:time_per_output_token_seconds", 3, 3.27, false, false},
		{"metrics_v0.11.prom", "vllm:inter_token_latency_seconds", 1, 2.0, true, true},
	} {
		t.Run(tc.file, func(t *testing.T) {
			ms, _ := ParseMetrics(read(t, tc.file), tc.file)
			got := byName(ms)
			for fam, name := range map[string]string{
				tc.itlFamily:                        "vllm.metrics.itl.mean_ms",
				"vllm:time_to_first_token_seconds":  "vllm.metrics.ttft.mean_ms",
				"vllm:e2e_request_latency_seconds":  "vllm.metrics.e2el.mean_ms",
				"vllm:request_prefill_time_seconds": "vllm.metrics.prefill_time.mean_ms",
				"vllm:request_decode_time_seconds":  "vllm.metrics.decode_time.mean_ms",
			} {
				sum, count := histogramStats(t, tc.file, fam)
				if m := got[name]; count == 0 || !near(m.Value, 1000*sum/count) || m.Unit != "ms" || m.Better != BetterLower {
					t.Errorf("%s from %s: got %+v, want %v", name, fam, m, 1000*sum/count)
				}
			}
			if m := got["vllm.metrics.preemptions"]; m.Value != tc.preemptions || m.Better != BetterLower {
				t.Errorf("preemptions %+v, want %v", m, tc.preemptions)
			}
			if m := got["vllm.metrics.kv_cache_usage_pct"]; !near(m.Value, tc.kvPct) || m.Better != BetterInfo {
				t.Errorf("kv usage %+v, want %v", m, tc.kvPct)
			}
			if _, ok := got["vllm.metrics.tpot.mean_ms"]; ok != tc.hasTPOT {
				t.Errorf("tpot present %v, want %v", ok, tc.hasTPOT)
			}
			if m, ok := got["vllm.metrics.prefix_cache_hit_pct"]; ok != tc.hasPrefix || ok && !near(m.Value, 100*(20480+18432)/102400.0) {
				t.Errorf("prefix cache hit: %+v (present %v)", m, ok)
			}
			if got["vllm.metrics.requests_finished"].Value != 200 {
				t.Errorf("requests_finished %+v", got["vllm.metrics.requests_finished"])
			}
			for _, m := range ms {
				if strings.Contains(m.Name, "python") || strings.Contains(m.Name, "process") {
					t.Errorf("non-vLLM family leaked: %s", m.Name)
				}
			}
		})
	}
	if _, ws := ParseMetrics([]byte("this is { not prometheus\n"), "x"); len(ws) != 1 || ws[0].Code != WarnUnrecognised {
		t.Errorf("garbage: %v", ws)
	}
	if ms, ws := ParseMetrics([]byte("# TYPE up gauge\nup 1\n"), "x"); len(ms) != 0 || len(ws) != 1 || ws[0].Code != WarnUnrecognised {
		t.Errorf("no vllm families: %v %v", ms, ws)
	}
}

func TestQuantile(t *testing.T) {
	h := &Histogram{Bounds: []float64{1, 2, 4}, Counts: []float64{2, 10, 18}, Count: 20}
	for _, tc := range []struct {
		q     float64
		want  float64
		where int
	}{
		{0.05, 0.5, inFirst},  // rank 1 of 2 in [0,1]
		{0.5, 2, inBuckets},   // rank 10 = top of (1,2]
		{0.3, 1.5, inBuckets}, // rank 6: 4 of 8 in (1,2]
		{0.7, 3, inBuckets},   // rank 14: 4 of 8 in (2,4]
		{0.95, 4, aboveLast},  // rank 19 > 18: +Inf bucket
	} {
		v, where := h.quantile(tc.q)
		if !near(v, tc.want) || where != tc.where {
			t.Errorf("q%v = %v (%d), want %v (%d)", tc.q, v, where, tc.want, tc.where)
		}
	}
	if v, _ := (&Histogram{}).quantile(0.5); !math.IsNaN(v) {
		t.Errorf("empty histogram: %v", v)
	}
}

const scrapeBefore = `# TYPE vllm:num_preemptions_total counter
vllm:num_preemptions_total{engine="0",model_name="m"} 2.0
# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_bucket{engine="0",le="0.1",model_name="m"} 4.0
vllm:time_to_first_token_seconds_bucket{engine="0",le="1.0",model_name="m"} 5.0
vllm:time_to_first_token_seconds_bucket{engine="0",le="+Inf",model_name="m"} 5.0
vllm:time_to_first_token_seconds_count{engine="0",model_name="m"} 5.0
vllm:time_to_first_token_seconds_sum{engine="0",model_name="m"} 0.9
`

const scrapeAfter = `# TYPE vllm:num_preemptions_total counter
vllm:num_preemptions_total{engine="0",model_name="m"} 5.0
# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_bucket{engine="0",le="0.1",model_name="m"} 4.0
vllm:time_to_first_token_seconds_bucket{engine="0",le="1.0",model_name="m"} 15.0
vllm:time_to_first_token_seconds_bucket{engine="0",le="+Inf",model_name="m"} 15.0
vllm:time_to_first_token_seconds_count{engine="0",model_name="m"} 15.0
vllm:time_to_first_token_seconds_sum{engine="0",model_name="m"} 5.9
`

// TestScrapeSub: the difference of two scrapes is the load run alone.
func TestScrapeSub(t *testing.T) {
	b, err := ParseScrape(strings.NewReader(scrapeBefore))
	if err != nil {
		t.Fatal(err)
	}
	a, err := ParseScrape(strings.NewReader(scrapeAfter))
	if err != nil {
		t.Fatal(err)
	}
	d, ws := a.Sub(b)
	if len(ws) != 0 {
		t.Errorf("warnings %v", ws)
	}
	got := byName(must(d.Metrics("delta")))
	if got["vllm.metrics.preemptions"].Value != 3 {
		t.Errorf("preemptions %v", got["vllm.metrics.preemptions"])
	}
	if m := got["vllm.metrics.ttft.mean_ms"]; !near(m.Value, 500) {
		t.Errorf("ttft mean %v, want 500 (5.0 s over 10)", m.Value)
	}
	if m := got["vllm.metrics.ttft.p50_ms"]; !near(m.Value, 100+900*0.5) {
		t.Errorf("ttft p50 %v", m.Value)
	}
	// A restarted server: counters went down, the later scrape is used.
	d, ws = b.Sub(a)
	if len(ws) != 2 || byName(must(d.Metrics("x")))["vllm.metrics.preemptions"].Value != 2 {
		t.Errorf("restart: %v", ws)
	}
}

// A histogram that has a count but no buckets has no quantiles: its mean is
// reported, its p50 is not NaN but absent, and a warning says why.
func TestHistogramWithoutBuckets(t *testing.T) {
	ms, ws := ParseMetrics([]byte("# TYPE vllm:time_to_first_token_seconds histogram\nvllm:time_to_first_token_seconds_count 1\nvllm:time_to_first_token_seconds_sum 0.5\n"), "nan2.prom")
	names := map[string]float64{}
	for _, m := range ms {
		names[m.Name] = m.Value
	}
	if v, ok := names["vllm.metrics.ttft.mean_ms"]; !ok || v != 500 {
		t.Errorf("mean: %v %v", v, ok)
	}
	if _, ok := names["vllm.metrics.ttft.p50_ms"]; ok {
		t.Errorf("p50 reported for a histogram without buckets: %v", ms)
	}
	if len(ws) != 1 || !strings.Contains(ws[0].Message, "nan2.prom") || !strings.Contains(ws[0].Message, "has no buckets") {
		t.Errorf("warnings %v", ws)
	}
}
