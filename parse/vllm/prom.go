package vllm

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/nsys-gate/gate/parse"
)

// Scrape is a Prometheus text scrape of a vLLM server reduced to what gate
// reads: each vllm: family summed over its label sets (engines, models,
// finish reasons). Counter names lose their _total suffix, so that vLLM 0.6's
// "vllm:num_preemptions_total" and V1's "vllm:num_preemptions" (exposed as
// vllm:num_preemptions_total too) are one key.
type Scrape struct {
	Counters map[string]float64
	// Gauges keeps the sum and the number of series of each gauge, so that
	// per-engine gauges can be summed (requests) or averaged (usage).
	Gauges     map[string]GaugeSum
	Histograms map[string]*Histogram
}

// GaugeSum is the sum of one gauge over N series.
type GaugeSum struct {
	Sum float64
	N   int
}

// Histogram is a cumulative Prometheus histogram: Counts[i] observations were
// <= Bounds[i]; Count includes the +Inf bucket.
type Histogram struct {
	Bounds []float64
	Counts []float64
	Sum    float64
	Count  float64
}

// ParseScrape reads the Prometheus text exposition format with
// github.com/prometheus/common/expfmt.
func ParseScrape(r io.Reader) (*Scrape, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, err
	}
	s := &Scrape{Counters: map[string]float64{}, Gauges: map[string]GaugeSum{}, Histograms: map[string]*Histogram{}}
	names := make([]string, 0, len(fams))
	for n := range fams {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		if !strings.HasPrefix(name, "vllm:") {
			continue
		}
		f := fams[name]
		switch f.GetType() {
		case dto.MetricType_COUNTER:
			key := strings.TrimSuffix(name, "_total")
			for _, m := range f.GetMetric() {
				s.Counters[key] += m.GetCounter().GetValue()
			}
		case dto.MetricType_GAUGE:
			g := s.Gauges[name]
			for _, m := range f.GetMetric() {
				g.Sum += m.GetGauge().GetValue()
				g.N++
			}
			s.Gauges[name] = g
		case dto.MetricType_HISTOGRAM:
			h := &Histogram{}
			cum := map[float64]float64{}
			for _, m := range f.GetMetric() {
				mh := m.GetHistogram()
				h.Sum += mh.GetSampleSum()
				h.Count += float64(mh.GetSampleCount())
				for _, b := range mh.GetBucket() {
					if !math.IsInf(b.GetUpperBound(), +1) {
						cum[b.GetUpperBound()] += float64(b.GetCumulativeCount())
					}
				}
			}
			for b := range cum {
				h.Bounds = append(h.Bounds, b)
			}
			sort.Float64s(h.Bounds)
			for _, b := range h.Bounds {
				h.Counts = append(h.Counts, cum[b])
			}
			s.Histograms[name] = h
		}
	}
	return s, nil
}

// Sub returns the change from before to s: counters and histograms are
// differenced, gauges are s's. It isolates one load run on a server that has
// already served requests. A family that went down (the server restarted) or
// whose buckets changed keeps s's value, with a warning.
func (s *Scrape) Sub(before *Scrape) (*Scrape, []parse.Warning) {
	var ws []parse.Warning
	d := &Scrape{Counters: map[string]float64{}, Gauges: s.Gauges, Histograms: map[string]*Histogram{}}
	for _, k := range sortedKeys(s.Counters) {
		v := s.Counters[k]
		b := before.Counters[k]
		if v < b {
			ws = append(ws, warn(WarnIncomplete, fmt.Sprintf("counter %s went down (%g -> %g): server restarted? using the later value", k, b, v)))
			d.Counters[k] = v
			continue
		}
		d.Counters[k] = v - b
	}
	for _, k := range sortedKeys(s.Histograms) {
		h, b := s.Histograms[k], before.Histograms[k]
		if b == nil {
			d.Histograms[k] = h
			continue
		}
		if !sameBounds(h.Bounds, b.Bounds) || h.Count < b.Count {
			ws = append(ws, warn(WarnIncomplete, fmt.Sprintf("histogram %s changed buckets or went down: using the later scrape", k)))
			d.Histograms[k] = h
			continue
		}
		dh := &Histogram{Bounds: h.Bounds, Sum: h.Sum - b.Sum, Count: h.Count - b.Count}
		for i := range h.Counts {
			dh.Counts = append(dh.Counts, h.Counts[i]-b.Counts[i])
		}
		d.Histograms[k] = dh
	}
	return d, ws
}

func sameBounds(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// Where a quantile fell among the buckets.
const (
	inBuckets = iota // between two finite bounds: interpolated
	inFirst          // in the first bucket, interpolated from 0
	aboveLast        // in the +Inf bucket: the largest finite bound is returned
)

// quantile estimates the q-quantile (0..1) from the buckets by linear
// interpolation inside the bucket, as Prometheus' histogram_quantile does,
// and says where it fell. It is NaN for an empty histogram.
func (h *Histogram) quantile(q float64) (v float64, where int) {
	if h.Count <= 0 || len(h.Bounds) == 0 {
		return math.NaN(), inBuckets
	}
	rank := q * h.Count
	for i, c := range h.Counts {
		if c < rank {
			continue
		}
		upper := h.Bounds[i]
		if i == 0 {
			if upper <= 0 || c <= 0 {
				return upper, inFirst
			}
			return upper * rank / c, inFirst
		}
		lower, before := h.Bounds[i-1], h.Counts[i-1]
		in := c - before
		if in <= 0 {
			return upper, inBuckets
		}
		return lower + (upper-lower)*(rank-before)/in, inBuckets
	}
	return h.Bounds[len(h.Bounds)-1], aboveLast
}

// promHistograms maps vLLM's timing histograms (seconds) to gate names. Each
// entry lists the family names, newest first: vLLM 0.11 renamed
// vllm:time_per_output_token_seconds (which always measured the gap between
// tokens) to vllm:inter_token_latency_seconds.
var promHistograms = []struct {
	name     string
	families []string
}{
	{"ttft", []string{"vllm:time_to_first_token_seconds"}},
	{"itl", []string{"vllm:inter_token_latency_seconds", "vllm:time_per_output_token_seconds"}},
	{"tpot", []string{"vllm:request_time_per_output_token_seconds"}},
	{"e2el", []string{"vllm:e2e_request_latency_seconds"}},
	{"queue_time", []string{"vllm:request_queue_time_seconds"}},
	{"prefill_time", []string{"vllm:request_prefill_time_seconds"}},
	{"decode_time", []string{"vllm:request_decode_time_seconds"}},
	{"inference_time", []string{"vllm:request_inference_time_seconds"}},
}

// ParseMetrics reads a Prometheus text scrape of a vLLM server's /metrics.
func ParseMetrics(data []byte, source string) ([]parse.ExtraMetric, []parse.Warning) {
	s, err := ParseScrape(bytes.NewReader(data))
	if err != nil {
		return nil, []parse.Warning{warn(WarnUnrecognised, fmt.Sprintf("%s: not a Prometheus text scrape: %v", source, err))}
	}
	return s.Metrics(source)
}

// Metrics turns a scrape (or the difference of two) into gate metrics:
// counters as totals, timing histograms as mean and p50/p90/p99 in ms,
// KV-cache usage as a percentage.
func (s *Scrape) Metrics(source string) ([]parse.ExtraMetric, []parse.Warning) {
	var ms []parse.ExtraMetric
	var ws []parse.Warning
	if len(s.Counters)+len(s.Gauges)+len(s.Histograms) == 0 {
		return nil, []parse.Warning{warn(WarnUnrecognised, source+": no vllm: metric families in the scrape")}
	}
	add := func(name, unit, better string, v float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			// A summary holds numbers only (NaN does not even encode).
			ws = append(ws, warn(WarnIncomplete, fmt.Sprintf("%s: %s is %v: not reported", source, name, v)))
			return
		}
		ms = append(ms, metric(name, unit, better, v, source))
	}
	counter := func(key, name, unit, better string) {
		if v, ok := s.Counters[key]; ok {
			add(name, unit, better, v)
		}
	}
	counter("vllm:num_preemptions", "vllm.metrics.preemptions", "count", BetterLower)
	counter("vllm:prompt_tokens", "vllm.metrics.prompt_tokens", "tokens", BetterInfo)
	counter("vllm:generation_tokens", "vllm.metrics.generation_tokens", "tokens", BetterInfo)
	counter("vllm:request_success", "vllm.metrics.requests_finished", "count", BetterInfo)
	// Prefix cache hits and queries count tokens; V1 in 0.9 renamed
	// vllm:gpu_prefix_cache_* to vllm:prefix_cache_*.
	for _, pre := range []string{"vllm:prefix_cache_", "vllm:gpu_prefix_cache_"} {
		q, okq := s.Counters[pre+"queries"]
		h, okh := s.Counters[pre+"hits"]
		if okq && okh {
			if q > 0 {
				add("vllm.metrics.prefix_cache_hit_pct", "pct", BetterHigher, 100*h/q)
			}
			break
		}
	}

	for _, hm := range promHistograms {
		for _, fam := range hm.families {
			h, ok := s.Histograms[fam]
			if !ok {
				continue
			}
			if h.Count > 0 {
				base := "vllm.metrics." + hm.name + "."
				add(base+"mean_ms", "ms", BetterLower, 1000*h.Sum/h.Count)
				if len(h.Bounds) == 0 {
					ws = append(ws, warn(WarnHistogram, fmt.Sprintf("%s: %s has no buckets: only its mean is reported", source, fam)))
					break
				}
				var low []string
				for _, q := range []struct {
					q    float64
					name string
				}{{0.5, "p50"}, {0.9, "p90"}, {0.99, "p99"}} {
					v, where := h.quantile(q.q)
					switch where {
					case aboveLast:
						ws = append(ws, warn(WarnHistogram, fmt.Sprintf("%s: %s %s lies above the largest bucket (%gs); reported as that bound", source, fam, q.name, v)))
					case inFirst:
						// Interpolating inside [0, first bound] says nothing
						// (vLLM's request-time buckets start at 0.3 s).
						low = append(low, q.name)
						continue
					}
					add(base+q.name+"_ms", "ms", BetterLower, 1000*v)
				}
				if len(low) > 0 {
					ws = append(ws, warn(WarnHistogram, fmt.Sprintf("%s: %s %s below the first bucket bound (%gs); not reported, the mean is", source, fam, strings.Join(low, ", "), h.Bounds[0])))
				}
			}
			break
		}
	}
	if h, ok := s.Histograms["vllm:iteration_tokens_total"]; ok && h.Count > 0 {
		add("vllm.metrics.iteration_tokens.mean", "tokens", BetterInfo, h.Sum/h.Count)
	}

	// KV-cache usage is 0..1 per engine; averaged over engines. V1 in 0.9
	// renamed vllm:gpu_cache_usage_perc to vllm:kv_cache_usage_perc.
	for _, fam := range []string{"vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"} {
		if g, ok := s.Gauges[fam]; ok && g.N > 0 {
			add("vllm.metrics.kv_cache_usage_pct", "pct", BetterInfo, 100*g.Sum/float64(g.N))
			break
		}
	}
	gauge := func(fam, name string) {
		if g, ok := s.Gauges[fam]; ok {
			add(name, "count", BetterInfo, g.Sum)
		}
	}
	gauge("vllm:num_requests_running", "vllm.metrics.requests_running")
	gauge("vllm:num_requests_waiting", "vllm.metrics.requests_waiting")
	gauge("vllm:num_requests_swapped", "vllm.metrics.requests_swapped")

	if len(ms) == 0 {
		ws = append(ws, warn(WarnIncomplete, source+": the scrape has vllm: families but none that gate reads"))
	}
	SortMetrics(ms)
	return ms, ws
}
