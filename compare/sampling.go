package compare

import (
	"github.com/nsys-gate/gate/parse"
)

// Sampling is what the GPU's sampled counters showed beyond the metrics
// (gpu_metrics.*): each side's sampling frequency and, per phase sampled on
// either side, its clocks, one typical step's samples (for a chart) and
// what the traffic says about a change of the phase's step time.
type Sampling struct {
	BaseHz float64         `json:"base_hz,omitempty"`
	HeadHz float64         `json:"head_hz,omitempty"`
	Phases []PhaseSampling `json:"phases"`
}

// PhaseSampling is one phase's sampled figures, base and head (nil for a
// side without samples in the phase).
type PhaseSampling struct {
	Phase string       `json:"phase"`
	Base  *SampledSide `json:"base,omitempty"`
	Head  *SampledSide `json:"head,omitempty"`
	// Cause is why the step time moved, as far as the counters tell
	// (Cause* constants); empty when it did not move or they do not say.
	Cause string `json:"cause,omitempty"`
}

// SampledSide is one side's phase: whether it is memory-bound, its clocks,
// and its typical step.
type SampledSide struct {
	// Bound is "memory" when DRAM (read and write, % of peak) is busier
	// than the tensor cores over the phase's steps, else "compute"; empty
	// where the GPU does not sample both.
	Bound          string           `json:"bound,omitempty"`
	ClockMinMHz    float64          `json:"gpc_clock_min_mhz,omitempty"`
	ClockMedianMHz float64          `json:"gpc_clock_median_mhz,omitempty"`
	Typical        *parse.StepTrace `json:"typical_step,omitempty"`
}

// Causes of a step time's change that the sampled counters can name.
const (
	// CauseMoreTraffic: the step moves more DRAM bytes and takes longer.
	CauseMoreTraffic = "more_traffic"
	// CauseLessTraffic: the step moves fewer DRAM bytes and is faster.
	CauseLessTraffic = "less_traffic"
	// CauseSlowerBandwidth: a memory-bound step moves the same bytes at a
	// lower bandwidth and takes longer.
	CauseSlowerBandwidth = "slower_bandwidth"
	// CauseGPUWaiting: the step takes longer while its SMs are active for
	// less of it: the GPU waits (host stalls, launch gaps, syncs).
	CauseGPUWaiting = "gpu_waiting"
)

// sampling gathers the Sampling of a comparison (base nil: no baseline);
// nil when neither side sampled the GPU's counters.
func sampling(base, head *parse.Summary, ms []Metric) *Sampling {
	var bg, hg *parse.GPUMetrics
	if base != nil {
		bg = base.GPUMetrics
	}
	if head != nil {
		hg = head.GPUMetrics
	}
	if bg == nil && hg == nil {
		return nil
	}
	out := &Sampling{Phases: []PhaseSampling{}}
	if bg != nil {
		out.BaseHz = bg.FrequencyHz
	}
	if hg != nil {
		out.HeadHz = hg.FrequencyHz
	}
	seen := map[string]bool{}
	var names []string
	for _, g := range []*parse.GPUMetrics{bg, hg} {
		if g == nil {
			continue
		}
		for _, ph := range g.Phases {
			if !seen[ph.Phase] {
				seen[ph.Phase] = true
				names = append(names, ph.Phase)
			}
		}
	}
	byName := make(map[string]*Metric, len(ms))
	for i := range ms {
		byName[ms[i].Name] = &ms[i]
	}
	for _, pn := range phaseOrder(names) {
		ps := PhaseSampling{Phase: pn, Base: sampledSide(bg, pn), Head: sampledSide(hg, pn)}
		if ps.Base != nil && ps.Head != nil {
			ps.Cause = cause(pn, ps.Base, byName)
		}
		out.Phases = append(out.Phases, ps)
	}
	return out
}

// phaseOrder sorts phase names as reports list them.
func phaseOrder(names []string) []string {
	m := make(map[string]*parse.Phase, len(names))
	for _, n := range names {
		m[n] = nil
	}
	return phaseNames(m)
}

// sampledSide is one side's figures of phase pn, or nil.
func sampledSide(g *parse.GPUMetrics, pn string) *SampledSide {
	ph := g.Phase(pn)
	if ph == nil || ph.Steps == 0 {
		return nil
	}
	s := &SampledSide{ClockMinMHz: ph.ClockMinMHz, ClockMedianMHz: ph.ClockMedianMHz, Typical: ph.Typical}
	if g.Has(parse.SampledDRAMRead) && g.Has(parse.SampledTensorActive) {
		s.Bound = "compute"
		if ph.DRAMRead.P50+ph.DRAMWrite.P50 > ph.TensorActive.P50 {
			s.Bound = "memory"
		}
	}
	return s
}

// cause says what the counters tell about a change of phase pn's step
// span, judged already (a warning or a failure, or an improvement): more
// or fewer DRAM bytes per step, the same bytes at a lower bandwidth in a
// memory-bound phase, or SMs active for less of a longer step.
func cause(pn string, base *SampledSide, ms map[string]*Metric) string {
	span := ms["phases."+pn+".span.p50"]
	if span == nil {
		return ""
	}
	slower := span.Verdict == Fail || span.Verdict == Warn
	if !slower && !span.Improved {
		return ""
	}
	p := "gpu_metrics." + pn + "."
	moved := func(field string) (worse, better bool) {
		m := ms[p+field+".p50"]
		if m == nil || !m.HasBase || !m.HasHead {
			return false, false
		}
		return m.Verdict == Fail || m.Verdict == Warn, m.Improved
	}
	rw, rb := moved("dram_read_bytes")
	ww, wb := moved("dram_write_bytes")
	switch {
	case slower && (rw || ww):
		return CauseMoreTraffic
	case !slower && (rb || wb):
		return CauseLessTraffic
	case !slower:
		return ""
	}
	fell := func(field string) bool {
		m := ms[p+field+".p50"]
		if m == nil || !m.HasBase || !m.HasHead || m.Rule == "" {
			return false
		}
		// A compositional metric warns beside the span's failure when its
		// change the costly way went beyond its threshold.
		return m.Verdict == Warn && m.Delta < 0
	}
	switch {
	case base.Bound == "memory" && (fell("dram_read_pct") || fell("dram_write_pct")):
		return CauseSlowerBandwidth
	case fell("sm_active"):
		return CauseGPUWaiting
	}
	return ""
}
