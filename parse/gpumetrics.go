package parse

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// GPU-metrics sampling (nsys profile --gpu-metrics-devices=all
// --gpu-metrics-frequency=N) records the GPU's own counters every 1/N s on
// the GPU's timeline: GPU_METRICS(timestamp, typeId, metricId, value), one
// row per metric per sampling instant, named in TARGET_INFO_GPU_METRICS.
// One typeId is one sampled GPU. The metric set, and its ids, depend on the
// GPU generation and the metric set chosen, so gate matches names, and
// takes each value's unit from the bracket that ends its name ("DRAM Read
// Bandwidth [Throughput %]", "GPC Clock Frequency [MHz]").
//
// A sample taken at t describes [t, t+Δ), Δ the time to the next sample of
// the same metric: on the recorded H200 exports the GR-active counter
// correlates best with the kernels' busy time over [t, t+Δ) (0.941,
// falling to 0.908 at 50 µs either way). A step's figure is the samples'
// values weighted by how much of each interval falls inside the step's
// projected GPU window; DRAM bytes are that share of the export's peak DRAM
// bandwidth integrated over the window. The pass reads the samples once, in
// table order, against the step windows sorted by start: memory grows with
// the steps, not the samples.

// Warning codes of GPU-metrics sampling.
const (
	// WarnGPUMetrics: some samples could not be used (out of time order, a
	// unit gate does not know, sampled GPUs that cannot be told apart, no
	// peak bandwidth to turn shares into bytes).
	WarnGPUMetrics = "gpu_metrics"
	// WarnNoGPUMetrics: sampling was asked for and the profile has none
	// (gate profile, when nsys refused the option).
	WarnNoGPUMetrics = "no_gpu_metrics"
)

// gmQuantity is one sampled quantity gate reads.
type gmQuantity int8

const (
	gmClock gmQuantity = iota
	gmSM
	gmTensor
	gmRead
	gmWrite
	gmRX
	gmTX
	gmCount
)

// gmNames match the export's metric names (before the unit's bracket) to
// gate's quantities; pct quantities are shares of peak in percent, the
// clock is a frequency.
var gmNames = [gmCount]struct {
	key  string
	name *regexp.Regexp
	pct  bool
}{
	gmClock:  {SampledGPCClock, regexp.MustCompile(`(?i)^GPC Clock Frequency$`), false},
	gmSM:     {SampledSMActive, regexp.MustCompile(`(?i)^SMs Active$`), true},
	gmTensor: {SampledTensorActive, regexp.MustCompile(`(?i)^Tensor (Pipe )?Active\b`), true},
	gmRead:   {SampledDRAMRead, regexp.MustCompile(`(?i)^DRAM Read (Bandwidth|Throughput)$`), true},
	gmWrite:  {SampledDRAMWrite, regexp.MustCompile(`(?i)^DRAM Write (Bandwidth|Throughput)$`), true},
	gmRX:     {SampledPCIeRX, regexp.MustCompile(`(?i)^PCIe RX (Throughput|Bandwidth)$`), true},
	gmTX:     {SampledPCIeTX, regexp.MustCompile(`(?i)^PCIe TX (Throughput|Bandwidth)$`), true},
}

// metricUnit splits "DRAM Read Bandwidth [Throughput %]" into its name and
// unit.
var metricUnit = regexp.MustCompile(`^(.*?)\s*\[([^\]]*)\]\s*$`)

// gmMetric is one row of TARGET_INFO_GPU_METRICS.
type gmMetric struct {
	typeID, metricID int64
	name             string
}

// gmSeriesKey names one metric of one sampled GPU.
type gmSeriesKey struct{ typeID, metricID int64 }

// gmPass integrates the samples of one export over the steps of its
// summary. Build it with newGMPass, feed it every sample in table order
// with add, then finish.
type gmPass struct {
	peak    float64 // bytes/s, 0 when unknown
	lo, hi  int64   // the scope window
	series  map[gmSeriesKey]*gmSeries
	devs    []*gmDevice
	matched [gmCount]*SampledMetric
	// The steps, flattened over phases: their accumulators and clocks.
	refs   []gmStepRef
	acc    [][gmCount]gmAcc
	phases []string
	clocks []map[int32]int64 // per phase: MHz -> ns inside its steps
	traces []*gmTrace        // per phase: the typical step's samples
	// What could not be used, for one warning.
	unordered, badUnit int
	unmatched          string
}

// gmStepRef is one step of the summary.
type gmStepRef struct {
	phase  int // index in gmPass.phases
	sample int // index in the phase's Samples
}

// gmDevice is one sampled GPU: the step windows its samples fall on and
// its window figures.
type gmDevice struct {
	id    int
	steps []gmWindow // sorted by start
	win   [gmCount]gmAcc
	clock map[int32]int64
}

// gmWindow is one step's projected GPU window.
type gmWindow struct {
	start, end int64
	ref        int32 // index in gmPass.refs
}

// gmAcc accumulates one quantity over a window: the value-weighted and the
// plain sampled nanoseconds, and the samples that overlapped it.
type gmAcc struct {
	sum float64
	ns  int64
	n   int32
}

func (a *gmAcc) add(v float64, ns int64) {
	a.sum += v * float64(ns)
	a.ns += ns
	a.n++
}

// mean is the time-weighted mean; 0 when nothing was sampled.
func (a gmAcc) mean() float64 {
	if a.ns <= 0 {
		return 0
	}
	return a.sum / float64(a.ns)
}

// gmSeries is one metric of one GPU: the sample waiting for its successor
// (which ends its interval) and where its step scan stands.
type gmSeries struct {
	q    gmQuantity
	dev  *gmDevice
	have bool
	t    int64
	v    float64
	dt   int64 // the last regular interval
	lo   int   // first step window that can still overlap
	// Regular intervals seen, for the sampling frequency.
	intervals, intervalNs int64
}

// gmTrace collects the samples of one phase's typical step.
type gmTrace struct {
	ref        int32
	start, end int64
	points     []TracePoint
}

// newGMPass prepares the pass over the samples of metrics for summary s:
// it matches names to quantities, the sampled GPUs to devices, and sorts
// the step windows. It returns nil when no metric gate reads was sampled.
func newGMPass(s *Summary, metrics []gmMetric) *gmPass {
	g := &gmPass{peak: s.GPU.PeakBandwidth, lo: s.Source.WindowStartNs, hi: s.Source.WindowEndNs, series: map[gmSeriesKey]*gmSeries{}}
	byType := map[int64]*gmDevice{}
	var types []int64
	var unknown []string
	for _, m := range metrics {
		q, unit, ok := matchSampled(m.name)
		if !ok {
			if q >= 0 {
				g.badUnit++
				unknown = append(unknown, m.name)
			}
			continue
		}
		d := byType[m.typeID]
		if d == nil {
			d = &gmDevice{id: -1, clock: map[int32]int64{}}
			byType[m.typeID] = d
			types = append(types, m.typeID)
		}
		g.series[gmSeriesKey{m.typeID, m.metricID}] = &gmSeries{q: q, dev: d}
		if g.matched[q] == nil {
			g.matched[q] = &SampledMetric{Key: gmNames[q].key, Name: m.name, Unit: unit}
		}
	}
	if len(unknown) > 0 {
		g.unmatched = strings.Join(unknown, ", ")
	}
	if len(g.series) == 0 {
		return nil
	}
	slices.Sort(types)
	for _, t := range types {
		g.devs = append(g.devs, byType[t])
	}
	g.addSteps(s)
	return g
}

// matchSampled returns the quantity a metric name stands for and its unit;
// ok is false for a name gate does not read (q < 0) or a unit it cannot
// read the quantity in (q >= 0).
func matchSampled(full string) (q gmQuantity, unit string, ok bool) {
	name := full
	if m := metricUnit.FindStringSubmatch(full); m != nil {
		name, unit = m[1], m[2]
	}
	for i := range gmNames {
		if !gmNames[i].name.MatchString(name) {
			continue
		}
		q = gmQuantity(i)
		if gmNames[i].pct {
			return q, unit, strings.Contains(unit, "%")
		}
		return q, unit, strings.HasSuffix(strings.ToLower(unit), "hz")
	}
	return -1, "", false
}

// addSteps gives every step with a GPU window to the device whose samples
// it is measured against: one sampled GPU measures every step; several are
// matched to the devices the steps ran on in order of id (nsys numbers
// both in the same order). Each phase's typical step is the one whose span
// is the median.
func (g *gmPass) addSteps(s *Summary) {
	g.phases = sortedKeys(s.Phases)
	devices := map[int]bool{}
	for _, pn := range g.phases {
		for _, st := range s.Phases[pn].Samples {
			devices[st.Device] = true
		}
	}
	for _, d := range s.Devices {
		devices[d.ID] = true
	}
	ids := make([]int, 0, len(devices))
	for id := range devices {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	byDevice := map[int]*gmDevice{}
	switch {
	case len(g.devs) == 1:
		if len(ids) == 1 {
			g.devs[0].id = ids[0]
		}
	case len(g.devs) == len(ids):
		for i, d := range g.devs {
			d.id = ids[i]
			byDevice[ids[i]] = d
		}
	default:
		g.unmatched = strings.TrimPrefix(g.unmatched+fmt.Sprintf("; %d sampled GPUs for %d devices: steps not measured", len(g.devs), len(ids)), "; ")
	}
	for pi, pn := range g.phases {
		ph := s.Phases[pn]
		g.clocks = append(g.clocks, map[int32]int64{})
		g.traces = append(g.traces, nil)
		var spans []int32 // refs of the phase's steps with a window
		for si, st := range ph.Samples {
			if st.SpanNs <= 0 {
				continue
			}
			d := g.devs[0]
			if len(g.devs) > 1 {
				if d = byDevice[st.Device]; d == nil {
					continue
				}
			}
			ref := int32(len(g.refs))
			g.refs = append(g.refs, gmStepRef{phase: pi, sample: si})
			d.steps = append(d.steps, gmWindow{start: st.StartNs, end: st.StartNs + st.SpanNs, ref: ref})
			spans = append(spans, ref)
		}
		if len(spans) > 0 {
			span := func(ref int32) int64 { return ph.Samples[g.refs[ref].sample].SpanNs }
			sort.SliceStable(spans, func(a, b int) bool { return span(spans[a]) < span(spans[b]) })
			ref := spans[(len(spans)-1)/2]
			st := ph.Samples[g.refs[ref].sample]
			g.traces[pi] = &gmTrace{ref: ref, start: st.StartNs, end: st.StartNs + st.SpanNs}
		}
	}
	g.acc = make([][gmCount]gmAcc, len(g.refs))
	for _, d := range g.devs {
		sort.SliceStable(d.steps, func(a, b int) bool { return d.steps[a].start < d.steps[b].start })
	}
}

// add takes one sample, in table order. A sample ends its predecessor's
// interval; one that goes back in time is dropped.
func (g *gmPass) add(typeID, metricID, t int64, v float64) {
	sr := g.series[gmSeriesKey{typeID, metricID}]
	if sr == nil {
		return
	}
	if sr.q == gmClock && v > 1e5 {
		v /= 1e6 // nsys 2025.3 stores the "[MHz]" clocks in Hz
	}
	if sr.have {
		dt := t - sr.t
		if dt <= 0 {
			g.unordered++
			return
		}
		end := t
		if sr.dt > 0 && dt > 4*sr.dt {
			end = sr.t + sr.dt // a gap in sampling: the sample held one period
		} else {
			sr.dt = dt
			sr.intervals++
			sr.intervalNs += dt
		}
		g.attribute(sr, sr.t, end, sr.v)
	}
	sr.have, sr.t, sr.v = true, t, v
}

// attribute adds one sample's value over [a, b) to the window and to every
// step window it overlaps.
func (g *gmPass) attribute(sr *gmSeries, a, b int64, v float64) {
	d, q := sr.dev, sr.q
	if ov := overlap(a, b, g.lo, g.hi); ov > 0 {
		d.win[q].add(v, ov)
		if q == gmClock {
			d.clock[int32(math.Round(v))] += ov
		}
	}
	for sr.lo < len(d.steps) && d.steps[sr.lo].end <= a {
		sr.lo++
	}
	for i := sr.lo; i < len(d.steps) && d.steps[i].start < b; i++ {
		w := d.steps[i]
		ov := overlap(a, b, w.start, w.end)
		if ov <= 0 {
			continue
		}
		g.acc[w.ref][q].add(v, ov)
		if q == gmClock {
			g.clocks[g.refs[w.ref].phase][int32(math.Round(v))] += ov
		}
		if tr := g.traces[g.refs[w.ref].phase]; tr != nil && tr.ref == w.ref {
			tr.point(q, a, b, v)
		}
	}
}

// point records a sample of the typical step's DRAM and SM figures.
func (tr *gmTrace) point(q gmQuantity, a, b int64, v float64) {
	if q != gmRead && q != gmWrite && q != gmSM {
		return
	}
	off := a - tr.start
	i := len(tr.points) - 1
	for i >= 0 && tr.points[i].OffsetNs != off {
		i--
	}
	if i < 0 {
		tr.points = append(tr.points, TracePoint{OffsetNs: off, Ns: b - a})
		i = len(tr.points) - 1
	}
	switch q {
	case gmRead:
		tr.points[i].DRAMRead = v
	case gmWrite:
		tr.points[i].DRAMWrite = v
	case gmSM:
		tr.points[i].SMActive = v
	}
}

// overlap is the length of [a, b) ∩ [lo, hi).
func overlap(a, b, lo, hi int64) int64 {
	return max(0, min(b, hi)-max(a, lo))
}

// finish closes the last interval of every series and writes what the
// samples added up to into s.GPUMetrics, with a warning for what could not
// be used.
func (g *gmPass) finish(s *Summary) {
	var intervals, intervalNs int64
	for _, sr := range g.series {
		if sr.have && sr.dt > 0 {
			g.attribute(sr, sr.t, sr.t+sr.dt, sr.v)
		}
		intervals += sr.intervals
		intervalNs += sr.intervalNs
	}
	out := &GPUMetrics{Phases: []PhaseGPUMetrics{}}
	if intervals > 0 {
		out.FrequencyHz = math.Round(1e9 * float64(intervals) / float64(intervalNs))
	}
	for _, m := range g.matched {
		if m != nil {
			out.Metrics = append(out.Metrics, *m)
		}
	}
	var all [gmCount]gmAcc
	clock := map[int32]int64{}
	for _, d := range g.devs {
		for q := range all {
			all[q].sum += d.win[q].sum
			all[q].ns += d.win[q].ns
			all[q].n += d.win[q].n
		}
		for k, v := range d.clock {
			clock[k] += v
		}
		if len(g.devs) > 1 {
			out.Devices = append(out.Devices, DeviceGPUMetrics{ID: d.id, Window: g.window(d.win, d.clock)})
		}
	}
	out.Window = g.window(all, clock)
	for pi, pn := range g.phases {
		if ph := g.phase(pi, len(s.Phases[pn].Samples)); ph != nil {
			ph.Phase = pn
			out.Phases = append(out.Phases, *ph)
		}
	}
	s.GPUMetrics = out
	var notes []string
	if g.unordered > 0 {
		notes = append(notes, fmt.Sprintf("%d samples out of time order dropped", g.unordered))
	}
	if g.unmatched != "" {
		notes = append(notes, "not read: "+g.unmatched)
	}
	if g.peak <= 0 && (g.matched[gmRead] != nil || g.matched[gmWrite] != nil) {
		notes = append(notes, "no peak DRAM bandwidth in the export (TARGET_INFO_GPU.memoryBandwidth): DRAM bytes not computed")
	}
	if len(notes) > 0 {
		s.Warnings = append(s.Warnings, Warning{Code: WarnGPUMetrics, Message: "GPU metrics: " + strings.Join(notes, "; ")})
	}
}

// bytes turns a time-weighted share of peak into the bytes it moved.
func (g *gmPass) bytes(a gmAcc) float64 {
	return a.sum / 100 * g.peak / 1e9
}

// window is the figures of accumulators over one window.
func (g *gmPass) window(acc [gmCount]gmAcc, clock map[int32]int64) SampledWindow {
	n := int32(0)
	var ns int64
	for _, a := range acc {
		n, ns = max(n, a.n), max(ns, a.ns)
	}
	w := SampledWindow{
		Samples: int(n), SampledNs: ns,
		DRAMRead: acc[gmRead].mean(), DRAMWrite: acc[gmWrite].mean(),
		DRAMReadBytes: g.bytes(acc[gmRead]), DRAMWriteBytes: g.bytes(acc[gmWrite]),
		SMActive: acc[gmSM].mean(), TensorActive: acc[gmTensor].mean(),
		PCIeRX: acc[gmRX].mean(), PCIeTX: acc[gmTX].mean(),
	}
	w.ClockMinMHz, w.ClockMedianMHz = clockStats(clock)
	return w
}

// phase is one phase's figures: per step, in the phase's sample order, and
// their summaries over the sampled steps; nil when none was sampled.
func (g *gmPass) phase(pi, steps int) *PhaseGPUMetrics {
	ph := &PhaseGPUMetrics{Samples: make([]StepGPUMetrics, steps)}
	for ref, r := range g.refs {
		if r.phase != pi {
			continue
		}
		a := &g.acc[ref]
		n := int32(0)
		for _, x := range a {
			n = max(n, x.n)
		}
		ph.Samples[r.sample] = StepGPUMetrics{
			N:             int(n),
			DRAMReadBytes: g.bytes(a[gmRead]), DRAMWriteBytes: g.bytes(a[gmWrite]),
			DRAMRead: a[gmRead].mean(), DRAMWrite: a[gmWrite].mean(),
			SMActive: a[gmSM].mean(), TensorActive: a[gmTensor].mean(),
			PCIeRX: a[gmRX].mean(), PCIeTX: a[gmTX].mean(),
		}
	}
	var sampled []StepGPUMetrics
	for _, x := range ph.Samples {
		if x.N > 0 {
			sampled = append(sampled, x)
		}
	}
	if len(sampled) == 0 {
		return nil
	}
	ph.Steps = len(sampled)
	ph.DRAMReadBytes = statBy(sampled, func(x StepGPUMetrics) float64 { return x.DRAMReadBytes })
	ph.DRAMWriteBytes = statBy(sampled, func(x StepGPUMetrics) float64 { return x.DRAMWriteBytes })
	ph.DRAMRead = statBy(sampled, func(x StepGPUMetrics) float64 { return x.DRAMRead })
	ph.DRAMWrite = statBy(sampled, func(x StepGPUMetrics) float64 { return x.DRAMWrite })
	ph.SMActive = statBy(sampled, func(x StepGPUMetrics) float64 { return x.SMActive })
	ph.TensorActive = statBy(sampled, func(x StepGPUMetrics) float64 { return x.TensorActive })
	ph.PCIeRX = statBy(sampled, func(x StepGPUMetrics) float64 { return x.PCIeRX })
	ph.PCIeTX = statBy(sampled, func(x StepGPUMetrics) float64 { return x.PCIeTX })
	ph.ClockMinMHz, ph.ClockMedianMHz = clockStats(g.clocks[pi])
	if tr := g.traces[pi]; tr != nil && len(tr.points) > 0 {
		ph.Typical = &StepTrace{Step: g.refs[tr.ref].sample, SpanNs: tr.end - tr.start, Samples: tr.points}
	}
	return ph
}

// clockStats is the lowest clock and the time-weighted median of a
// histogram of MHz -> ns.
func clockStats(h map[int32]int64) (lowest, median float64) {
	if len(h) == 0 {
		return 0, 0
	}
	keys := make([]int32, 0, len(h))
	var total int64
	for k, ns := range h {
		keys = append(keys, k)
		total += ns
	}
	slices.Sort(keys)
	var run int64
	for _, k := range keys {
		run += h[k]
		if 2*run >= total {
			return float64(keys[0]), float64(k)
		}
	}
	return float64(keys[0]), float64(keys[len(keys)-1])
}
