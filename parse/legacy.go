package parse

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
)

// The seed's older summary.json, written by the scripts gate replaces, has no
// schema key and no specification. DecodeSummary reads it so that teams keep
// their stored baselines. This is the layout it understands (every key
// optional, unknown keys ignored, times in milliseconds, percentages 0..100):
//
//	{
//	  "prefill_decode": {
//	    "prefill": {"count": 2,  "mean_ms": 41.2, "p50_ms": 41.0, "p90_ms": 41.9, "min_ms": 40.8, "max_ms": 42.0},
//	    "decode":  {"count": 96, "mean_ms": 3.1,  "p50_ms": 3.1,  "p90_ms": 3.2}
//	  },
//	  "components": {"attention": {"time_ms": 19.1, "pct": 14.2, "count": 816}, "gemm": 55.3},
//	  "top_kernels": [{"name": "nvjet_...", "count": 792, "total_ms": 10.7, "avg_ms": 0.0135,
//	                   "pct": 7.9, "component": "gemm", "per_step": 8}],
//	  "cuda_graphs": {"coverage_pct": 97.2, "coverage_time_pct": 98.0, "kernels_in_graphs": 26000,
//	                  "kernels_outside": 760, "replays": 96, "mode": "node"},
//	  "gpu": {"name": "NVIDIA H200", "count": 1},
//	  "nsys_version": "2025.3.1"
//	}
//
// A component may be a bare number (its time in ms). Phase times are step
// spans (the scripts timed each NVTX step on the GPU). What the old layout
// lacks (per-step samples, busy time, copies, the scope, the trace mode when
// not given) stays zero, Source.Legacy is set, and compare skips the zero
// values of a legacy summary rather than reading them as measurements.

// legacyKeys are the top-level keys that identify the old layout.
var legacyKeys = []string{"prefill_decode", "components", "top_kernels", "cuda_graphs"}

type legacySummary struct {
	PrefillDecode map[string]legacyPhase     `json:"prefill_decode"`
	Components    map[string]json.RawMessage `json:"components"`
	TopKernels    []legacyKernel             `json:"top_kernels"`
	CUDAGraphs    *legacyGraphs              `json:"cuda_graphs"`
	GPU           *legacyGPU                 `json:"gpu"`
	NsysVersion   string                     `json:"nsys_version"`
}

type legacyGPU struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

type legacyPhase struct {
	Count  int     `json:"count"`
	MeanMs float64 `json:"mean_ms"`
	P50Ms  float64 `json:"p50_ms"`
	P90Ms  float64 `json:"p90_ms"`
	MinMs  float64 `json:"min_ms"`
	MaxMs  float64 `json:"max_ms"`
}

type legacyComponent struct {
	TimeMs float64 `json:"time_ms"`
	Pct    float64 `json:"pct"`
	Count  int64   `json:"count"`
}

type legacyKernel struct {
	Name      string  `json:"name"`
	Count     int64   `json:"count"`
	TotalMs   float64 `json:"total_ms"`
	AvgMs     float64 `json:"avg_ms"`
	Pct       float64 `json:"pct"`
	Component string  `json:"component"`
	PerStep   float64 `json:"per_step"`
}

type legacyGraphs struct {
	CoveragePct     float64 `json:"coverage_pct"`
	CoverageTimePct float64 `json:"coverage_time_pct"`
	KernelsInGraphs int64   `json:"kernels_in_graphs"`
	KernelsOutside  int64   `json:"kernels_outside"`
	Replays         int64   `json:"replays"`
	Mode            string  `json:"mode"`
}

// isLegacy reports whether a document's top-level keys are the old layout's.
func isLegacy(top map[string]json.RawMessage) bool {
	for _, k := range legacyKeys {
		if _, ok := top[k]; ok {
			return true
		}
	}
	return false
}

// decodeLegacy converts the old layout into a Summary.
func decodeLegacy(data []byte) (*Summary, error) {
	var l legacySummary
	if err := json.Unmarshal(data, &l); err != nil {
		return nil, fmt.Errorf("legacy summary.json: %w", err)
	}
	ms := func(x float64) float64 { return x * 1e6 }
	s := &Summary{
		Schema:   SummarySchema,
		Source:   Source{Legacy: true, NsysVersion: l.NsysVersion},
		Phases:   map[string]*Phase{},
		Kernels:  []Kernel{},
		Warnings: []Warning{{Code: "legacy_summary", Message: "converted from the older summary.json layout: no per-step samples, copies, busy time or capture fingerprint"}},
	}
	if l.GPU != nil {
		s.GPU.Name, s.GPU.Devices = l.GPU.Name, l.GPU.Count
	}
	for name, p := range l.PrefillDecode {
		switch name {
		case PhasePrefill, PhaseDecode, PhaseMixed:
		default:
			s.Warnings = append(s.Warnings, Warning{Code: "legacy_unknown_phase", Message: fmt.Sprintf("prefill_decode.%s: unknown phase, ignored", name)})
			continue
		}
		if !legacyFinite(p.MeanMs, p.P50Ms, p.P90Ms, p.MinMs, p.MaxMs) || p.Count < 0 {
			return nil, fmt.Errorf("legacy summary.json: prefill_decode.%s: bad number", name)
		}
		s.Phases[name] = &Phase{
			Steps: p.Count,
			Span:  Stat{P50: ms(p.P50Ms), P90: ms(p.P90Ms), Mean: ms(p.MeanMs), Min: ms(p.MinMs), Max: ms(p.MaxMs)},
		}
	}

	if len(l.Components) > 0 {
		names := make([]string, 0, len(l.Components))
		for n := range l.Components {
			names = append(names, n)
		}
		sort.Strings(names)
		pc := PhaseComponents{Phase: PhaseWindow}
		for _, n := range names {
			var c legacyComponent
			raw := l.Components[n]
			var bare float64
			if err := json.Unmarshal(raw, &bare); err == nil {
				c.TimeMs = bare
			} else if err := json.Unmarshal(raw, &c); err != nil {
				return nil, fmt.Errorf("legacy summary.json: components.%s: want a number or {time_ms, pct}", n)
			}
			if !legacyFinite(c.TimeMs, c.Pct) {
				return nil, fmt.Errorf("legacy summary.json: components.%s: bad number", n)
			}
			pc.Components = append(pc.Components, ComponentTime{Name: n, TimeNs: int64(ms(c.TimeMs)), Kernels: c.Count, Share: c.Pct / 100})
		}
		s.Components = []PhaseComponents{pc}
	}

	for i, k := range l.TopKernels {
		if k.Name == "" {
			return nil, fmt.Errorf("legacy summary.json: top_kernels[%d]: no name", i)
		}
		if !legacyFinite(k.TotalMs, k.AvgMs, k.Pct, k.PerStep) {
			return nil, fmt.Errorf("legacy summary.json: top_kernels[%d]: bad number", i)
		}
		avg := ms(k.AvgMs)
		if avg == 0 && k.Count > 0 {
			avg = ms(k.TotalMs) / float64(k.Count)
		}
		s.Kernels = append(s.Kernels, Kernel{
			Name: k.Name, Component: k.Component, Count: k.Count, TotalNs: int64(ms(k.TotalMs)),
			AvgNs: avg, Share: k.Pct / 100, PerDecodeStep: k.PerStep,
		})
	}
	sort.SliceStable(s.Kernels, func(i, j int) bool {
		if s.Kernels[i].TotalNs != s.Kernels[j].TotalNs {
			return s.Kernels[i].TotalNs > s.Kernels[j].TotalNs
		}
		return s.Kernels[i].Name < s.Kernels[j].Name
	})

	if g := l.CUDAGraphs; g != nil {
		if !legacyFinite(g.CoveragePct, g.CoverageTimePct) {
			return nil, fmt.Errorf("legacy summary.json: cuda_graphs: bad number")
		}
		s.CUDAGraphs = Graphs{
			Mode: g.Mode, Replays: g.Replays, KernelsInGraphs: g.KernelsInGraphs, KernelsOutside: g.KernelsOutside,
			CoverageCount: g.CoveragePct, CoverageTime: g.CoverageTimePct,
		}
		if g.Mode == TraceNode || g.Mode == TraceGraph {
			s.Source.TraceMode = g.Mode
		}
	}
	return s, nil
}

func legacyFinite(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}
