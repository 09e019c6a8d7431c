package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/nsys-gate/gate/compare"
	"github.com/nsys-gate/gate/parse"
)

// summaryTopKernels is how many kernels the table view lists.
const summaryTopKernels = 15

// SummaryText writes a Summary as plain-text tables for a person at a
// terminal (`gate parse --format table`): source and GPU, GPU time, phases,
// CUDA graphs, components, the top kernels, memory, devices, extra metrics
// and warnings. Numbers read as they do in the reports (fmtValue); strings
// from the profile are made one line without control characters.
func SummaryText(w io.Writer, s *parse.Summary) error {
	var b strings.Builder
	for _, section := range []func(io.Writer, *parse.Summary){
		textSource, textPhases, textGraphs, textComponents, textKernels, textMemory, textDevices, textExtra, textWarnings,
	} {
		section(&b, s)
	}
	_, err := io.WriteString(w, noCommands(b.String()))
	return err
}

// textSource is the header: the file and nsys, the GPU, the window.
func textSource(w io.Writer, s *parse.Summary) {
	src := s.Source
	fmt.Fprintf(w, "%s", termText(src.File))
	if src.NsysVersion != "" {
		fmt.Fprintf(w, "  nsys %s", termText(src.NsysVersion))
	}
	if src.ExportSchema != "" {
		fmt.Fprintf(w, " (export schema %s)", termText(src.ExportSchema))
	}
	fmt.Fprintf(w, "  CUDA graphs traced by %s", or(termText(traceWords(src.TraceMode)), "?"))
	if src.Scope != "" {
		fmt.Fprintf(w, "  scope %q", termText(src.Scope))
	}
	fmt.Fprintln(w)
	g := s.GPU
	fmt.Fprintf(w, "GPU: %s", or(termText(g.Name), "unknown"))
	var gd []string
	if g.Chip != "" {
		gd = append(gd, termText(g.Chip))
	}
	if g.SMs > 0 {
		gd = append(gd, fmt.Sprintf("%d SMs", g.SMs))
	}
	if g.MemoryBytes > 0 {
		gd = append(gd, fmtValue(float64(g.MemoryBytes), "bytes"))
	}
	if g.PeakBandwidth > 0 {
		gd = append(gd, "peak "+fmtValue(g.PeakBandwidth, "bps"))
	}
	if g.Driver != "" {
		gd = append(gd, "driver "+termText(g.Driver))
	}
	if g.CUDA != "" {
		gd = append(gd, "CUDA "+termText(g.CUDA))
	}
	if len(gd) > 0 {
		fmt.Fprintf(w, " (%s)", strings.Join(gd, ", "))
	}
	fmt.Fprintf(w, ", %d device(s)\n", g.Devices)
	t := s.GPUTime
	fmt.Fprintf(w, "Window %s: GPU busy %s, idle %s", fmtDuration(float64(t.WindowNs)), fmtValue(t.BusyPct, "pct"), fmtValue(t.IdlePct, "pct"))
	if len(t.Gaps) > 0 {
		var gaps []string
		for _, gp := range t.Gaps {
			gaps = append(gaps, fmtDuration(float64(gp.Ns)))
		}
		fmt.Fprintf(w, "; longest idle gaps %s", strings.Join(gaps, ", "))
	}
	fmt.Fprintln(w)
}

// textPhases is the per-step table of each phase.
func textPhases(w io.Writer, s *parse.Summary) {
	if len(s.Phases) == 0 {
		return
	}
	fmt.Fprint(w, "\nPhases (per step: p50 / p90")
	if src := s.Source.StepSource; src != "" {
		fmt.Fprintf(w, "; steps found by %s", parse.StepSourceName(src))
	}
	fmt.Fprintln(w, ")")
	tw := newColumns(w, true)
	fmt.Fprintln(tw, "phase\tsteps\tspan\tbusy\tkernel time\tkernels\tmemcpys\tDtoH\tsyncs\tCUDA graphs\t")
	for _, name := range []string{parse.PhasePrefill, parse.PhaseDecode, parse.PhaseMixed} {
		p := s.Phases[name]
		if p == nil {
			continue
		}
		mode := "?"
		if p.Graphs != nil {
			if rank, ok := compare.GraphModeRank(p.Graphs.Mode); ok {
				mode = compare.GraphModeLabel(rank)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s / %s\t%s / %s\t%s / %s\t%s\t%s\t%s\t%s\t%s\t\n", name, fmtCount(float64(p.Steps)),
			fmtDuration(p.Span.P50), fmtDuration(p.Span.P90), fmtDuration(p.Busy.P50), fmtDuration(p.Busy.P90),
			fmtDuration(p.KernelTime.P50), fmtDuration(p.KernelTime.P90),
			fmtCount(p.Kernels.Mean), fmtCount(p.Memcpys.Mean), fmtCount(p.DtoH.Mean), fmtCount(p.Syncs.Mean), mode)
	}
	tw.Flush()
}

// textGraphs is the CUDA-graph line.
func textGraphs(w io.Writer, s *parse.Summary) {
	cg := s.CUDAGraphs
	fmt.Fprintf(w, "\nCUDA graphs (%s mode): %s replays, %s of launches and %s of kernel time in graphs\n",
		or(termText(cg.Mode), "?"), fmtCount(float64(cg.Replays)), fmtValue(cg.CoverageCount, "pct"), fmtValue(cg.CoverageTime, "pct"))
}

// textComponents is each component's share and time, one column per phase.
func textComponents(w io.Writer, s *parse.Summary) {
	if len(s.Components) == 0 {
		return
	}
	fmt.Fprintln(w, "\nComponents (share of kernel time)")
	tw := newColumns(w, true)
	header := "component\t"
	for _, pc := range s.Components {
		header += termText(pc.Phase) + "\t"
	}
	fmt.Fprintln(tw, header)
	var names []string
	seen := map[string]bool{}
	for _, pc := range s.Components {
		for _, c := range pc.Components {
			if !seen[c.Name] {
				seen[c.Name] = true
				names = append(names, c.Name)
			}
		}
	}
	for _, n := range names {
		row := termText(n) + "\t"
		for _, pc := range s.Components {
			cell := "-"
			for _, c := range pc.Components {
				if c.Name == n {
					cell = fmtValue(100*c.Share, "pct") + " " + fmtDuration(float64(c.TimeNs))
				}
			}
			row += cell + "\t"
		}
		fmt.Fprintln(tw, row)
	}
	tw.Flush()
}

// textKernels lists the kernels with the most GPU time.
func textKernels(w io.Writer, s *parse.Summary) {
	if len(s.Kernels) == 0 {
		return
	}
	n := min(summaryTopKernels, len(s.Kernels))
	fmt.Fprintf(w, "\nTop %d of %d kernels by time\n", n, len(s.Kernels))
	tw := newColumns(w, false)
	fmt.Fprintln(tw, "total\tshare\tcount\tavg\tp50\tper decode step\tin graph\tcomponent\tname")
	for _, k := range s.Kernels[:n] {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", fmtDuration(float64(k.TotalNs)), fmtValue(100*k.Share, "pct"),
			fmtCount(float64(k.Count)), fmtDuration(k.AvgNs), fmtDuration(k.P50Ns), fmtCount(k.PerDecodeStep),
			fmtCount(float64(k.InGraph)), termText(k.Component), clip(termText(k.Name), 90))
	}
	tw.Flush()
}

// textMemory is the memcpy and memset table.
func textMemory(w io.Writer, s *parse.Summary) {
	if len(s.Memory.Ops) == 0 {
		return
	}
	fmt.Fprintln(w, "\nMemory operations")
	tw := newColumns(w, true)
	fmt.Fprintln(tw, "op\tcount\tbytes\ttime\trate\t")
	for _, m := range s.Memory.Ops {
		name := m.Kind
		if m.Direction != "" {
			name += " " + m.Direction
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", termText(name), fmtCount(float64(m.Count)), fmtValue(float64(m.Bytes), "bytes"),
			fmtDuration(float64(m.TimeNs)), fmtValue(m.GBps*1e9, "bps"))
	}
	tw.Flush()
}

// textDevices is the per-device table of a multi-GPU profile.
func textDevices(w io.Writer, s *parse.Summary) {
	if len(s.Devices) == 0 {
		return
	}
	fmt.Fprintln(w, "\nDevices")
	tw := newColumns(w, true)
	fmt.Fprintln(tw, "device\tbusy\tkernels\tkernel time\tcommunication\t")
	for _, d := range s.Devices {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t\n", d.ID, fmtValue(d.BusyPct, "pct"), fmtCount(float64(d.Kernels)),
			fmtDuration(float64(d.KernelNs)), fmtDuration(float64(d.CommNs)))
	}
	tw.Flush()
}

// textExtra lists the metrics from outside the profile.
func textExtra(w io.Writer, s *parse.Summary) {
	if len(s.Extra) == 0 {
		return
	}
	fmt.Fprintln(w, "\nExtra metrics")
	tw := newColumns(w, false)
	fmt.Fprintln(tw, "metric\tvalue\tunit\tbetter\tsamples\tsource")
	for _, m := range s.Extra {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", termText(m.Name), fmtCount(m.Value), termText(m.Unit), termText(m.Better), len(m.Samples), termText(m.Source))
	}
	tw.Flush()
}

// textWarnings lists what the parser noticed.
func textWarnings(w io.Writer, s *parse.Summary) {
	if len(s.Warnings) == 0 {
		return
	}
	fmt.Fprintln(w, "\nWarnings")
	for _, wr := range s.Warnings {
		fmt.Fprintf(w, "  - %s: %s\n", termText(wr.Code), termText(wr.Message))
	}
}

// or is s, or def when s is empty.
func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
