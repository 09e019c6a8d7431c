package render

import (
	"strconv"
	"strings"
)

// target is what a markdown document is written for: a GitHub comment (no
// charts) or goldmark's HTML page (the charts as inline SVG, whole names).
type target int

const (
	forGitHub target = iota
	forHTML
)

// mdWriter writes the document model as GitHub-flavoured markdown.
type mdWriter struct {
	b  strings.Builder
	to target
}

func (w *mdWriter) line(l line, inCell bool) {
	for _, s := range l {
		switch s.kind {
		case lit:
			w.b.WriteString(s.s)
		case txt:
			w.b.WriteString(mdText(s.s))
		case code, whole:
			w.b.WriteString(mdCode(s.s, inCell))
		case strong:
			if t := mdText(s.s); t != "" {
				w.b.WriteString("**" + t + "**")
			}
		case kern:
			if w.to == forHTML {
				w.b.WriteString(htmlName(s.full))
			} else {
				w.b.WriteString(mdCode(s.s, inCell))
			}
		case brk:
			if inCell {
				w.b.WriteString("<br>")
			} else {
				w.b.WriteString("  \n")
			}
		}
	}
}

func (w *mdWriter) report(rep report) {
	w.blocks([]block{para{l: rep.verdict}})
	for _, l := range rep.context {
		w.blocks([]block{para{l: l}})
	}
	if len(rep.reasons) > 0 {
		w.blocks([]block{list{items: rep.reasons}})
	}
	for _, l := range rep.hint {
		w.blocks([]block{para{l: l}})
	}
	for _, s := range rep.sections {
		w.section(s)
	}
}

func (w *mdWriter) section(s section) {
	if s.collapsed {
		w.b.WriteString("<details><summary>" + htmlEscape(s.title) + "</summary>\n\n")
	} else {
		w.b.WriteString("### " + s.title + "\n\n")
	}
	w.blocks(s.blocks)
	if s.collapsed {
		w.b.WriteString("</details>\n\n")
	}
}

func (w *mdWriter) blocks(bs []block) {
	for _, b := range bs {
		switch b := b.(type) {
		case para:
			if b.small {
				w.b.WriteString("<sub>")
				w.line(b.l, false)
				w.b.WriteString("</sub>\n\n")
			} else {
				w.line(b.l, false)
				w.b.WriteString("\n\n")
			}
		case list:
			for _, it := range b.items {
				w.b.WriteString("- ")
				w.line(it, false)
				w.b.WriteString("\n")
			}
			w.b.WriteString("\n")
		case table:
			w.table(b)
		case chart:
			// Charts are for the HTML page: mermaid in a comment cannot
			// group bars or label them, and the tables say the same.
			if w.to == forHTML {
				w.b.WriteString(svgChart(b) + "\n\n")
			}
		case dist:
			if w.to == forHTML {
				w.b.WriteString(svgDist(b) + "\n\n")
			}
		case traceChart:
			if w.to == forHTML {
				if svg := svgTrace(b); svg != "" {
					w.b.WriteString(svg + "\n\n")
				}
			}
		case fold:
			if b.openInHTML && w.to == forHTML {
				w.blocks(b.blocks)
				continue
			}
			w.b.WriteString("<details><summary>" + htmlEscape(b.summary) + "</summary>\n\n")
			w.blocks(b.blocks)
			w.b.WriteString("</details>\n\n")
		}
	}
}

func (w *mdWriter) table(t table) {
	w.b.WriteString("|")
	for _, h := range t.head {
		// Headers can hold profile strings too (phase names).
		h = mdText(clip(h, 60))
		if h == "" {
			h = " "
		}
		w.b.WriteString(" " + h + " |")
	}
	w.b.WriteString("\n|")
	for i := range t.head {
		if i < len(t.right) && t.right[i] {
			w.b.WriteString("--:|")
		} else {
			w.b.WriteString("---|")
		}
	}
	w.b.WriteString("\n")
	for _, row := range t.rows {
		w.b.WriteString("|")
		for i := range t.head {
			w.b.WriteString(" ")
			if i < len(row) {
				w.line(row[i], true)
			}
			w.b.WriteString(" |")
		}
		w.b.WriteString("\n")
	}
	w.b.WriteString("\n")
	if t.more > 0 {
		w.b.WriteString("<sub>… and " + group(strconv.Itoa(t.more)) + " more</sub>\n\n")
	}
}
