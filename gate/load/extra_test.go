package load

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/nsys-gate/gate/parse"
)

const vllmFixtures = "../../testdata/vllm"

func TestExtraFormat(t *testing.T) {
	for file, want := range map[string]string{
		"user_metrics.json":  "user",
		"serve_v0.8.json":    "bench",
		"latency_v0.6.json":  "bench",
		"metrics_v0.6.prom":  "prometheus",
		"metrics_v0.11.prom": "prometheus",
		"log_v0.6.txt":       "log",
		"log_v0.12.txt":      "log",
	} {
		data, err := os.ReadFile(filepath.Join(vllmFixtures, file))
		if err != nil {
			t.Fatal(err)
		}
		if got := extraFormat(data); got != want {
			t.Errorf("%s: %s, want %s", file, got, want)
		}
	}
}

func TestExtra(t *testing.T) {
	files := []string{"serve_v0.11.json", "metrics_v0.11.prom", "log_v0.12.txt", "user_metrics.json", "latency_v0.11.json", "throughput_v0.11.json"}
	var paths []string
	for _, f := range files {
		paths = append(paths, filepath.Join(vllmFixtures, f))
	}
	s := &parse.Summary{}
	if err := Extra(s, paths...); err != nil {
		t.Fatal(err)
	}
	if !sort.SliceIsSorted(s.Extra, func(i, j int) bool { return s.Extra[i].Name < s.Extra[j].Name }) {
		t.Errorf("extra not sorted")
	}
	sources := map[string]bool{}
	byName := map[string]parse.ExtraMetric{}
	for _, m := range s.Extra {
		sources[m.Source] = true
		byName[m.Name] = m
	}
	for _, f := range files {
		if !sources[f] {
			t.Errorf("nothing from %s", f)
		}
	}
	for name, better := range map[string]string{
		"vllm.ttft.p99_ms":                  "lower",
		"vllm.output_throughput":            "higher",
		"vllm.metrics.itl.mean_ms":          "lower",
		"vllm.log.generation_throughput":    "higher",
		"bench.tokens_per_s":                "higher",
		"vllm.latency.avg_ms":               "lower",
		"vllm.throughput.requests_per_s":    "higher",
		"vllm.metrics.kv_cache_usage_pct":   "",
		"vllm.log.cudagraph.padding_pct":    "lower",
		"vllm.metrics.prefix_cache_hit_pct": "higher",
	} {
		if m, ok := byName[name]; !ok || m.Better != better {
			t.Errorf("%s: %+v, want better %q", name, m, better)
		}
	}
	if got := byName["bench.prefill_ms_median"].Samples; len(got) != 3 {
		t.Errorf("user samples %v", got)
	}
	// Another order of the same files gives the same summary.
	s2 := &parse.Summary{}
	rev := append([]string(nil), paths...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	if err := Extra(s2, rev...); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s.Extra, s2.Extra) {
		t.Errorf("order of inputs changed the result")
	}
}

func TestAttachExtraDuplicatesAndErrors(t *testing.T) {
	dir := t.TempDir()
	serve := filepath.Join(vllmFixtures, "serve_v0.8.json")
	// The same result twice: the second copy's metrics are dropped with warnings.
	data, _ := os.ReadFile(serve)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	copyGz := filepath.Join(dir, "again.json.gz")
	os.WriteFile(copyGz, gz.Bytes(), 0o644)
	s := &parse.Summary{}
	if err := Extra(s, serve, copyGz); err != nil {
		t.Fatal(err)
	}
	dups := 0
	for _, w := range s.Warnings {
		if w.Code == warnExtraDuplicate {
			dups++
		}
	}
	if dups == 0 || dups != countFrom(s, "serve_v0.8.json") {
		t.Errorf("%d duplicate warnings for %d metrics", dups, countFrom(s, "serve_v0.8.json"))
	}
	if countFrom(s, "again.json.gz") != 0 {
		t.Errorf("duplicates kept")
	}

	// A .pytorch.json record list is not a result: a warning that says so.
	list := filepath.Join(dir, "serve.pytorch.json")
	os.WriteFile(list, []byte(`[{"benchmark": {"name": "vLLM benchmark"}}]`), 0o644)
	s = &parse.Summary{}
	if err := Extra(s, list); err != nil || len(s.Warnings) != 1 || !strings.Contains(s.Warnings[0].Message, "not a vLLM benchmark result") {
		t.Errorf("record list: %v %v", err, s.Warnings)
	}

	// Unrecognised content is a warning, not an error.
	junk := filepath.Join(dir, "notes.txt")
	os.WriteFile(junk, []byte("nothing to see\n"), 0o644)
	s = &parse.Summary{}
	if err := Extra(s, junk); err != nil || len(s.Extra) != 0 || len(s.Warnings) != 1 {
		t.Errorf("junk: err %v, extra %v, warnings %v", err, s.Extra, s.Warnings)
	}

	for name, body := range map[string]string{
		"missing value":  `{"metrics": [{"name": "a", "unit": "ms", "better": "lower"}]}`,
		"bad direction":  `{"metrics": [{"name": "a", "value": 1, "better": "up"}]}`,
		"unknown key":    `{"metrics": [{"name": "a", "value": 1, "colour": "red"}]}`,
		"duplicate name": `{"metrics": [{"name": "a", "value": 1}, {"name": "a", "value": 2}]}`,
		"empty name":     `{"metrics": [{"name": "", "value": 1}]}`,
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".json")
		os.WriteFile(p, []byte(body), 0o644)
		err := Extra(&parse.Summary{}, p)
		if err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: err %v, want an error naming the file", name, err)
		}
	}
	if err := Extra(&parse.Summary{}, filepath.Join(dir, "absent.json")); err == nil {
		t.Errorf("missing file: no error")
	}
}

func countFrom(s *parse.Summary, src string) int {
	n := 0
	for _, m := range s.Extra {
		if m.Source == src {
			n++
		}
	}
	return n
}
