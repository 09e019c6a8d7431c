package compare

import (
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/nsys-gate/gate/parse"
)

// The metric vocabulary: the groups, units, directions and phases that metric
// names are built from, and the families of metrics gate knows. compare owns
// it because compare names the metrics; render and gate read it.

// Group is the family of metrics a metric belongs to; a report gives each
// group its own section.
type Group string

// Groups, in the order a Result lists them.
const (
	GroupPhase   Group = "phase"
	GroupGraph   Group = "graph"
	GroupGPUTime Group = "gpu_time"
	// GroupGPUMetrics is what the GPU's sampled counters measured per step:
	// DRAM traffic, SM and tensor activity, PCIe.
	GroupGPUMetrics    Group = "gpu_metrics"
	GroupMemory        Group = "memory"
	GroupKernel        Group = "kernel"
	GroupComponent     Group = "component"
	GroupBandwidth     Group = "bandwidth"
	GroupDevice        Group = "device"
	GroupCommunication Group = "communication"
	GroupExtra         Group = "extra"
)

// rank is the group's position in a Result; unknown groups go last.
func (g Group) rank() int {
	for i, k := range [...]Group{GroupPhase, GroupGraph, GroupGPUTime, GroupGPUMetrics, GroupMemory, GroupKernel,
		GroupComponent, GroupBandwidth, GroupDevice, GroupCommunication, GroupExtra} {
		if g == k {
			return i
		}
	}
	return 11
}

// Unit is the unit a metric's values are in. Extra metrics bring their own
// ("tokens/s", "ms"): any other string is such a unit.
type Unit string

// Units of gate's own metrics.
const (
	UnitNs    Unit = "ns"    // nanoseconds
	UnitBytes Unit = "bytes" // bytes
	UnitBps   Unit = "bps"   // bytes per second
	UnitPct   Unit = "pct"   // percent, 0..100; changes are in percentage points
	UnitCount Unit = "count" // a count, or a mean count per step
	// UnitMode is a phase's CUDA-graph mode as a rank, lower is better:
	// 0 a full graph per step, 1 piecewise, 2 eager (GraphModeRank).
	UnitMode Unit = "mode"
	// UnitTokensPerS is a token rate.
	UnitTokensPerS Unit = "tokens/s"
)

// graphModes are the CUDA-graph modes in rank order, with their names for
// people (vLLM's FULL, PIECEWISE and NONE).
var graphModes = []struct{ mode, label string }{
	{parse.GraphFull, "full graph"},
	{parse.GraphPiecewise, "piecewise"},
	{parse.GraphEager, "eager"},
}

// GraphModeRank is the value of a phases.<phase>.graph_mode metric for a
// parse.PhaseGraphs mode; false for a mode gate does not know.
func GraphModeRank(mode string) (float64, bool) {
	for i, m := range graphModes {
		if m.mode == mode {
			return float64(i), true
		}
	}
	return 0, false
}

// GraphModeLabel names a graph_mode value for people: "full graph",
// "piecewise", "eager".
func GraphModeLabel(rank float64) string {
	if i := int(rank); rank == float64(i) && i >= 0 && i < len(graphModes) {
		return graphModes[i].label
	}
	return "unknown"
}

// Better is the direction in which a metric improves.
type Better string

// Directions. Descriptive metrics (a step count, a token total) have none:
// they are shown, never gated.
const (
	Lower       Better = "lower"
	Higher      Better = "higher"
	Descriptive Better = ""
)

// PhaseRank orders phases as reports list them: prefill, decode, mixed,
// then the window pseudo-phase; other phases follow. A group of a phase
// (decode@16, see GroupName) ranks with its phase.
func PhaseRank(p string) int {
	p, _, _ = strings.Cut(p, "@")
	switch p {
	case parse.PhasePrefill:
		return 0
	case parse.PhaseDecode:
		return 1
	case parse.PhaseMixed:
		return 2
	case parse.PhaseWindow:
		return 3
	}
	return 4
}

// groupName names a group of a phase's steps: decode@16 for the decode
// steps of batch 16, decode@9-16 for a bucket of batch sizes 9 to 16.
func groupName(phase string, lo, hi int) string {
	if lo == hi {
		return phase + "@" + strconv.Itoa(hi)
	}
	return phase + "@" + strconv.Itoa(lo) + "-" + strconv.Itoa(hi)
}

// phaseNames lists a summary's phases in PhaseRank order, others by name.
func phaseNames(ph map[string]*parse.Phase) []string {
	names := make([]string, 0, len(ph))
	for n := range ph {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		if ri, rj := PhaseRank(names[i]), PhaseRank(names[j]); ri != rj {
			return ri < rj
		}
		return names[i] < names[j]
	})
	return names
}

// Class is what a failing metric says about the workload, in the order a
// reviewer should read it: the headline names the highest class first.
type Class string

// Classes, most telling first.
const (
	// ClassStepTime: how long a step takes (span, busy, kernel time).
	ClassStepTime Class = "step_time"
	// ClassStepStructure: what a step does (kernels, copies, syncs per step,
	// launches inside CUDA graphs).
	ClassStepStructure Class = "step_structure"
	// ClassKernel: one kernel, component or collective.
	ClassKernel Class = "kernel"
	// ClassWindow: totals over the whole window, and the user's own metrics.
	ClassWindow Class = "window"
)

func (c Class) rank() int {
	switch c {
	case ClassStepTime:
		return 0
	case ClassStepStructure:
		return 1
	case ClassKernel:
		return 2
	}
	return 3
}

// family is one kind of metric: a name pattern whose "*" segments stand for
// names from the profile (a phase, kernel, component, direction, device,
// collective), and how its metrics are judged.
type family struct {
	pattern string
	label   string // for people; $1, $2 stand for the pattern's "*" segments
	group   Group
	unit    Unit // empty for extra metrics, which carry their own
	kind    Kind
	better  Better
	class   Class
	// explain marks a compositional metric: a ratio that moves when anything
	// else moves (a share of a phase's kernel time, coverage by time, a busy
	// share, a rate). It never fails; it warns at most when one of the
	// absolute metrics named by explain (patterns, $N substituted) regressed
	// too. An explain of {} means it never warns either.
	explain []string
	why     string // why it can or cannot fail, for the docs and reports
}

// compositional reports whether f only explains (see family.explain).
func (f *family) compositional() bool { return f.explain != nil }

// families is the vocabulary, most specific pattern first. Rules are checked
// against it (a threshold must fit the unit of every family its glob can
// match) and metrics are classed by it.
var families = []family{
	{pattern: "phases.*.span.p50", label: "$1 step p50", group: GroupPhase, unit: UnitNs, kind: Stat, better: Lower, class: ClassStepTime,
		why: "the step's GPU span: what a user waits for"},
	{pattern: "phases.*.busy.p50", label: "$1 busy p50", group: GroupPhase, unit: UnitNs, kind: Stat, better: Lower, class: ClassStepTime,
		why: "GPU time the step keeps the device busy"},
	{pattern: "phases.*.kernel_time.p50", label: "$1 kernel time p50", group: GroupPhase, unit: UnitNs, kind: Stat, better: Lower, class: ClassStepTime,
		why: "the sum of the step's kernel durations"},
	{pattern: "phases.*.busy_pct.p50", label: "$1 busy share p50", group: GroupPhase, unit: UnitPct, kind: Stat, better: Higher, class: ClassStepTime,
		explain: []string{"phases.$1.span.p50"}, why: "busy over span: falls when kernels get faster as much as when the host stalls"},
	{pattern: "phases.*.kernels", label: "$1 kernels/step", group: GroupPhase, unit: UnitCount, kind: Exact, better: Lower, class: ClassStepStructure,
		why: "every launch costs launch overhead"},
	{pattern: "phases.*.memcpys", label: "$1 copies/step", group: GroupPhase, unit: UnitCount, kind: Exact, better: Lower, class: ClassStepStructure,
		why: "copies in a step serialise with compute"},
	{pattern: "phases.*.memcpy_bytes", label: "$1 copy bytes/step", group: GroupPhase, unit: UnitBytes, kind: Exact, better: Lower, class: ClassStepStructure,
		why: "bytes moved over PCIe or NVLink every step"},
	{pattern: "phases.*.dtoh", label: "$1 DtoH copies/step", group: GroupPhase, unit: UnitCount, kind: Exact, better: Lower, class: ClassStepStructure,
		why: "a device-to-host copy stalls the host until the GPU catches up"},
	{pattern: "phases.*.syncs", label: "$1 syncs/step", group: GroupPhase, unit: UnitCount, kind: Exact, better: Lower, class: ClassStepStructure,
		why: "a host synchronisation drains the GPU's queue"},
	{pattern: "phases.*.ns_per_token.p50", label: "$1 time/token p50", group: GroupPhase, unit: UnitNs, kind: Stat, better: Lower, class: ClassStepTime,
		why: "a step's span over its tokens: prefill time that does not move with the prompt length"},
	{pattern: "phases.*.tokens_per_s", label: "$1 tokens/s", group: GroupPhase, unit: UnitTokensPerS, kind: Exact, better: Higher, class: ClassWindow,
		explain: []string{"phases.$1.span.p50", "phases.$1.ns_per_token.p50"}, why: "a rate: tokens over step time, moves with the load's batch sizes as much as with the code"},
	{pattern: "phases.*.tokens", label: "$1 tokens/step", group: GroupPhase, unit: UnitCount, kind: Exact, better: Descriptive, class: ClassWindow,
		why: "what the load asked for, from the step names: shown"},
	{pattern: "phases.*.requests", label: "$1 requests/step", group: GroupPhase, unit: UnitCount, kind: Exact, better: Descriptive, class: ClassWindow,
		why: "what the load asked for, from the step names: shown"},
	{pattern: "phases.*.graph_mode", label: "$1 CUDA-graph mode", group: GroupPhase, unit: UnitMode, kind: Exact, better: Lower, class: ClassStepStructure,
		why: "how the phase's steps run: a full graph per step, piecewise graphs with eager attention, or eager launches; a change of mode changes every step"},
	{pattern: "phases.*.graph_launches", label: "$1 graph launches/step", group: GroupPhase, unit: UnitCount, kind: Exact, better: Descriptive, class: ClassStepStructure,
		why: "shown beside the mode it implies"},
	{pattern: "phases.*.graph_kernels", label: "$1 kernels in graphs/step", group: GroupPhase, unit: UnitCount, kind: Exact, better: Descriptive, class: ClassStepStructure,
		why: "shown beside the mode it implies"},
	{pattern: "phases.*.graph_coverage", label: "$1 kernels inside CUDA graphs", group: GroupPhase, unit: UnitPct, kind: Exact, better: Higher, class: ClassStepStructure,
		explain: []string{"phases.$1.graph_mode", "phases.$1.kernels", "phases.$1.span.p50"}, why: "a share of the phase's launches: falls when graph kernels are removed"},
	{pattern: "phases.*.steps", label: "$1 steps", group: GroupPhase, unit: UnitCount, kind: Exact, better: Higher, class: ClassWindow,
		why: "what the workload ran; a collapse makes the result not comparable instead"},
	{pattern: "cuda_graphs.outside", label: "kernel launches outside CUDA graphs", group: GroupGraph, unit: UnitCount, kind: Exact, better: Lower, class: ClassStepStructure,
		why: "a launch outside a graph pays the launch overhead a graph replay saves"},
	{pattern: "cuda_graphs.coverage_count", label: "kernels inside CUDA graphs", group: GroupGraph, unit: UnitPct, kind: Exact, better: Higher, class: ClassStepStructure,
		explain: []string{"cuda_graphs.outside", "phases.*.span.p50"}, why: "a share of launches: falls when graph kernels are removed"},
	{pattern: "cuda_graphs.coverage_time", label: "kernel time inside CUDA graphs", group: GroupGraph, unit: UnitPct, kind: Exact, better: Higher, class: ClassWindow,
		explain: []string{"phases.*.span.p50", "phases.*.kernel_time.p50"}, why: "falls when graph kernels get faster"},
	{pattern: "gpu_time.busy_pct", label: "GPU busy share", group: GroupGPUTime, unit: UnitPct, kind: Exact, better: Higher, class: ClassWindow,
		explain: []string{"phases.*.span.p50"}, why: "busy over the window: falls when kernels get faster"},
	{pattern: "gpu_metrics.*.dram_read_bytes.p50", label: "$1 DRAM read/step p50", group: GroupGPUMetrics, unit: UnitBytes, kind: Stat, better: Lower, class: ClassStepStructure,
		why: "DRAM bytes a step reads, the sampled counters integrated over its GPU span: a wider KV cache or a lost fusion moves more"},
	{pattern: "gpu_metrics.*.dram_write_bytes.p50", label: "$1 DRAM write/step p50", group: GroupGPUMetrics, unit: UnitBytes, kind: Stat, better: Lower, class: ClassStepStructure,
		why: "DRAM bytes a step writes, the sampled counters integrated over its GPU span"},
	{pattern: "gpu_metrics.*.dram_read_pct.p50", label: "$1 DRAM read bandwidth p50", group: GroupGPUMetrics, unit: UnitPct, kind: Stat, better: Higher, class: ClassStepTime,
		explain: []string{"phases.$1.span.p50", "gpu_metrics.$1.dram_read_bytes.p50"}, why: "a rate as a share of peak: bytes over time, moves with either"},
	{pattern: "gpu_metrics.*.dram_write_pct.p50", label: "$1 DRAM write bandwidth p50", group: GroupGPUMetrics, unit: UnitPct, kind: Stat, better: Higher, class: ClassStepTime,
		explain: []string{"phases.$1.span.p50", "gpu_metrics.$1.dram_write_bytes.p50"}, why: "a rate as a share of peak: bytes over time, moves with either"},
	{pattern: "gpu_metrics.*.sm_active.p50", label: "$1 SMs active p50", group: GroupGPUMetrics, unit: UnitPct, kind: Stat, better: Higher, class: ClassStepTime,
		explain: []string{"phases.$1.span.p50"}, why: "a share of the step's time: falls when the GPU waits, rises with more work per step"},
	{pattern: "gpu_metrics.*.tensor_active.p50", label: "$1 tensor active p50", group: GroupGPUMetrics, unit: UnitPct, kind: Stat, better: Higher, class: ClassStepTime,
		explain: []string{"phases.$1.span.p50"}, why: "a share of the step's time: moves with any other work in the step"},
	{pattern: "gpu_metrics.*.pcie_rx.p50", label: "$1 PCIe RX p50", group: GroupGPUMetrics, unit: UnitPct, kind: Stat, better: Higher, class: ClassWindow,
		explain: []string{}, why: "a share of the link's peak: shown"},
	{pattern: "gpu_metrics.*.pcie_tx.p50", label: "$1 PCIe TX p50", group: GroupGPUMetrics, unit: UnitPct, kind: Stat, better: Higher, class: ClassWindow,
		explain: []string{}, why: "a share of the link's peak: shown"},
	{pattern: "memory.*.*.count", label: "$1 $2 count", group: GroupMemory, unit: UnitCount, kind: Exact, better: Lower, class: ClassWindow,
		why: "copies over the whole window"},
	{pattern: "memory.*.*.bytes", label: "$1 $2 bytes", group: GroupMemory, unit: UnitBytes, kind: Exact, better: Lower, class: ClassWindow,
		why: "bytes copied over the whole window"},
	{pattern: "memory.*.*.gbps", label: "$1 $2 rate", group: GroupMemory, unit: UnitBps, kind: Exact, better: Higher, class: ClassWindow,
		explain: []string{}, why: "a rate: bytes over time, moves with either"},
	{pattern: "kernel_set.added", label: "kernels added", group: GroupKernel, unit: UnitCount, kind: Exact, better: Lower, class: ClassKernel,
		why: "news, not a failure: a new kernel fails through what it costs"},
	{pattern: "kernel_set.removed", label: "kernels removed", group: GroupKernel, unit: UnitCount, kind: Exact, better: Lower, class: ClassKernel,
		why: "news, not a failure: a removed kernel costs nothing"},
	{pattern: "kernel_set.variants", label: "kernel variants changed", group: GroupKernel, unit: UnitCount, kind: Exact, better: Lower, class: ClassKernel,
		why: "news, not a failure: a variant fails through what it costs"},
	{pattern: "kernels.*.per_step", label: "$1 launches/decode step", group: GroupKernel, unit: UnitCount, kind: Exact, better: Lower, class: ClassKernel,
		why: "one kernel's launches per decode step"},
	{pattern: "kernels.*.total", label: "$1 total time", group: GroupKernel, unit: UnitNs, kind: Exact, better: Lower, class: ClassKernel,
		why: "one kernel's time over the window"},
	{pattern: "kernels.*.count", label: "$1 launches", group: GroupKernel, unit: UnitCount, kind: Exact, better: Lower, class: ClassWindow,
		why: "one kernel's launches over the window"},
	{pattern: "components.*.*.share", label: "$1 $2 share", group: GroupComponent, unit: UnitPct, kind: Exact, better: Lower, class: ClassKernel,
		explain: []string{"components.$1.$2.time"}, why: "a share of the phase's kernel time: rises when anything else gets faster"},
	{pattern: "components.*.*.time", label: "$1 $2 time", group: GroupComponent, unit: UnitNs, kind: Exact, better: Lower, class: ClassKernel,
		why: "the kernel time of one component"},
	{pattern: "bandwidth.*.gbps", label: "$1 DRAM rate", group: GroupBandwidth, unit: UnitBps, kind: Exact, better: Higher, class: ClassKernel,
		explain: []string{"bandwidth.$1.bytes"}, why: "a rate: falls when the kernel moves less data"},
	{pattern: "bandwidth.*.pct_peak", label: "$1 % of peak DRAM", group: GroupBandwidth, unit: UnitPct, kind: Exact, better: Higher, class: ClassKernel,
		explain: []string{"bandwidth.$1.bytes"}, why: "a rate as a share of peak: falls when the kernel moves less data"},
	{pattern: "bandwidth.*.bytes", label: "$1 DRAM bytes/launch", group: GroupBandwidth, unit: UnitBytes, kind: Exact, better: Lower, class: ClassKernel,
		why: "DRAM traffic of one launch"},
	{pattern: "devices.*.busy_pct", label: "device $1 busy share", group: GroupDevice, unit: UnitPct, kind: Exact, better: Higher, class: ClassWindow,
		why: "a device that idles while others work"},
	{pattern: "communication.exposed_pct", label: "exposed communication", group: GroupCommunication, unit: UnitPct, kind: Exact, better: Lower, class: ClassWindow,
		why: "communication not hidden behind compute"},
	{pattern: "communication.imbalance", label: "load imbalance", group: GroupCommunication, unit: UnitPct, kind: Exact, better: Lower, class: ClassWindow,
		why: "the slowest device sets the pace"},
	{pattern: "communication.exposed.p50", label: "exposed communication/step p50", group: GroupCommunication, unit: UnitNs, kind: Stat, better: Lower, class: ClassStepTime,
		why: "communication time a step waits for"},
	{pattern: "communication.*.time", label: "$1 time", group: GroupCommunication, unit: UnitNs, kind: Exact, better: Lower, class: ClassKernel,
		why: "one collective's time"},
	{pattern: "communication.*.count", label: "$1 count", group: GroupCommunication, unit: UnitCount, kind: Exact, better: Lower, class: ClassKernel,
		why: "one collective's launches"},
	{pattern: "extra.*", label: "$1", group: GroupExtra, kind: Exact, class: ClassWindow,
		why: "the workload's own metric, in its own unit and direction"},
}

// familyOf returns the family of a metric name, or nil for a name gate does
// not make.
func familyOf(name string) *family {
	segs := strings.Split(name, ".")
	for i := range families {
		if matchSegs(strings.Split(families[i].pattern, "."), segs) {
			return &families[i]
		}
	}
	return nil
}

// wild returns the segments of name that stand for f's "*" segments.
func (f *family) wild(name string) []string {
	var out []string
	ps, ns := strings.Split(f.pattern, "."), strings.Split(name, ".")
	for i, p := range ps {
		if p == "*" && i < len(ns) {
			out = append(out, ns[i])
		}
	}
	return out
}

// substitute replaces $1, $2, ... in s with the wild segments of name.
func (f *family) substitute(s, name string, decode bool) string {
	w := f.wild(name)
	for i := len(w); i >= 1; i-- {
		v := w[i-1]
		if decode {
			v = DisplayName(v)
			if i == 1 && f.phased() {
				v = PhaseLabel(v)
			}
		}
		s = strings.ReplaceAll(s, "$"+strconv.Itoa(i), v)
	}
	return s
}

// phased reports whether f's first "*" segment is a phase.
func (f *family) phased() bool {
	for _, p := range [...]string{"phases.*.", "gpu_metrics.*.", "components.*."} {
		if strings.HasPrefix(f.pattern, p) {
			return true
		}
	}
	return false
}

// PhaseLabel names a phase for people: parse.PhaseWindow, the whole scope
// window, is "whole run"; other phases keep their names.
func PhaseLabel(p string) string {
	if p == parse.PhaseWindow {
		return "whole run"
	}
	return p
}

// Label is a metric's name for people: "decode step p50" for
// phases.decode.span.p50, "whole run attention time" for
// components.window.attention.time. Names gate does
// not make are shown decoded (DisplayName).
func Label(name string) string {
	f := familyOf(name)
	if f == nil {
		return DisplayName(name)
	}
	return f.substitute(f.label, name, true)
}

// ClassOf is the class of a metric name (ClassWindow for names gate does not
// make).
func ClassOf(name string) Class {
	if f := familyOf(name); f != nil {
		return f.class
	}
	return ClassWindow
}

// Compositional reports whether a metric only explains: a ratio that moves
// when anything else moves (shares, coverage by time, busy shares, rates).
// Such a metric never fails; see the package documentation.
func Compositional(name string) bool {
	f := familyOf(name)
	return f != nil && f.compositional()
}

// mayMatch reports whether a rule glob can match some metric of family
// pattern fp, whose "*" segments stand for any one name segment.
func mayMatch(glob, fp []string) bool {
	for len(glob) > 0 {
		if glob[0] == "**" {
			for i := 0; i <= len(fp); i++ {
				if mayMatch(glob[1:], fp[i:]) {
					return true
				}
			}
			return false
		}
		if len(fp) == 0 {
			return false
		}
		if fp[0] != "*" {
			if ok, err := path.Match(glob[0], fp[0]); err != nil || !ok {
				return false
			}
		}
		glob, fp = glob[1:], fp[1:]
	}
	return len(fp) == 0
}

// familiesMatching lists the families a rule glob can match.
func familiesMatching(glob string) []*family {
	segs := splitPattern(glob)
	var out []*family
	for i := range families {
		if mayMatch(segs, strings.Split(families[i].pattern, ".")) {
			out = append(out, &families[i])
		}
	}
	return out
}
