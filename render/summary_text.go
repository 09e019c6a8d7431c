package render

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/nsys-gate/gate/parse"
)

// summaryTopKernels is how many kernels the table view lists.
const summaryTopKernels = 15

// SummaryText writes a Summary as plain-text tables for a person at a
// terminal (`gate parse --format table`): source and GPU, GPU time, phases,
// CUDA graphs, components, the top kernels, memory, devices, extra metrics
// and warnings. Strings
// from the profile are stripped of control characters.
func SummaryText(w io.Writer, s *parse.Summary) error {
	ew := &errWriter{w: w}
	src := s.Source
	fmt.Fprintf(ew, "%s", stClean(src.File))
	if src.NsysVersion != "" {
		fmt.Fprintf(ew, "  nsys %s", stClean(src.NsysVersion))
	}
	if src.ExportSchema != "" {
		fmt.Fprintf(ew, " (export schema %s)", stClean(src.ExportSchema))
	}
	fmt.Fprintf(ew, "  trace %s", stOr(src.TraceMode, "?"))
	if src.Scope != "" {
		fmt.Fprintf(ew, "  scope %q", stClean(src.Scope))
	}
	fmt.Fprintln(ew)
	g := s.GPU
	fmt.Fprintf(ew, "GPU: %s", stOr(stClean(g.Name), "unknown"))
	var gd []string
	if g.Chip != "" {
		gd = append(gd, stClean(g.Chip))
	}
	if g.SMs > 0 {
		gd = append(gd, fmt.Sprintf("%d SMs", g.SMs))
	}
	if g.MemoryBytes > 0 {
		gd = append(gd, fmt.Sprintf("%.1f GiB", float64(g.MemoryBytes)/(1<<30)))
	}
	if g.PeakBandwidth > 0 {
		gd = append(gd, fmt.Sprintf("peak %.2f TB/s", g.PeakBandwidth/1e12))
	}
	if g.Driver != "" {
		gd = append(gd, "driver "+stClean(g.Driver))
	}
	if g.CUDA != "" {
		gd = append(gd, "CUDA "+stClean(g.CUDA))
	}
	if len(gd) > 0 {
		fmt.Fprintf(ew, " (%s)", strings.Join(gd, ", "))
	}
	fmt.Fprintf(ew, ", %d device(s)\n", g.Devices)
	t := s.GPUTime
	fmt.Fprintf(ew, "Window %s: GPU busy %.1f%%, idle %.1f%%", stNs(float64(t.WindowNs)), t.BusyPct, t.IdlePct)
	if len(t.Gaps) > 0 {
		var gaps []string
		for _, gp := range t.Gaps {
			gaps = append(gaps, stNs(float64(gp.Ns)))
		}
		fmt.Fprintf(ew, "; longest idle gaps %s", strings.Join(gaps, ", "))
	}
	fmt.Fprintln(ew)

	if len(s.Phases) > 0 {
		fmt.Fprintln(ew, "\nPhases (per step: p50 / p90)")
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "phase\tsteps\tspan\tbusy\tkernel time\tkernels\tmemcpys\tDtoH\tsyncs\t")
		for _, name := range []string{parse.PhasePrefill, parse.PhaseDecode, parse.PhaseMixed} {
			p := s.Phases[name]
			if p == nil {
				continue
			}
			fmt.Fprintf(tw, "%s\t%d\t%s / %s\t%s / %s\t%s / %s\t%s\t%s\t%s\t%s\t\n", name, p.Steps,
				stNs(p.Span.P50), stNs(p.Span.P90), stNs(p.Busy.P50), stNs(p.Busy.P90),
				stNs(p.KernelTime.P50), stNs(p.KernelTime.P90),
				stNum(p.Kernels.Mean), stNum(p.Memcpys.Mean), stNum(p.DtoH.Mean), stNum(p.Syncs.Mean))
		}
		tw.Flush()
	}

	cg := s.CUDAGraphs
	fmt.Fprintf(ew, "\nCUDA graphs (%s mode): %d replays, %.1f%% of launches and %.1f%% of kernel time in graphs\n",
		stOr(cg.Mode, "?"), cg.Replays, cg.CoverageCount, cg.CoverageTime)

	if len(s.Components) > 0 {
		fmt.Fprintln(ew, "\nComponents (share of kernel time)")
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', tabwriter.AlignRight)
		header := "component\t"
		for _, pc := range s.Components {
			header += stClean(pc.Phase) + "\t"
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
			row := stClean(n) + "\t"
			for _, pc := range s.Components {
				cell := "-"
				for _, c := range pc.Components {
					if c.Name == n {
						cell = fmt.Sprintf("%.1f%% %s", 100*c.Share, stNs(float64(c.TimeNs)))
					}
				}
				row += cell + "\t"
			}
			fmt.Fprintln(tw, row)
		}
		tw.Flush()
	}

	if len(s.Kernels) > 0 {
		n := min(summaryTopKernels, len(s.Kernels))
		fmt.Fprintf(ew, "\nTop %d of %d kernels by time\n", n, len(s.Kernels))
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "total\tshare\tcount\tavg\tp50\tper decode step\tin graph\tcomponent\tname")
		for _, k := range s.Kernels[:n] {
			fmt.Fprintf(tw, "%s\t%.1f%%\t%d\t%s\t%s\t%s\t%d\t%s\t%s\n", stNs(float64(k.TotalNs)), 100*k.Share, k.Count,
				stNs(k.AvgNs), stNs(k.P50Ns), stNum(k.PerDecodeStep), k.InGraph, stClean(k.Component), stTrim(stClean(k.Name), 90))
		}
		tw.Flush()
	}

	if len(s.Memory.Ops) > 0 {
		fmt.Fprintln(ew, "\nMemory operations")
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "op\tcount\tbytes\ttime\tGB/s\t")
		for _, m := range s.Memory.Ops {
			name := m.Kind
			if m.Direction != "" {
				name += " " + m.Direction
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%.2f\t\n", stClean(name), m.Count, stBytes(m.Bytes), stNs(float64(m.TimeNs)), m.GBps)
		}
		tw.Flush()
	}

	if len(s.Devices) > 0 {
		fmt.Fprintln(ew, "\nDevices")
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "device\tbusy\tkernels\tkernel time\tcommunication\t")
		for _, d := range s.Devices {
			fmt.Fprintf(tw, "%d\t%.1f%%\t%d\t%s\t%s\t\n", d.ID, d.BusyPct, d.Kernels, stNs(float64(d.KernelNs)), stNs(float64(d.CommNs)))
		}
		tw.Flush()
	}

	if len(s.Extra) > 0 {
		fmt.Fprintln(ew, "\nExtra metrics")
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "metric\tvalue\tunit\tbetter\tsamples\tsource")
		for _, m := range s.Extra {
			fmt.Fprintf(tw, "%s\t%.4g\t%s\t%s\t%d\t%s\n", stClean(m.Name), m.Value, stClean(m.Unit), stClean(m.Better), len(m.Samples), stClean(m.Source))
		}
		tw.Flush()
	}

	if len(s.Warnings) > 0 {
		fmt.Fprintln(ew, "\nWarnings")
		for _, wr := range s.Warnings {
			fmt.Fprintf(ew, "  - %s: %s\n", stClean(wr.Code), stClean(wr.Message))
		}
	}
	return ew.err
}

// errWriter keeps the first write error so the text code stays linear.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return len(p), nil
	}
	_, e.err = e.w.Write(p)
	return len(p), nil
}

// stNs formats nanoseconds with a unit that keeps 3-4 significant digits.
func stNs(ns float64) string {
	switch a := max(ns, -ns); {
	case a >= 1e9:
		return fmt.Sprintf("%.3f s", ns/1e9)
	case a >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case a >= 1e3:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	}
	return fmt.Sprintf("%.0f ns", ns)
}

func stBytes(b int64) string {
	switch f := float64(b); {
	case f >= 1e9:
		return fmt.Sprintf("%.2f GB", f/1e9)
	case f >= 1e6:
		return fmt.Sprintf("%.2f MB", f/1e6)
	case f >= 1e3:
		return fmt.Sprintf("%.1f kB", f/1e3)
	}
	return fmt.Sprintf("%d B", b)
}

// stNum prints a per-step count: an integer when it is one.
func stNum(v float64) string {
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%.2f", v)
}

func stOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// stClean drops control characters (terminal escapes, newlines, tabs that
// would break the tables) from strings that come from a profile.
func stClean(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

func stTrim(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
