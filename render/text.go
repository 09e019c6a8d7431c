package render

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/nsys-gate/gate/compare"
)

// Text writes the full report for a terminal: aligned columns, no markdown,
// untrusted strings stripped of control characters so that a kernel name
// cannot move the cursor or change colours.
func Text(w io.Writer, r *compare.Result, opts Options) error {
	if r == nil {
		return errNil
	}
	rep := build(r, opts, fullPlan())
	var b strings.Builder
	b.WriteString(textLine(rep.verdict) + "\n")
	for _, l := range rep.context {
		b.WriteString(textLine(l) + "\n")
	}
	for _, l := range rep.reasons {
		b.WriteString("  - " + textLine(l) + "\n")
	}
	for _, l := range rep.hint {
		b.WriteString(textLine(l) + "\n")
	}
	for _, s := range rep.sections {
		b.WriteString("\n" + s.title + "\n" + strings.Repeat("-", len([]rune(s.title))) + "\n")
		textBlocks(&b, s.blocks)
	}
	if _, err := io.WriteString(w, noCommands(b.String())); err != nil {
		return fmt.Errorf("render: text: %w", err)
	}
	return nil
}

// maxTermName is the most runes of a name in a terminal report.
const maxTermName = 72

func textLine(l line) string {
	var b strings.Builder
	for _, s := range l {
		switch s.kind {
		case lit, strong:
			b.WriteString(s.s)
		case code:
			// Terminals are narrower than a browser.
			b.WriteString(termText(clipMiddle(s.s, maxTermName)))
		default:
			b.WriteString(termText(s.s))
		}
	}
	return b.String()
}

func textBlocks(b *strings.Builder, bs []block) {
	for i, bl := range bs {
		if i > 0 {
			b.WriteString("\n")
		}
		switch bl := bl.(type) {
		case para:
			b.WriteString(textLine(bl.l) + "\n")
		case list:
			for _, it := range bl.items {
				b.WriteString("  - " + textLine(it) + "\n")
			}
		case table:
			textTable(b, bl)
		case chart:
			b.WriteString(textChart(bl))
		case fold:
			textBlocks(b, bl.blocks)
		}
	}
}

func textTable(b *strings.Builder, t table) {
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	row := func(cells []string) {
		// Tabs inside a cell would shift the columns; termText removed
		// them from untrusted text and gate's own text has none.
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	head := make([]string, len(t.head))
	for i, h := range t.head {
		head[i] = termText(clip(h, 60))
	}
	row(head)
	for _, r := range t.rows {
		cells := make([]string, len(t.head))
		for i := range cells {
			if i < len(r) {
				cells[i] = textLine(r[i])
			}
		}
		row(cells)
	}
	tw.Flush()
	if t.more > 0 {
		fmt.Fprintf(b, "... and %d more\n", t.more)
	}
}
