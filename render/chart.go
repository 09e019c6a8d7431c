package render

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/nsys-gate/gate/compare"
	"github.com/nsys-gate/gate/internal/stats"
)

// maxBars bounds the categories of one chart; the largest are kept.
const maxBars = 12

// prepared returns the chart's categories ordered by size (largest first),
// at most maxBars, with labels made safe, and the scale to print values in.
func (c chart) prepared() (labels []string, base, head []float64, unit string, div float64) {
	idx := make([]int, len(c.labels))
	for i := range idx {
		idx[i] = i
	}
	val := func(i int) float64 {
		v := math.Max(finite(c.base[i]), finite(c.head[i]))
		return v
	}
	sort.SliceStable(idx, func(a, b int) bool {
		if va, vb := val(idx[a]), val(idx[b]); va != vb {
			return va > vb
		}
		return c.labels[idx[a]] < c.labels[idx[b]]
	})
	if len(idx) > maxBars {
		idx = idx[:maxBars]
	}
	top := 0.0
	for _, i := range idx {
		labels = append(labels, chartLabel(c.labels[i]))
		base = append(base, finite(c.base[i]))
		head = append(head, finite(c.head[i]))
		top = math.Max(top, val(i))
	}
	unit, div = "ns", 1
	if c.unit == "ns" {
		unit, div = timeScale(top)
	} else {
		unit = chartLabel(c.unit)
	}
	return labels, base, head, unit, div
}

// timeScale is the unit to print nanoseconds up to top in, and its size.
func timeScale(top float64) (unit string, div float64) {
	switch {
	case top >= 1e9:
		return "s", 1e9
	case top >= 1e6:
		return "ms", 1e6
	case top >= 1e3:
		return "µs", 1e3
	}
	return "ns", 1
}

func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0
	}
	return v
}

// svgChart draws c as horizontal bars, base and head per category, as one
// line of inline SVG (a raw HTML block in markdown must not contain blank
// lines). It needs no script and no network.
func svgChart(c chart) string {
	labels, base, head, unit, div := c.prepared()
	if len(labels) == 0 {
		return ""
	}
	const (
		width  = 720
		left   = 170
		bars   = 400
		rowH   = 34
		top    = 44
		barH   = 12
		margin = 8
	)
	maxV := 0.0
	for i := range labels {
		maxV = math.Max(maxV, math.Max(base[i], head[i]))
	}
	if maxV == 0 {
		maxV = 1
	}
	height := top + rowH*len(labels) + margin
	var b strings.Builder
	fmt.Fprintf(&b, `<figure class="chart"><svg role="img" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`, width, height, width, height)
	fmt.Fprintf(&b, `<title>%s</title>`, htmlEscape(chartLabel(c.title)))
	fmt.Fprintf(&b, `<text x="0" y="16" font-size="14" font-weight="bold">%s (%s)</text>`, htmlEscape(chartLabel(c.title)), htmlEscape(unit))
	fmt.Fprintf(&b, `<rect x="%d" y="26" width="10" height="10" class="base"/><text x="%d" y="35">base</text>`, left, left+14)
	fmt.Fprintf(&b, `<rect x="%d" y="26" width="10" height="10" class="head"/><text x="%d" y="35">head</text>`, left+60, left+74)
	for i, l := range labels {
		y := top + i*rowH
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`, left-8, y+barH+5, htmlEscape(l))
		for j, v := range []float64{base[i], head[i]} {
			cls := "base"
			if j == 1 {
				cls = "head"
			}
			w := int(math.Round(v / maxV * bars))
			by := y + j*(barH+2)
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" class="%s"/>`, left, by, w, barH, cls)
			fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`, left+w+4, by+barH-2, htmlEscape(sig3(v/div)))
		}
	}
	b.WriteString(`</svg></figure>`)
	return b.String()
}

// dist is one phase's step times, base against head: the HTML page draws
// each side as its steps (one dot each) over a box from the 25th to the
// 75th percentile with the median marked, on one time axis.
type dist struct {
	title      string // gate's own text with the phase name, escaped when drawn
	base, head []float64
}

func (dist) isBlock() {}

// stepChartSection draws each phase's step-time distribution, base against
// head, from the per-step samples (HTML only).
func stepChartSection(r *compare.Result, p plan) *section {
	if !p.chart || len(r.Steps) == 0 {
		return nil
	}
	s := &section{key: "steps", title: "Step times"}
	for _, ps := range r.Steps {
		if len(ps.Base)+len(ps.Head) == 0 {
			continue
		}
		s.blocks = append(s.blocks, dist{title: compare.PhaseLabel(ps.Phase) + " step time", base: ps.Base, head: ps.Head})
	}
	s.blocks = append(s.blocks, para{l: line{plain("One dot per step; the box spans the middle half of the steps, the line in it is the median; rings at the right end are the slowest 2% of steps, beyond the axis.")}, small: true})
	return s
}

// svgDist draws d as inline SVG on one line (a raw HTML block in markdown
// must not contain blank lines).
func svgDist(d dist) string {
	const (
		width = 720
		left  = 70
		right = 30
		rowH  = 34
		top   = 30
		axis  = 30
	)
	var all []float64
	for _, v := range append(append([]float64(nil), d.base...), d.head...) {
		if f := finite(v); f > 0 {
			all = append(all, f)
		}
	}
	if len(all) == 0 {
		return ""
	}
	// The axis spans the steps but the slowest few: one stalled step must
	// not squeeze the rest into a corner. Those beyond are drawn at the edge.
	sorted := slices.Sorted(slices.Values(all))
	lo, hi := sorted[0], stats.Percentile(sorted, 0.98)
	if hi == lo {
		hi = sorted[len(sorted)-1]
	}
	if hi == lo {
		lo, hi = lo*0.9, hi*1.1+1
	}
	pad := (hi - lo) * 0.05
	lo, hi = math.Max(0, lo-pad), hi+pad
	unit, div := timeScale(hi)
	x := func(v float64) float64 { return left + (v-lo)/(hi-lo)*(width-left-right) }
	height := top + 2*rowH + axis
	var b strings.Builder
	fmt.Fprintf(&b, `<figure class="chart"><svg role="img" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`, width, height, width, height)
	fmt.Fprintf(&b, `<title>%s</title>`, htmlEscape(chartLabel(d.title)))
	fmt.Fprintf(&b, `<text x="0" y="16" font-size="14" font-weight="bold">%s (%s)</text>`, htmlEscape(chartLabel(d.title)), unit)
	for i, side := range []struct {
		name string
		vs   []float64
	}{{"base", d.base}, {"head", d.head}} {
		y := float64(top + i*rowH + rowH/2)
		fmt.Fprintf(&b, `<text x="%d" y="%.0f" text-anchor="end">%s</text>`, left-10, y+4, side.name)
		vs := slices.Sorted(slices.Values(finiteAll(side.vs)))
		if len(vs) == 0 {
			fmt.Fprintf(&b, `<text x="%d" y="%.0f" class="muted">no steps</text>`, left, y+4)
			continue
		}
		q1, med, q3 := stats.Percentile(vs, 0.25), stats.Percentile(vs, 0.5), stats.Percentile(vs, 0.75)
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.0f" width="%.1f" height="18" class="box"/>`, x(q1), y-9, math.Max(1, x(q3)-x(q1)))
		for j, v := range vs {
			// Spread the dots a little up and down so that equal steps stay visible.
			dy := float64(j%5-2) * 2.5
			cls := side.name
			if v > hi {
				v, cls = hi, "out" // beyond the axis: a ring at its end
			}
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="2.5" class="%s"/>`, x(v), y+dy, cls)
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.0f" width="2" height="24" class="median"/>`, x(med)-1, y-12)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" text-anchor="middle" font-size="11">%s</text>`, x(med), y-14, sig3(med/div))
	}
	ay := top + 2*rowH + 6
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" class="axis"/>`, left, ay, width-right, ay)
	for _, t := range ticks(lo, hi, 5) {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" class="axis"/><text x="%.1f" y="%d" text-anchor="middle" font-size="11">%s</text>`,
			x(t), ay, x(t), ay+4, x(t), ay+17, sig3(t/div))
	}
	b.WriteString(`</svg></figure>`)
	return b.String()
}

func finiteAll(vs []float64) []float64 {
	var out []float64
	for _, v := range vs {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			out = append(out, v)
		}
	}
	return out
}

// ticks are about n round values between lo and hi.
func ticks(lo, hi float64, n int) []float64 {
	step := math.Pow(10, math.Floor(math.Log10((hi-lo)/float64(n))))
	for _, m := range []float64{1, 2, 5, 10} {
		if (hi-lo)/(step*m) <= float64(n) {
			step *= m
			break
		}
	}
	var out []float64
	for t := math.Ceil(lo/step) * step; t <= hi; t += step {
		out = append(out, t)
	}
	return out
}
