package load

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/nsys-gate/gate/parse"
	"github.com/nsys-gate/gate/parse/vllm"
)

// Warning codes added by Extra and AddMetrics.
const (
	warnExtraDuplicate = "extra-duplicate" // two inputs gave the same metric name
)

// Extra reads each file and adds what it holds to s.Extra (sorted by
// name, then source) and s.Warnings. A file may be gzipped (.gz) and is one
// of:
//
//   - gate's user-metrics JSON: {"metrics": [{"name", "value", "unit",
//     "better", "samples"}]}, read strictly (unknown keys are errors);
//   - a vLLM benchmark result JSON (vllm bench latency / throughput / serve);
//   - a Prometheus text scrape of a vLLM server's /metrics;
//   - anything else is read as a vLLM log.
//
// Formats gate does not recognise become warnings, not errors; a file that
// cannot be read, or a malformed user-metrics file, is an error naming the
// file. When two inputs give the same metric name the first one is kept and
// the second is reported in a warning (see AddMetrics).
func Extra(s *parse.Summary, paths ...string) error {
	for _, path := range paths {
		ms, ws, err := readExtra(path)
		if err != nil {
			return err
		}
		AddMetrics(s, ms, ws)
	}
	return nil
}

// AddMetrics adds metrics measured outside the profile, and the warnings
// that came with them, to s. A metric whose name s already has is dropped
// with a warning naming both sources: the first one stays.
func AddMetrics(s *parse.Summary, ms []parse.ExtraMetric, ws []parse.Warning) {
	seen := map[string]string{} // metric name -> source
	for _, m := range s.Extra {
		seen[m.Name] = m.Source
	}
	s.Warnings = append(s.Warnings, ws...)
	for _, m := range ms {
		if first, dup := seen[m.Name]; dup {
			s.Warnings = append(s.Warnings, parse.Warning{Code: warnExtraDuplicate,
				Message: fmt.Sprintf("%s: metric %s already came from %s; kept that one", m.Source, m.Name, first)})
			continue
		}
		seen[m.Name] = m.Source
		s.Extra = append(s.Extra, m)
	}
	vllm.SortMetrics(s.Extra)
}

// extraFormat names the format Extra detects for a file's contents:
// "user", "bench", "prometheus" or "log".
func extraFormat(data []byte) string {
	head := bytes.TrimSpace(data)
	if len(head) > 0 && head[0] == '[' {
		return "bench" // e.g. a .pytorch.json record list: ParseBench says it is not a result
	}
	if len(head) > 0 && head[0] == '{' {
		var probe map[string]json.RawMessage
		if json.Unmarshal(data, &probe) == nil {
			if _, ok := probe["metrics"]; ok {
				return "user"
			}
		}
		return "bench"
	}
	if looksPrometheus(head) {
		return "prometheus"
	}
	return "log"
}

// looksPrometheus: the first non-blank line is a # HELP / # TYPE comment or
// a sample of a vllm: family.
func looksPrometheus(data []byte) bool {
	for _, line := range bytes.SplitN(data, []byte("\n"), 50) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		return bytes.HasPrefix(line, []byte("# HELP ")) || bytes.HasPrefix(line, []byte("# TYPE ")) ||
			bytes.HasPrefix(line, []byte("vllm:"))
	}
	return false
}

func readExtra(path string) ([]parse.ExtraMetric, []parse.Warning, error) {
	data, err := readMaybeGzip(path)
	if err != nil {
		return nil, nil, err
	}
	src := filepath.Base(path)
	switch extraFormat(data) {
	case "user":
		ms, err := parseUserMetrics(data, src)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		return ms, nil, nil
	case "bench":
		ms, ws := vllm.ParseBench(data, src)
		return ms, ws, nil
	case "prometheus":
		ms, ws := vllm.ParseMetrics(data, src)
		return ms, ws, nil
	}
	ms, ws := vllm.ParseLog(data, src)
	return ms, ws, nil
}

func readMaybeGzip(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	data, err := io.ReadAll(io.LimitReader(r, 1<<30))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return data, nil
}

// userMetrics is gate's own extra-metrics file.
type userMetrics struct {
	Metrics []userMetric `json:"metrics"`
}

type userMetric struct {
	Name    string    `json:"name"`
	Value   *float64  `json:"value"`
	Unit    string    `json:"unit"`
	Better  string    `json:"better"`
	Samples []float64 `json:"samples"`
}

func parseUserMetrics(data []byte, src string) ([]parse.ExtraMetric, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var um userMetrics
	if err := dec.Decode(&um); err != nil {
		return nil, err
	}
	var out []parse.ExtraMetric
	names := map[string]bool{}
	for i, m := range um.Metrics {
		switch {
		case m.Name == "" || strings.ContainsAny(m.Name, " \t\n"):
			return nil, fmt.Errorf("metrics[%d]: name %q: want a non-empty name without spaces", i, m.Name)
		case m.Value == nil:
			return nil, fmt.Errorf("metrics[%d] (%s): value is missing", i, m.Name)
		case m.Better != "lower" && m.Better != "higher" && m.Better != "":
			return nil, fmt.Errorf("metrics[%d] (%s): better %q: want lower, higher or empty (shown, not gated)", i, m.Name, m.Better)
		case names[m.Name]:
			return nil, fmt.Errorf("metrics[%d]: %s appears twice", i, m.Name)
		}
		names[m.Name] = true
		out = append(out, parse.ExtraMetric{Name: m.Name, Unit: m.Unit, Better: m.Better, Value: *m.Value,
			Samples: m.Samples, Source: src})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
