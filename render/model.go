package render

// A report is built once as a small document model (sections of paragraphs,
// lists, tables and charts whose text is typed as trusted or untrusted) and
// then written as markdown or text. Keeping the untrusted/trusted split in
// the model means escaping happens in one place per format, not at every
// call site.

// spanKind says how a piece of inline text is written.
type spanKind int

const (
	lit    spanKind = iota // gate's own text, written as is
	txt                    // untrusted text, escaped
	code                   // untrusted name, written as a code span
	strong                 // gate's own text, in bold
	kern                   // untrusted kernel name: s short, full in full
	brk                    // a line break inside a table cell
	whole                  // untrusted name as a code span, never shortened
)

type span struct {
	kind spanKind
	s    string
	full string // kern: the whole name, which the HTML page shows
}

// line is inline content: one paragraph, list item or table cell.
type line []span

// plain is gate's own text; text untrusted text; name an untrusted name
// (kernel, step, metric), clipped in the middle to maxName runes; bold
// gate's own emphasis.
func plain(s string) span { return span{kind: lit, s: s} }
func text(s string) span  { return span{kind: txt, s: s} }
func name(s string) span  { return span{kind: code, s: clipMiddle(s, maxName)} }
func bold(s string) span  { return span{kind: strong, s: s} }

// kernel is a kernel name as this report shows it: short (see names) in
// the comment and on a terminal, whole in the HTML page.
func (nm names) kernel(full string) span {
	return span{kind: kern, s: nm.short(full), full: clipMiddle(full, maxName)}
}

// wholeName is a name written in full everywhere, even on a terminal (the
// details' list of names in full).
func wholeName(s string) span { return span{kind: whole, s: clipMiddle(s, maxName)} }

// br breaks a table cell's line: <br> in markdown, "; " on a terminal.
func br() span { return span{kind: brk} }

// cell is a table cell of untrusted (or formatted) text, clipped so that no
// single value (a forged threshold, a long component name) can fill a report.
func cell(s string) line { return line{text(clip(s, maxCell))} }

// maxCell is the most runes of one table cell's text.
const maxCell = 200

// block is one of para, list, table, chart.
type block interface{ isBlock() }

type para struct {
	l     line
	small bool // a footnote: <sub> in markdown
}

type list struct{ items []line }

type table struct {
	head  []string // gate's own text
	right []bool   // right-align column i (numbers)
	rows  [][]line
	more  int // rows left out, said below the table
}

// chart compares base and head per category (components' time).
type chart struct {
	title  string
	unit   string
	labels []string // untrusted, passed through chartLabel
	base   []float64
	head   []float64
}

func (para) isBlock()  {}
func (list) isBlock()  {}
func (table) isBlock() {}
func (chart) isBlock() {}

// section is one titled part of the report. Collapsed sections go inside
// <details> in markdown.
type section struct {
	key       string // stable id, used by the budget
	title     string
	collapsed bool
	blocks    []block
}

// fold is a collapsible part inside a section (<details> in markdown).
type fold struct {
	summary string // gate's own text
	blocks  []block
	// unfolded in the HTML page, where there is room (charts)
	openInHTML bool
}

func (fold) isBlock() {}
