package render

import (
	"fmt"
	"math"
	"strings"

	"github.com/nsys-gate/gate/compare"
	"github.com/nsys-gate/gate/parse"
)

// The GPU's sampled counters (nsys --gpu-metrics-devices) lead the
// bandwidth section: per phase, the DRAM traffic a step moves (TB/s, % of
// peak, bytes per step), SM and tensor activity, base → head; then what
// they tell about a phase whose step time moved, the clocks, vLLM's own
// analytical estimate beside the measurement, and in the HTML page the
// samples of one typical decode step, base against head.

// vllmGBps is the extra metric of vLLM's "MFU: … GB/s/GPU" log line (see
// parse/vllm), its dots escaped as compare.Segment does: an analytical
// estimate, not a measurement.
const vllmGBps = "extra.vllm%2Elog%2Emfu_gbps_per_gpu"

// sampledBlocks are the blocks of the sampled figures; none without them.
func sampledBlocks(r *compare.Result, peakB, peakH float64) []block {
	phases, byPhase := sampledPhases(r.Metrics)
	if len(phases) == 0 {
		return nil
	}
	var bs []block
	if s := r.Sampling; s != nil {
		bs = append(bs, para{l: line{plain("Sampled by Nsight Systems from the GPU's own counters at " + fmtHz(s.BaseHz, s.HeadHz) +
			", integrated over each step's GPU span; medians over the steps.")}})
	}
	t := table{head: []string{"Phase", "DRAM read (base → head)", "Read/step", "DRAM write (base → head)", "Write/step", "SMs active", "Tensor active", "Verdict"},
		right: []bool{false, true, true, true, true, true, true, false}}
	for _, pn := range phases {
		f := byPhase[pn]
		label := line{name(pn)}
		if b := boundOf(r.Sampling, pn); b != "" {
			label = append(label, plain(" ("+b+"-bound)"))
		}
		t.rows = append(t.rows, []line{label,
			cell(rateChange(f["dram_read_pct"], peakB, peakH)), bytesCell(f["dram_read_bytes"]),
			cell(rateChange(f["dram_write_pct"], peakB, peakH)), bytesCell(f["dram_write_bytes"]),
			cell(changeOf(f["sm_active"])), cell(changeOf(f["tensor_active"])),
			sampledVerdict(f)})
	}
	bs = append(bs, t)
	bs = append(bs, causeLines(r, phases, byPhase)...)
	if l := clockLine(r.Sampling); l != nil {
		bs = append(bs, para{l: l, small: true})
	}
	if l := analyticalLine(r.Metrics, byPhase[parse.PhaseDecode], peakB, peakH); l != nil {
		bs = append(bs, para{l: l})
	}
	if c := typicalTrace(r.Sampling, parse.PhaseDecode); c != nil {
		bs = append(bs, *c)
	}
	return bs
}

// sampledSection is the comment's part of the sampled figures: what they
// tell about a phase whose step time moved, and vLLM's own estimate beside
// the measurement. The per-phase table, the clocks and the typical step are
// in the HTML page.
func sampledSection(r *compare.Result) *section {
	phases, byPhase := sampledPhases(r.Metrics)
	if len(phases) == 0 || r.Verdict == compare.NotComparable {
		return nil
	}
	peakB, peakH := r.Base.GPU.PeakBandwidth, r.Head.GPU.PeakBandwidth
	s := &section{key: "sampled", title: "GPU counters", blocks: causeLines(r, phases, byPhase)}
	if l := analyticalLine(r.Metrics, byPhase[parse.PhaseDecode], peakB, peakH); l != nil {
		s.blocks = append(s.blocks, para{l: l})
	}
	return s
}

// sampledPhases groups the gpu_metrics.<phase>.<field>.p50 metrics by
// phase, phases in report order.
func sampledPhases(ms []compare.Metric) ([]string, map[string]map[string]*compare.Metric) {
	by := map[string]map[string]*compare.Metric{}
	var phases []string
	for i := range ms {
		m := &ms[i]
		s := segments(m.Name)
		if m.Group != compare.GroupGPUMetrics || len(s) != 4 {
			continue
		}
		if by[s[1]] == nil {
			by[s[1]] = map[string]*compare.Metric{}
			phases = append(phases, s[1])
		}
		by[s[1]][s[2]] = m
	}
	sortPhases(phases)
	return phases, by
}

// fmtHz is the sampling frequency of both sides: "20 kHz", or "10 kHz
// (base) and 5 kHz (head)".
func fmtHz(b, h float64) string {
	hz := func(v float64) string {
		switch {
		case v <= 0:
			return "an unknown rate"
		case v >= 1000:
			return sig3(v/1000) + " kHz"
		}
		return sig3(v) + " Hz"
	}
	switch {
	case b == h || b <= 0:
		return hz(h)
	case h <= 0:
		return hz(b)
	}
	return hz(b) + " (base) and " + hz(h) + " (head)"
}

// rateChange is a share of peak DRAM bandwidth as a rate and a share, base
// → head: "1.35 → 1.63 TB/s (28.0% → 33.8%)".
func rateChange(m *compare.Metric, peakB, peakH float64) string {
	if m == nil {
		return "—"
	}
	rate := func(has bool, pct, peak float64) string {
		if !has || peak <= 0 {
			return "—"
		}
		return fmtValue(pct/100*peak, "bps")
	}
	return rate(m.HasBase, m.Base, peakB) + " → " + rate(m.HasHead, m.Head, peakH) + " (" + fmtChange(*m) + ")"
}

// bytesCell is bytes per step base → head and the change, in bold with an
// emoji when it is judged bad.
func bytesCell(m *compare.Metric) line {
	if m == nil {
		return cell("—")
	}
	l := cell(fmtChange(*m) + " (")
	d := fmtDelta(*m)
	if e := verdictEmoji(m.Verdict); e != "" {
		return append(l, bold(d), plain(" "+e+")"))
	}
	return append(l, plain(d+")"))
}

func changeOf(m *compare.Metric) string {
	if m == nil {
		return "—"
	}
	return fmtChange(*m)
}

// sampledVerdict is the worst verdict of a phase's sampled metrics, with
// the note of the one that decided it.
func sampledVerdict(f map[string]*compare.Metric) line {
	var worst *compare.Metric
	for _, field := range []string{"dram_read_bytes", "dram_write_bytes", "dram_read_pct", "dram_write_pct", "sm_active", "tensor_active"} {
		if m := f[field]; m != nil && (worst == nil || severity(m.Verdict) < severity(worst.Verdict)) {
			worst = m
		}
	}
	if worst == nil {
		return nil
	}
	l := line{plain(verdictMark(worst.Verdict))}
	if worst.Verdict == compare.Fail || worst.Verdict == compare.Warn {
		l = append(l, plain(" — "+compare.Label(worst.Name)))
	}
	return l
}

// boundOf is what bounds a phase on both sides ("memory", "compute", or
// "memory → compute"), from the sampled shares.
func boundOf(s *compare.Sampling, pn string) string {
	if s == nil {
		return ""
	}
	for _, p := range s.Phases {
		if p.Phase != pn {
			continue
		}
		b, h := "", ""
		if p.Base != nil {
			b = p.Base.Bound
		}
		if p.Head != nil {
			h = p.Head.Bound
		}
		switch {
		case b == h || h == "":
			return b
		case b == "":
			return h
		}
		return b + " → " + h
	}
	return ""
}

// causeLines are the causeLine of each phase that has one, in order.
func causeLines(r *compare.Result, phases []string, byPhase map[string]map[string]*compare.Metric) []block {
	var bs []block
	for _, pn := range phases {
		if l := causeLine(r, pn, byPhase[pn]); l != nil {
			bs = append(bs, para{l: l})
		}
	}
	return bs
}

// causeLine says what the counters tell about a change of phase pn's step
// time, with the numbers behind it.
func causeLine(r *compare.Result, pn string, f map[string]*compare.Metric) line {
	var cause string
	if r.Sampling != nil {
		for _, p := range r.Sampling.Phases {
			if p.Phase == pn {
				cause = p.Cause
			}
		}
	}
	var span *compare.Metric
	for i := range r.Metrics {
		if r.Metrics[i].Name == "phases."+pn+".span.p50" {
			span = &r.Metrics[i]
		}
	}
	if cause == "" || span == nil {
		return nil
	}
	step := "its step takes " + fmtDelta(*span) + " (" + fmtChange(*span) + ")"
	moved := func(field, what string) string {
		m := f[field]
		if m == nil || !m.HasBase || !m.HasHead {
			return ""
		}
		return what + " " + fmtDelta(*m) + " (" + fmtChange(*m) + ")"
	}
	both := func(a, b string) string {
		return strings.Join(nonEmpty(a, b), ", ")
	}
	var say string
	switch cause {
	case compare.CauseMoreTraffic:
		say = " moves more DRAM data per step: " + both(moved("dram_read_bytes", "read"), moved("dram_write_bytes", "write")) + "; " + step + "."
	case compare.CauseLessTraffic:
		say = " moves less DRAM data per step: " + both(moved("dram_read_bytes", "read"), moved("dram_write_bytes", "write")) + "; " + step + "."
	case compare.CauseSlowerBandwidth:
		say = " is memory-bound and moves the same data more slowly: DRAM " + both(moved("dram_read_pct", "read"), moved("dram_write_pct", "write")) +
			" of peak; " + step + ". Look for a changed access pattern, contention or a lower memory clock."
	case compare.CauseGPUWaiting:
		say = "'s SMs are active for less of a longer step: " + moved("sm_active", "SMs active") + "; " + step +
			". The GPU waits: host stalls, launch gaps, synchronisation."
	default:
		return nil
	}
	return line{plain("➡️ "), name(pn), plain(say)}
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// clockLine is the GPC clock over each phase's steps, base → head: a
// throttled run shows here.
func clockLine(s *compare.Sampling) line {
	if s == nil {
		return nil
	}
	clock := func(x *compare.SampledSide) string {
		if x == nil || x.ClockMedianMHz <= 0 {
			return "—"
		}
		return fmt.Sprintf("%.0f / %.0f MHz", x.ClockMinMHz, x.ClockMedianMHz)
	}
	var parts []string
	for _, p := range s.Phases {
		if (p.Base == nil || p.Base.ClockMedianMHz <= 0) && (p.Head == nil || p.Head.ClockMedianMHz <= 0) {
			continue
		}
		parts = append(parts, p.Phase+" "+clock(p.Base)+" → "+clock(p.Head))
	}
	if len(parts) == 0 {
		return nil
	}
	return line{plain("GPC clock over the steps (min / median, base → head): "), text(strings.Join(parts, "; ")), plain(".")}
}

// analyticalLine puts vLLM's analytical GB/s beside the measured decode
// DRAM traffic, where the workload logged it.
func analyticalLine(ms []compare.Metric, decode map[string]*compare.Metric, peakB, peakH float64) line {
	var v *compare.Metric
	for i := range ms {
		if ms[i].Name == vllmGBps {
			v = &ms[i]
		}
	}
	if v == nil {
		return nil
	}
	gbps := func(has bool, x float64) string {
		if !has {
			return "—"
		}
		return fmtValue(x*1e9, "bps")
	}
	l := line{plain("vLLM's own estimate (analytical, from its MFU log line): " + gbps(v.HasBase, v.Base) + " → " + gbps(v.HasHead, v.Head) + " per GPU")}
	r, w := decode["dram_read_pct"], decode["dram_write_pct"]
	if r == nil || w == nil {
		return append(l, plain("."))
	}
	measured := func(has bool, rp, wp, peak float64) string {
		if !has || peak <= 0 {
			return "—"
		}
		return fmtValue((rp+wp)/100*peak, "bps")
	}
	return append(l, plain("; measured over the decode steps, read and write: "+
		measured(r.HasBase && w.HasBase, r.Base, w.Base, peakB)+" → "+measured(r.HasHead && w.HasHead, r.Head, w.Head, peakH)+"."))
}

// traceChart draws the sampled DRAM throughput over one typical step,
// base against head (HTML only: a comment has no room for it).
type traceChart struct {
	title      string
	base, head *parse.StepTrace
}

func (traceChart) isBlock() {}

// typicalTrace is the chart of phase pn's typical step, or nil.
func typicalTrace(s *compare.Sampling, pn string) *traceChart {
	if s == nil {
		return nil
	}
	for _, p := range s.Phases {
		if p.Phase != pn {
			continue
		}
		c := &traceChart{title: "DRAM throughput over a typical " + pn + " step (% of peak)"}
		if p.Base != nil {
			c.base = p.Base.Typical
		}
		if p.Head != nil {
			c.head = p.Head.Typical
		}
		if c.base == nil && c.head == nil {
			return nil
		}
		return c
	}
	return nil
}

// svgTrace draws c as step lines over the step's time: read solid, write
// dashed, base and head in their colours; the step's own span is shaded.
func svgTrace(c traceChart) string {
	const (
		width, height = 720, 260
		left, right   = 56, 16
		top, bottom   = 44, 36
	)
	var spanNs, lo, hi, top100 float64
	for _, tr := range []*parse.StepTrace{c.base, c.head} {
		if tr == nil {
			continue
		}
		spanNs = math.Max(spanNs, float64(tr.SpanNs))
		for _, p := range tr.Samples {
			lo = math.Min(lo, float64(p.OffsetNs))
			hi = math.Max(hi, float64(p.OffsetNs+p.Ns))
			top100 = math.Max(top100, math.Max(finite(p.DRAMRead), finite(p.DRAMWrite)))
		}
	}
	if hi <= lo {
		return ""
	}
	yMax := math.Min(100, math.Max(10, math.Ceil(top100/10)*10))
	plotW, plotH := float64(width-left-right), float64(height-top-bottom)
	x := func(ns float64) float64 { return float64(left) + (ns-lo)/(hi-lo)*plotW }
	y := func(pct float64) float64 { return float64(top) + plotH - finite(pct)/yMax*plotH }
	var b strings.Builder
	fmt.Fprintf(&b, `<figure class="chart"><svg role="img" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`, width, height, width, height)
	fmt.Fprintf(&b, `<title>%s</title>`, htmlEscape(c.title))
	fmt.Fprintf(&b, `<text x="0" y="16" font-size="14" font-weight="bold">%s</text>`, htmlEscape(c.title))
	fmt.Fprintf(&b, `<text x="%d" y="35" style="fill:var(--base)">base</text><text x="%d" y="35" style="fill:var(--head)">head</text><text x="%d" y="35">solid: read, dashed: write</text>`, left, left+44, left+96)
	fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%.1f" style="fill:var(--alt)"/>`, x(0), top, x(spanNs)-x(0), plotH)
	for _, v := range []float64{0, yMax / 2, yMax} {
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" style="stroke:var(--line)"/><text x="%d" y="%.1f" text-anchor="end">%s%%</text>`,
			left, y(v), width-right, y(v), left-6, y(v)+4, sig3(v))
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">0</text><text x="%.1f" y="%d" text-anchor="middle">%s</text>`,
		x(0), height-bottom+16, x(spanNs), height-bottom+16, htmlEscape(fmtDuration(spanNs)))
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">time from the step's first GPU work</text>`, left+int(plotW/2), height-6)
	for _, side := range []struct {
		tr  *parse.StepTrace
		cls string
	}{{c.base, "base"}, {c.head, "head"}} {
		if side.tr == nil {
			continue
		}
		for _, write := range []bool{false, true} {
			var pts []string
			for _, p := range side.tr.Samples {
				v := p.DRAMRead
				if write {
					v = p.DRAMWrite
				}
				pts = append(pts, fmt.Sprintf("%.1f,%.1f %.1f,%.1f", x(float64(p.OffsetNs)), y(v), x(float64(p.OffsetNs+p.Ns)), y(v)))
			}
			dash := ""
			if write {
				dash = ";stroke-dasharray:4 3"
			}
			fmt.Fprintf(&b, `<polyline points="%s" style="fill:none;stroke:var(--%s);stroke-width:2%s"/>`, strings.Join(pts, " "), side.cls, dash)
		}
	}
	b.WriteString(`</svg></figure>`)
	return b.String()
}
