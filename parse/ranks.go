package parse

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/nsys-gate/gate/parse/internal/timeline"
)

// WarnRankSteps says that merged ranks had different numbers of steps in a
// phase; the merged phase keeps the steps all ranks have.
const WarnRankSteps = "rank_steps_differ"

// WarnRankNoExposure says that a merged rank has communication kernels but
// no exposed-communication figure, so the merged exposure undercounts.
const WarnRankNoExposure = "rank_exposure_unknown"

// MergeRanks merges the summaries of one profile per rank (a tensor- or
// pipeline-parallel job traced one process per GPU) into one Summary of all
// devices:
//
//   - devices are renumbered by rank: rank 0's devices first, then rank 1's;
//     a rank without per-device detail counts as one device with its totals
//     (its step spans are those of its decode steps, as Export measures them);
//   - each phase keeps, per step index, the step of the slowest rank (the
//     longest span): a synchronous collective makes every rank wait for it;
//     Step.Device says which device that was;
//   - kernels, components, memory traffic, graph counts and collectives are
//     summed; kernel p50/p90 are count-weighted means of the ranks' (exact
//     quantiles need the durations, which summaries do not keep); a kernel's
//     launches per decode (prefill) step are per rank's step, all ranks'
//     launches over all ranks' steps, as in one export of all ranks (and as
//     the merged step samples, each one rank's step, count kernels);
//   - GPU.Devices is the sum; gpu_time adds the ranks' windows and busy time,
//     so its busy % is the mean over devices.
//
// The ranks must be comparable (same GPU model, trace mode, scope and Nsight
// Systems major version), else MergeRanks returns an error that names the
// rank and the difference. A single rank is returned as a copy with its
// devices filled.
func MergeRanks(ranks []*Summary) (*Summary, error) {
	if len(ranks) == 0 {
		return nil, errors.New("merging ranks: no summaries")
	}
	for i, r := range ranks {
		if r == nil {
			return nil, fmt.Errorf("merging ranks: rank %d: no summary", i)
		}
		if r.Source.Legacy {
			return nil, fmt.Errorf("merging ranks: rank %d (%s): a legacy summary.json has no samples to merge", i, r.Source.File)
		}
		if i > 0 {
			if reasons, _ := Comparable(ranks[0], r); len(reasons) > 0 {
				return nil, fmt.Errorf("merging ranks: rank %d (%s) is not comparable with rank 0 (%s), the base: %s", i, r.Source.File, ranks[0].Source.File, strings.Join(reasons, "; "))
			}
		}
	}
	r0 := ranks[0]
	m := &Summary{
		Schema:    SummarySchema,
		Source:    r0.Source,
		GPU:       r0.GPU,
		Phases:    map[string]*Phase{},
		Bandwidth: r0.Bandwidth,
		Warnings:  []Warning{},
	}
	files := make([]string, len(ranks))
	for i, r := range ranks {
		files[i] = r.Source.File
		m.Source.WindowStartNs = min(m.Source.WindowStartNs, r.Source.WindowStartNs)
		m.Source.WindowEndNs = max(m.Source.WindowEndNs, r.Source.WindowEndNs)
		for _, w := range r.Warnings {
			m.Warnings = append(m.Warnings, Warning{Code: w.Code, Message: fmt.Sprintf("rank %d: %s", i, w.Message)})
		}
	}
	m.Source.File = strings.Join(files, "+")
	for i, r := range ranks {
		if r.GPUMetrics != nil {
			m.Warnings = append(m.Warnings, Warning{Code: WarnGPUMetrics, Message: fmt.Sprintf(
				"rank %d sampled GPU metrics; the merged summary has none (its steps are picked across ranks): compare the ranks' own summaries for DRAM traffic", i)})
			break
		}
	}

	devMap := mergeDevices(m, ranks)
	mergePhases(m, ranks, devMap)
	m.Kernels = mergeKernels(ranks)
	m.Components = mergeComponents(ranks)
	m.CUDAGraphs = mergeGraphs(ranks)
	m.Memory = mergeMemory(ranks)
	m.GPUTime = mergeGPUTime(ranks)
	m.Communication = mergeCommunication(m, ranks)
	m.Extra = mergeExtra(ranks)
	sort.SliceStable(m.Warnings, func(i, j int) bool { return m.Warnings[i].Code < m.Warnings[j].Code })
	return m, nil
}

// mergeDevices fills m.Devices and m.GPU.Devices and returns, per rank, the
// merged id of each of the rank's device ids.
func mergeDevices(m *Summary, ranks []*Summary) []map[int]int {
	devMap := make([]map[int]int, len(ranks))
	m.Devices = nil
	for i, r := range ranks {
		devMap[i] = map[int]int{}
		if len(r.Devices) > 0 {
			devs := append([]Device(nil), r.Devices...)
			sort.SliceStable(devs, func(a, b int) bool { return devs[a].ID < devs[b].ID })
			for _, d := range devs {
				if d.Name == "" {
					d.Name = r.GPU.Name
				}
				devMap[i][d.ID] = len(m.Devices)
				d.ID = len(m.Devices)
				m.Devices = append(m.Devices, d)
			}
			continue
		}
		d := Device{
			ID:      len(m.Devices),
			Name:    r.GPU.Name,
			BusyNs:  r.GPUTime.BusyNs,
			BusyPct: r.GPUTime.BusyPct,
		}
		for _, k := range r.Kernels {
			d.KernelNs += k.TotalNs
			d.Kernels += k.Count
		}
		for _, c := range rankCollectives(r) {
			d.CommNs += c.TimeNs
		}
		var spans []int64
		for _, st := range stepSamples(r) {
			spans = append(spans, st.SpanNs)
		}
		d.Steps = statOf(spans)
		// Every step of a single-device rank ran on it, whatever id the
		// rank's own export gave that device.
		devMap[i][-1] = d.ID
		m.Devices = append(m.Devices, d)
	}
	m.GPU.Devices = len(m.Devices)
	return devMap
}

// mergedDevice maps a rank's device id to the merged one.
func mergedDevice(devMap map[int]int, id int) int {
	if d, ok := devMap[-1]; ok {
		return d
	}
	return devMap[id]
}

// mergePhases keeps, per phase and step index, the slowest rank's step.
func mergePhases(m *Summary, ranks []*Summary, devMap []map[int]int) {
	names := map[string]bool{}
	for _, r := range ranks {
		for name := range r.Phases {
			names[name] = true
		}
	}
	for _, name := range sortedKeys(names) {
		n := -1
		var counts []string
		for i, r := range ranks {
			ph := r.Phases[name]
			c := 0
			if ph != nil {
				c = len(ph.Samples)
			}
			counts = append(counts, fmt.Sprintf("rank %d: %d", i, c))
			if n < 0 || c < n {
				n = c
			}
		}
		steps := make([]Step, n)
		for j := 0; j < n; j++ {
			best := -1
			for i, r := range ranks {
				st := r.Phases[name].Samples[j]
				if best < 0 || st.SpanNs > steps[j].SpanNs {
					best = i
					steps[j] = st
					steps[j].Device = mergedDevice(devMap[i], st.Device)
				}
			}
		}
		for _, r := range ranks {
			if ph := r.Phases[name]; ph == nil || len(ph.Samples) != n {
				m.Warnings = append(m.Warnings, Warning{Code: WarnRankSteps, Message: fmt.Sprintf(
					"%s: the ranks have different numbers of steps (%s); the merged phase keeps the first %d", name, strings.Join(counts, ", "), n)})
				break
			}
		}
		if n > 0 {
			m.Phases[name] = phaseFromSteps(name, m.Source.TraceMode, steps)
		}
	}
}

// mergeKernels sums kernels by name, ordered as the parser orders them:
// most time first, then by name.
func mergeKernels(ranks []*Summary) []Kernel {
	byName := map[string]*Kernel{}
	var order []string
	var total int64
	var decodeSteps, prefillSteps float64
	phaseSteps := func(r *Summary, name string) float64 {
		if ph := r.Phases[name]; ph != nil {
			return float64(ph.Steps)
		}
		return 0
	}
	for _, r := range ranks {
		nd, np := phaseSteps(r, PhaseDecode), phaseSteps(r, PhasePrefill)
		decodeSteps += nd
		prefillSteps += np
		for _, k := range r.Kernels {
			// Per-step rates become launch counts until all steps are known.
			k.PerDecodeStep *= nd
			k.PerPrefillStep *= np
			total += k.TotalNs
			acc := byName[k.Name]
			if acc == nil {
				c := k
				c.P50Ns *= float64(k.Count)
				c.P90Ns *= float64(k.Count)
				byName[k.Name] = &c
				order = append(order, k.Name)
				continue
			}
			acc.Count += k.Count
			acc.TotalNs += k.TotalNs
			acc.P50Ns += k.P50Ns * float64(k.Count)
			acc.P90Ns += k.P90Ns * float64(k.Count)
			acc.MinNs = min(acc.MinNs, k.MinNs)
			acc.MaxNs = max(acc.MaxNs, k.MaxNs)
			acc.PerDecodeStep += k.PerDecodeStep
			acc.PerPrefillStep += k.PerPrefillStep
			acc.InGraph += k.InGraph
		}
	}
	out := make([]Kernel, 0, len(order))
	for _, name := range order {
		k := *byName[name]
		if k.Count > 0 {
			k.AvgNs = float64(k.TotalNs) / float64(k.Count)
			k.P50Ns /= float64(k.Count)
			k.P90Ns /= float64(k.Count)
		}
		k.Share = ratio(float64(k.TotalNs), float64(total))
		k.PerDecodeStep = ratio(k.PerDecodeStep, decodeSteps)
		k.PerPrefillStep = ratio(k.PerPrefillStep, prefillSteps)
		out = append(out, k)
	}
	sortKernels(out)
	return out
}

// mergeComponents sums component time per phase; componentList orders and
// shares them as the parser does for one export.
func mergeComponents(ranks []*Summary) []PhaseComponents {
	byPhase := map[string]map[string]*ComponentTime{}
	for _, r := range ranks {
		for _, pc := range r.Components {
			comps := byPhase[pc.Phase]
			if comps == nil {
				comps = map[string]*ComponentTime{}
				byPhase[pc.Phase] = comps
			}
			for _, c := range pc.Components {
				acc := comps[c.Name]
				if acc == nil {
					acc = &ComponentTime{Name: c.Name}
					comps[c.Name] = acc
				}
				acc.TimeNs += c.TimeNs
				acc.Kernels += c.Kernels
			}
		}
	}
	return componentList(byPhase)
}

// mergeGraphs sums CUDA-graph counts and recomputes coverage as the parser
// does for the trace mode.
func mergeGraphs(ranks []*Summary) Graphs {
	g := Graphs{Mode: ranks[0].CUDAGraphs.Mode}
	for _, r := range ranks {
		c := r.CUDAGraphs
		g.Replays += c.Replays
		g.KernelsInGraphs += c.KernelsInGraphs
		g.KernelsOutside += c.KernelsOutside
		g.TimeInGraphsNs += c.TimeInGraphsNs
		g.TimeOutsideNs += c.TimeOutsideNs
	}
	g.setCoverage()
	return g
}

// mergeMemory sums memory operations by kind and direction.
func mergeMemory(ranks []*Summary) Memory {
	out := Memory{PeakBandwidth: ranks[0].Memory.PeakBandwidth, Ops: []MemoryOp{}}
	byKey := map[[2]string]int{}
	for _, r := range ranks {
		for _, op := range r.Memory.Ops {
			key := [2]string{op.Kind, op.Direction}
			i, ok := byKey[key]
			if !ok {
				byKey[key] = len(out.Ops)
				out.Ops = append(out.Ops, MemoryOp{Kind: op.Kind, Direction: op.Direction})
				i = len(out.Ops) - 1
			}
			out.Ops[i].Count += op.Count
			out.Ops[i].Bytes += op.Bytes
			out.Ops[i].TimeNs += op.TimeNs
		}
	}
	return finishMemory(out.Ops, out.PeakBandwidth)
}

// mergeGPUTime adds the ranks' windows and busy time; the gaps are the
// longest of all ranks, as many as the rank that kept the most.
func mergeGPUTime(ranks []*Summary) GPUTime {
	var t GPUTime
	var gaps []Gap
	keep := 0
	for _, r := range ranks {
		t.WindowNs += r.GPUTime.WindowNs
		t.BusyNs += r.GPUTime.BusyNs
		t.IdleNs += r.GPUTime.IdleNs
		gaps = append(gaps, r.GPUTime.Gaps...)
		keep = max(keep, len(r.GPUTime.Gaps))
	}
	t.BusyPct = 100 * ratio(float64(t.BusyNs), float64(t.WindowNs))
	t.IdlePct = 100 * ratio(float64(t.IdleNs), float64(t.WindowNs))
	if len(gaps) > 0 {
		t.Gaps = longestGaps(gaps, keep)
	}
	return t
}

// rankCollectives is a rank's collectives: as its summary has them, else
// from its kernel names.
func rankCollectives(r *Summary) []Collective {
	if r.Communication != nil {
		return r.Communication.Collectives
	}
	return collectives(r.Kernels)
}

// mergeCommunication sums collectives and exposed time; shares are of the
// merged kernel time, imbalance is over the merged devices.
func mergeCommunication(m *Summary, ranks []*Summary) *Communication {
	c := &Communication{}
	byName := map[string]*Collective{}
	found := false
	var samples []int64
	for i, r := range ranks {
		colls := rankCollectives(r)
		if r.Communication != nil {
			found = true
			c.ExposedNs += r.Communication.ExposedNs
			for _, v := range r.Communication.ExposedSamples {
				samples = append(samples, int64(v))
			}
		} else if len(colls) > 0 {
			m.Warnings = append(m.Warnings, Warning{Code: WarnRankNoExposure, Message: fmt.Sprintf(
				"rank %d (%s) has communication kernels but no exposed-communication figure; the merged exposed time leaves it out", i, r.Source.File)})
		}
		for _, k := range colls {
			found = true
			acc := byName[k.Name]
			if acc == nil {
				acc = &Collective{Name: k.Name}
				byName[k.Name] = acc
			}
			acc.Count += k.Count
			acc.TimeNs += k.TimeNs
		}
	}
	if !found {
		return nil
	}
	var kernelNs int64
	for _, k := range m.Kernels {
		kernelNs += k.TotalNs
	}
	c.Collectives = []Collective{}
	for _, name := range sortedKeys(byName) {
		k := *byName[name]
		k.Share = ratio(float64(k.TimeNs), float64(kernelNs))
		c.TimeNs += k.TimeNs
		c.Collectives = append(c.Collectives, k)
	}
	sortCollectives(c.Collectives)
	c.ExposedPct = exposedPct(c.ExposedNs, c.TimeNs)
	busy := make([]int64, len(m.Devices))
	for i, d := range m.Devices {
		busy[i] = d.BusyNs
	}
	c.Imbalance = timeline.Imbalance(busy)
	if len(samples) > 0 {
		c.ExposedSteps = statOf(samples)
		c.ExposedSamples = make([]float64, len(samples))
		for i, v := range samples {
			c.ExposedSamples[i] = float64(v)
		}
	}
	return c
}

// mergeExtra keeps each extra metric once, from the first rank that has it.
func mergeExtra(ranks []*Summary) []ExtraMetric {
	var out []ExtraMetric
	seen := map[string]bool{}
	for _, r := range ranks {
		for _, e := range r.Extra {
			if !seen[e.Name] {
				seen[e.Name] = true
				out = append(out, e)
			}
		}
	}
	return out
}
