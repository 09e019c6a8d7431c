package ncu

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/nsys-gate/gate/parse"
)

// shortName turns a kernel name as ncu prints it ("void at::elementwise_kernel<128,
// 4, ...>(int, T3)") into the base function name nsys stores as a kernel's
// shortName ("elementwise_kernel"): the return type, the namespaces, template
// arguments and parameters are dropped. Names that are already plain
// (nvjet_sm90_..., cudnn_generated_...) are returned as they are.
func shortName(name string) string {
	s := strings.TrimSpace(name)
	// Anonymous namespaces contain the brackets the cut below looks for.
	s = strings.NewReplacer("<unnamed>", "_unnamed_", "(anonymous namespace)", "_anonymous_").Replace(s)
	// Cut at the first '<' or '(' at nesting depth 0: what precedes it is the
	// qualified name, possibly with a return type in front.
	cut := len(s)
	for i, r := range s {
		if r == '<' || r == '(' {
			cut = i
			break
		}
	}
	head := strings.TrimSpace(s[:cut])
	if i := strings.LastIndexByte(head, ' '); i >= 0 {
		head = head[i+1:] // return type ("void ")
	}
	if i := strings.LastIndex(head, "::"); i >= 0 {
		head = head[i+2:]
	}
	if head == "" {
		return s
	}
	return head
}

// kernelAgg sums one kernel's launches.
type kernelAgg struct {
	name             string
	launches         int
	dur, read, write float64
	dramW, smW       float64 // duration-weighted sums of the percentages
	dramDur, smDur   float64 // durations that carried the percentages
	bytesDur         float64 // durations that carried both byte counts
	missingBytes     bool
}

// aggregate groups launches by shortName and returns one KernelBandwidth per
// kernel, averaged over its launches, sorted by total profiled time
// (largest first, then by name). peak is the peak DRAM bandwidth in bytes/s
// (0 if unknown): the % of peak is ncu's dram__throughput where measured, else
// achieved bytes/duration over peak.
func aggregate(launches []Launch, peak float64) []parse.KernelBandwidth {
	byName := map[string]*kernelAgg{}
	var order []*kernelAgg
	for _, l := range launches {
		name := shortName(l.Kernel)
		a := byName[name]
		if a == nil {
			a = &kernelAgg{name: name}
			byName[name] = a
			order = append(order, a)
		}
		a.launches++
		a.dur += l.DurationNs
		if math.IsNaN(l.BytesRead) || math.IsNaN(l.BytesWritten) {
			a.missingBytes = true
		} else {
			a.read += l.BytesRead
			a.write += l.BytesWritten
			a.bytesDur += l.DurationNs
		}
		if !math.IsNaN(l.DRAMPct) {
			a.dramW += l.DRAMPct * l.DurationNs
			a.dramDur += l.DurationNs
		}
		if !math.IsNaN(l.SMPct) {
			a.smW += l.SMPct * l.DurationNs
			a.smDur += l.DurationNs
		}
	}
	sort.SliceStable(order, func(i, j int) bool {
		if order[i].dur != order[j].dur {
			return order[i].dur > order[j].dur
		}
		return order[i].name < order[j].name
	})
	out := make([]parse.KernelBandwidth, 0, len(order))
	for _, a := range order {
		n := float64(a.launches)
		k := parse.KernelBandwidth{
			Name:         a.name,
			Launches:     a.launches,
			DurationNs:   a.dur / n,
			BytesRead:    a.read / n,
			BytesWritten: a.write / n,
		}
		if a.bytesDur > 0 {
			k.GBps = (a.read + a.write) / a.bytesDur // bytes per ns is GB/s
		}
		switch {
		case a.dramDur > 0:
			k.PctPeak = a.dramW / a.dramDur
		case peak > 0:
			k.PctPeak = k.GBps * 1e9 / peak * 100
		}
		if a.smDur > 0 {
			k.SMPct = a.smW / a.smDur
		}
		k.Bound = "memory"
		if k.SMPct > k.PctPeak {
			k.Bound = "compute"
		}
		out = append(out, k)
	}
	return out
}

// Bandwidth builds the summary's bandwidth section from a parsed report.
// source names the CSV (a file name, never a path from another machine);
// peak overrides the report's own peak where the nsys export knows it.
func Bandwidth(rep *Report, source string, peak float64) *parse.Bandwidth {
	if peak <= 0 {
		peak = rep.Device.PeakBandwidth
	}
	return &parse.Bandwidth{
		Source:        source,
		PeakBandwidth: peak,
		Kernels:       aggregate(rep.Launches, peak),
	}
}

// Join attaches bw to s, naming each ncu kernel as the nsys summary names it.
// A kernel matches when its name equals a summary kernel's name, or the short
// form of the summary kernel's name or demangled name. Kernels ncu measured but
// nsys did not see in the window are kept and reported as a warning (ncu may
// have profiled launches outside the scope). The bandwidth section's peak
// defaults to the summary's GPU peak.
func Join(s *parse.Summary, bw *parse.Bandwidth) {
	if bw.PeakBandwidth <= 0 && s.GPU.PeakBandwidth > 0 {
		bw.PeakBandwidth = s.GPU.PeakBandwidth
	}
	names := map[string]string{}
	for _, k := range s.Kernels {
		names[k.Name] = k.Name
	}
	for _, k := range s.Kernels {
		for _, alias := range []string{shortName(k.Name), shortName(k.Demangled)} {
			if _, taken := names[alias]; !taken && alias != "" {
				names[alias] = k.Name
			}
		}
	}
	var unmatched []string
	for i := range bw.Kernels {
		if n, ok := names[bw.Kernels[i].Name]; ok {
			bw.Kernels[i].Name = n
			continue
		}
		unmatched = append(unmatched, bw.Kernels[i].Name)
	}
	s.Bandwidth = bw
	if len(unmatched) > 0 {
		sort.Strings(unmatched)
		s.Warnings = append(s.Warnings, parse.Warning{
			Code:    "ncu_unmatched_kernels",
			Message: fmt.Sprintf("%d kernel(s) measured by ncu are not in the profile's window: %s", len(unmatched), strings.Join(unmatched, ", ")),
		})
	}
}
