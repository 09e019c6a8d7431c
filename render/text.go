package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/nsys-gate/gate/compare"
)

// Text writes the report for a terminal in the PR comment's layout (one row
// per cause, the key numbers, the details; see the package doc): aligned
// columns, prose wrapped at 100 columns, no markdown, untrusted strings
// stripped of control characters so that a kernel name cannot move the
// cursor or change colours.
func Text(w io.Writer, r *compare.Result, opts Options) error {
	if r == nil {
		return errNil
	}
	p := commentPlan()
	p.terminal = true
	rep := build(r, opts, p)
	var b strings.Builder
	b.WriteString(wrap(textLine(rep.verdict), termWidth, "  ") + "\n")
	for _, l := range rep.context {
		b.WriteString(wrap(textLine(l), termWidth, "  ") + "\n")
	}
	for _, l := range rep.reasons {
		b.WriteString("  - " + textLine(l) + "\n")
	}
	for _, l := range rep.hint {
		b.WriteString(textLine(l) + "\n")
	}
	for _, s := range rep.sections {
		b.WriteString("\n" + s.title + "\n" + strings.Repeat("-", displayWidth(s.title)) + "\n")
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
		case brk:
			b.WriteString("; ")
		default:
			// Untrusted text, a kernel's short name (kern) and a name
			// never shortened (whole), as they are.
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
			b.WriteString(wrap(textLine(bl.l), termWidth, "") + "\n")
		case list:
			for _, it := range bl.items {
				b.WriteString("  - " + wrap(textLine(it), termWidth-4, "    ") + "\n")
			}
		case table:
			textTable(b, bl)
		case fold:
			textBlocks(b, bl.blocks)
		}
	}
}

func textTable(b *strings.Builder, t table) {
	head := make([]string, len(t.head))
	for i, h := range t.head {
		head[i] = termText(clip(h, 60))
	}
	rows := [][]string{head}
	for _, r := range t.rows {
		// A cell's second line (after a break) goes on a row of its own,
		// indented, so that the columns stay narrow.
		var lines [][]string
		for i := range t.head {
			var parts []line
			if i < len(r) {
				parts = splitLine(r[i])
			}
			for j, p := range parts {
				for len(lines) <= j {
					lines = append(lines, make([]string, len(t.head)))
				}
				lines[j][i] = textLine(p)
				if j > 0 {
					lines[j][i] = "   " + lines[j][i]
				}
			}
		}
		rows = append(rows, lines...)
	}
	for i := range rows {
		rows[i] = append(rows[i], "") // every cell ends at its tab
	}
	for _, l := range alignColumns(rows, 2, false) {
		b.WriteString(l + "\n")
	}
	if t.more > 0 {
		fmt.Fprintf(b, "... and %d more\n", t.more)
	}
}

// splitLine cuts l at its breaks.
func splitLine(l line) []line {
	out := []line{nil}
	for _, s := range l {
		if s.kind == brk {
			out = append(out, nil)
			continue
		}
		out[len(out)-1] = append(out[len(out)-1], s)
	}
	return out
}

// termWidth is the width prose is wrapped to on a terminal.
const termWidth = 100

// wrap breaks s at spaces into lines of at most width columns (a longer word
// keeps its own line), indenting the lines after the first.
func wrap(s string, width int, indent string) string {
	var b strings.Builder
	n := 0
	for i, w := range strings.Split(s, " ") {
		l := displayWidth(w)
		if i > 0 && n+1+l > width {
			b.WriteString("\n" + indent)
			n = 0
		} else if i > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += l
	}
	return b.String()
}
