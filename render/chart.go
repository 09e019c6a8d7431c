package render

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
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
		switch {
		case top >= 1e9:
			unit, div = "s", 1e9
		case top >= 1e6:
			unit, div = "ms", 1e6
		case top >= 1e3:
			unit, div = "µs", 1e3
		}
	} else {
		unit = chartLabel(c.unit)
	}
	return labels, base, head, unit, div
}

func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0
	}
	return v
}

// num prints a chart value plainly (mermaid wants bare numbers).
func num(v float64) string {
	s := strconv.FormatFloat(v, 'f', 3, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "" || s == "-0" {
		return "0"
	}
	return s
}

// mermaidChart writes c as a mermaid xychart-beta: head as bars, base as a
// line over them (mermaid draws several bar series on top of each other).
func mermaidChart(c chart) string {
	labels, base, head, unit, div := c.prepared()
	if len(labels) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("```mermaid\nxychart-beta\n")
	b.WriteString("    title \"" + chartLabel(c.title) + "\"\n")
	q := make([]string, len(labels))
	for i, l := range labels {
		q[i] = "\"" + l + "\""
	}
	b.WriteString("    x-axis [" + strings.Join(q, ", ") + "]\n")
	b.WriteString("    y-axis \"" + unit + "\"\n")
	vals := func(vs []float64) string {
		out := make([]string, len(vs))
		for i, v := range vs {
			out[i] = num(v / div)
		}
		return strings.Join(out, ", ")
	}
	b.WriteString("    bar [" + vals(head) + "]\n")
	b.WriteString("    line [" + vals(base) + "]\n")
	b.WriteString("```\n\n<sub>Bars: head; line: base.</sub>\n\n")
	return b.String()
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

// textChart draws c with block characters for a terminal.
func textChart(c chart) string {
	labels, base, head, unit, div := c.prepared()
	if len(labels) == 0 {
		return ""
	}
	const width = 40
	maxV, wl := 0.0, 0
	for i := range labels {
		maxV = math.Max(maxV, math.Max(base[i], head[i]))
		wl = max(wl, len(labels[i]))
	}
	if maxV == 0 {
		maxV = 1
	}
	var b strings.Builder
	b.WriteString(chartLabel(c.title) + " (" + unit + ")\n")
	for i, l := range labels {
		for j, v := range []float64{base[i], head[i]} {
			tag, lab := "base", l
			if j == 1 {
				tag, lab = "head", ""
			}
			n := int(math.Round(v / maxV * width))
			fmt.Fprintf(&b, "  %-*s  %s %s %s\n", wl, lab, tag, strings.Repeat("█", n)+strings.Repeat("·", width-n), sig3(v/div))
		}
	}
	return b.String()
}
