package compare

import (
	"fmt"
	"math"
	"sort"
	"strconv"

	"github.com/nsys-gate/gate/parse"
)

// entry is one summary's value of one named metric, before judgement.
type entry struct {
	name   string
	group  string
	unit   string
	kind   Kind
	better string
	value  float64
	// samples are the per-step values of a stat metric; nil where the
	// summary has none (aggregates, legacy summaries).
	samples []float64
	// sampled is set for metrics that normally carry samples, so that their
	// absence (a legacy summary) can be said.
	sampled bool
	// note is said next to the metric (the kernel_set metrics name the
	// kernels they count).
	note string
	// share is a single kernel's share of kernel time (0..1), used to decide
	// whether it is gated; -1 for every other metric.
	share float64
}

// groupRank is the order of metric groups in a Result.
func groupRank(g string) int {
	switch g {
	case "phase":
		return 0
	case "graph":
		return 1
	case "gpu_time":
		return 2
	case "memory":
		return 3
	case "kernel":
		return 4
	case "component":
		return 5
	case "bandwidth":
		return 6
	case "device":
		return 7
	case "communication":
		return 8
	case "extra":
		return 9
	}
	return 10
}

// phaseNames lists the known phases first; others follow by name.
func phaseNames(ph map[string]*parse.Phase) []string {
	rank := map[string]int{parse.PhasePrefill: 0, parse.PhaseDecode: 1, parse.PhaseMixed: 2}
	names := make([]string, 0, len(ph))
	for n := range ph {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		ri, oki := rank[names[i]]
		rj, okj := rank[names[j]]
		switch {
		case oki && okj:
			return ri < rj
		case oki != okj:
			return oki
		}
		return names[i] < names[j]
	})
	return names
}

// Flatten lists the metrics of one summary by name, in Result order. It is
// exported for tools (gate rules) that want to show what rules would see;
// values are in the units Metric documents.
func Flatten(s *parse.Summary) []Metric {
	es := flatten(s)
	out := make([]Metric, len(es))
	for i, e := range es {
		out[i] = Metric{Name: e.name, Group: e.group, Unit: e.unit, Kind: e.kind, Better: e.better, Head: e.value, HasHead: true, NHead: len(e.samples)}
	}
	return out
}

// flatten turns a summary into named metrics. Names built from profile
// strings go through Segment. The result is sorted by group then name; when
// two profile strings escape to one name, the first is kept.
func flatten(s *parse.Summary) []entry {
	if s == nil {
		return nil
	}
	n := 16*len(s.Phases) + 3 + 3*len(s.Memory.Ops) + 3*len(s.Kernels) + len(s.Devices) + 2*len(s.Extra)
	for _, pc := range s.Components {
		n += 2 * len(pc.Components)
	}
	if s.Bandwidth != nil {
		n += 3 * len(s.Bandwidth.Kernels)
	}
	if s.Communication != nil {
		n += 3 + 2*len(s.Communication.Collectives)
	}
	out := make([]entry, 0, n)
	add := func(e entry) {
		// A legacy summary.json lacks most metrics; they decode as zero,
		// which must not be read as a measurement.
		if s.Source.Legacy && e.value == 0 && len(e.samples) == 0 {
			return
		}
		// Non-finite numbers (a hand-edited or corrupt summary) cannot be
		// judged, nor encoded as JSON.
		if math.IsNaN(e.value) || math.IsInf(e.value, 0) {
			return
		}
		for _, x := range e.samples {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				e.samples = nil
				break
			}
		}
		if e.share == 0 && e.group != "kernel" {
			e.share = -1
		}
		out = append(out, e)
	}
	for _, pn := range phaseNames(s.Phases) {
		ph := s.Phases[pn]
		if ph == nil || ph.Steps == 0 && len(ph.Samples) == 0 {
			continue
		}
		p := "phases." + Segment(pn) + "."
		steps := ph.Samples
		stat := func(name string, st parse.Stat, f func(parse.Step) float64) {
			e := entry{name: p + name + ".p50", group: "phase", unit: "ns", kind: Stat, better: "lower", sampled: true}
			if len(steps) > 0 {
				e.samples = make([]float64, len(steps))
				for i, x := range steps {
					e.samples[i] = f(x)
				}
				e.value = median(e.samples)
			} else {
				e.value = st.P50
			}
			add(e)
		}
		stat("span", ph.Span, func(x parse.Step) float64 { return float64(x.SpanNs) })
		stat("busy", ph.Busy, func(x parse.Step) float64 { return float64(x.BusyNs) })
		stat("kernel_time", ph.KernelTime, func(x parse.Step) float64 { return float64(x.KernelNs) })
		// Busy share of each step's span: idle gaps inside a step (host
		// syncs, launch overhead) show here even when kernel time holds.
		bp := entry{name: p + "busy_pct.p50", group: "phase", unit: "pct", kind: Stat, better: "higher", sampled: true}
		for _, x := range steps {
			if x.SpanNs > 0 {
				bp.samples = append(bp.samples, 100*float64(x.BusyNs)/float64(x.SpanNs))
			}
		}
		switch {
		case len(bp.samples) > 0:
			bp.value = median(bp.samples)
			add(bp)
		case len(steps) == 0 && ph.Span.P50 > 0 && ph.Busy.P50 > 0:
			bp.value = 100 * ph.Busy.P50 / ph.Span.P50
			add(bp)
		}
		exact := func(name, unit string, st parse.Stat, f func(parse.Step) float64) {
			e := entry{name: p + name, group: "phase", unit: unit, kind: Exact, better: "lower"}
			if len(steps) > 0 {
				sum := 0.0
				for _, x := range steps {
					sum += f(x)
				}
				e.value = sum / float64(len(steps))
			} else {
				e.value = st.Mean
			}
			add(e)
		}
		exact("kernels", "count", ph.Kernels, func(x parse.Step) float64 { return float64(x.Kernels) })
		exact("memcpys", "count", ph.Memcpys, func(x parse.Step) float64 { return float64(x.Memcpys) })
		exact("memcpy_bytes", "bytes", ph.MemcpyBytes, func(x parse.Step) float64 { return float64(x.MemcpyBytes) })
		exact("dtoh", "count", ph.DtoH, func(x parse.Step) float64 { return float64(x.DtoH) })
		exact("syncs", "count", ph.Syncs, func(x parse.Step) float64 { return float64(x.Syncs) })
		add(entry{name: p + "steps", group: "phase", unit: "count", kind: Exact, better: "higher", value: float64(ph.Steps)})
	}

	g := s.CUDAGraphs
	add(entry{name: "cuda_graphs.coverage_count", group: "graph", unit: "pct", kind: Exact, better: "higher", value: g.CoverageCount})
	add(entry{name: "cuda_graphs.coverage_time", group: "graph", unit: "pct", kind: Exact, better: "higher", value: g.CoverageTime})

	if s.GPUTime.WindowNs > 0 {
		add(entry{name: "gpu_time.busy_pct", group: "gpu_time", unit: "pct", kind: Exact, better: "higher", value: s.GPUTime.BusyPct})
	}

	for _, op := range s.Memory.Ops {
		p := "memory." + Segment(op.Kind) + "." + Segment(op.Direction) + "."
		add(entry{name: p + "count", group: "memory", unit: "count", kind: Exact, better: "lower", value: float64(op.Count)})
		add(entry{name: p + "bytes", group: "memory", unit: "bytes", kind: Exact, better: "lower", value: float64(op.Bytes)})
		add(entry{name: p + "gbps", group: "memory", unit: "bps", kind: Exact, better: "higher", value: op.GBps * 1e9})
	}

	_, hasDecode := s.Phases[parse.PhaseDecode]
	for _, k := range s.Kernels {
		p := "kernels." + Segment(k.Name) + "."
		sh := k.Share
		add(entry{name: p + "total", group: "kernel", unit: "ns", kind: Exact, better: "lower", value: float64(k.TotalNs), share: sh})
		if hasDecode {
			add(entry{name: p + "per_step", group: "kernel", unit: "count", kind: Exact, better: "lower", value: k.PerDecodeStep, share: sh})
		}
		add(entry{name: p + "count", group: "kernel", unit: "count", kind: Exact, better: "lower", value: float64(k.Count), share: sh})
	}

	for _, pc := range s.Components {
		for _, c := range pc.Components {
			p := "components." + Segment(pc.Phase) + "." + Segment(c.Name) + "."
			add(entry{name: p + "share", group: "component", unit: "pct", kind: Exact, better: "lower", value: 100 * c.Share})
			add(entry{name: p + "time", group: "component", unit: "ns", kind: Exact, better: "lower", value: float64(c.TimeNs)})
		}
	}

	if s.Bandwidth != nil {
		for _, k := range s.Bandwidth.Kernels {
			p := "bandwidth." + Segment(k.Name) + "."
			add(entry{name: p + "gbps", group: "bandwidth", unit: "bps", kind: Exact, better: "higher", value: k.GBps * 1e9})
			add(entry{name: p + "pct_peak", group: "bandwidth", unit: "pct", kind: Exact, better: "higher", value: k.PctPeak})
			// DRAM bytes per launch: the same work moving more data (a wider
			// KV cache, a lost fusion) shows here even when GB/s does not.
			add(entry{name: p + "bytes", group: "bandwidth", unit: "bytes", kind: Exact, better: "lower", value: k.BytesRead + k.BytesWritten})
		}
	}

	for _, d := range s.Devices {
		add(entry{name: "devices." + strconv.Itoa(d.ID) + ".busy_pct", group: "device", unit: "pct", kind: Exact, better: "higher", value: d.BusyPct})
	}

	if c := s.Communication; c != nil {
		add(entry{name: "communication.exposed_pct", group: "communication", unit: "pct", kind: Exact, better: "lower", value: c.ExposedPct})
		if len(s.Devices) > 1 {
			add(entry{name: "communication.imbalance", group: "communication", unit: "pct", kind: Exact, better: "lower", value: c.Imbalance * 100})
		}
		if len(c.ExposedSamples) > 0 {
			e := entry{name: "communication.exposed.p50", group: "communication", unit: "ns", kind: Stat, better: "lower", sampled: true}
			e.samples = append([]float64(nil), c.ExposedSamples...)
			e.value = median(e.samples)
			add(e)
		}
		for _, col := range c.Collectives {
			add(entry{name: "communication." + Segment(col.Name) + ".time", group: "communication", unit: "ns", kind: Exact, better: "lower", value: float64(col.TimeNs)})
			// The number of collectives is structural: an extra all-reduce
			// per layer shows here without any timing noise.
			add(entry{name: "communication." + Segment(col.Name) + ".count", group: "communication", unit: "count", kind: Exact, better: "lower", value: float64(col.Count)})
		}
	}

	for _, x := range s.Extra {
		e := entry{name: "extra." + Segment(x.Name), group: "extra", unit: x.Unit, kind: Exact, better: x.Better, value: x.Value}
		if e.better != "higher" && e.better != "lower" {
			// Descriptive values (token totals, request counts, KV-cache
			// use) have no better direction: shown, never gated.
			e.better = ""
		}
		if e.unit == "" {
			e.unit = "count"
		}
		if len(x.Samples) > 0 {
			e.kind, e.sampled = Stat, true
			e.samples = append([]float64(nil), x.Samples...)
		}
		add(e)
	}

	// Sort an index (entries are large) by group, name, then position, so
	// that the first of two equal names is kept.
	idx := make([]int, len(out))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool {
		ea, eb := &out[idx[a]], &out[idx[b]]
		if ea.name != eb.name {
			return lessMetric(ea.group, ea.name, eb.group, eb.name)
		}
		return idx[a] < idx[b]
	})
	sorted := make([]entry, 0, len(out))
	for _, i := range idx {
		if len(sorted) > 0 && out[i].name == sorted[len(sorted)-1].name {
			continue
		}
		sorted = append(sorted, out[i])
	}
	return sorted
}

func lessMetric(gi, ni, gj, nj string) bool {
	if ri, rj := groupRank(gi), groupRank(gj); ri != rj {
		return ri < rj
	}
	return ni < nj
}

// median of xs (not modified); 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// unitString is for notes.
func unitString(u string) string {
	if u == "" {
		return "(none)"
	}
	return fmt.Sprintf("%q", u)
}
