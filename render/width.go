package render

import (
	"io"
	"sort"
	"strings"
	"unicode"
)

// displayWidth is how many terminal columns s takes, as terminals that follow
// Unicode's East Asian Width and emoji presentation draw it: wide and
// fullwidth characters and emoji (❌ ✅ ⚡) take two; a character followed by
// the emoji variation selector U+FE0F takes two (⚠️ ☑️); variation
// selectors, zero-width joiners and combining marks take none, and a
// character joined by a ZWJ adds nothing to its sequence (👩‍💻). Counting
// runes instead, as text/tabwriter does, shifts every column right of a ❌.
func displayWidth(s string) int {
	n := 0
	last := 0       // width of the previous character, for U+FE0F
	joined := false // the previous rune was a ZWJ
	for _, r := range s {
		switch {
		case r == '\uFE0F':
			if last == 1 {
				n++
				last = 2
			}
		case zeroWidth(r):
			joined = r == '\u200D'
		case joined:
			joined = false
		default:
			last = 1
			if wide(r) {
				last = 2
			}
			n += last
		}
	}
	return n
}

// zeroWidth reports a rune that takes no column of its own: controls,
// variation selectors, joiners and other format characters, combining marks.
func zeroWidth(r rune) bool {
	return r < 0x20 || r >= 0x7f && r < 0xa0 ||
		r >= 0xFE00 && r <= 0xFE0F || r >= 0xE0100 && r <= 0xE01EF ||
		r >= 0x200B && r <= 0x200F || r == 0x2060 || r == 0xFEFF ||
		unicode.In(r, unicode.Mn, unicode.Me)
}

// wide reports a rune of East Asian Width W or F, which covers every
// character with default emoji presentation (Unicode 9 made them W).
func wide(r rune) bool {
	i := sort.Search(len(wideRanges), func(i int) bool { return wideRanges[i][1] >= r })
	return i < len(wideRanges) && wideRanges[i][0] <= r
}

// wideRanges are the W and F ranges of EastAsianWidth.txt, merged where
// a gap holds only unassigned code points; sorted, inclusive.
var wideRanges = [...][2]rune{
	{0x1100, 0x115F}, {0x231A, 0x231B}, {0x2329, 0x232A}, {0x23E9, 0x23EC},
	{0x23F0, 0x23F0}, {0x23F3, 0x23F3}, {0x25FD, 0x25FE}, {0x2614, 0x2615},
	{0x2648, 0x2653}, {0x267F, 0x267F}, {0x2693, 0x2693}, {0x26A1, 0x26A1},
	{0x26AA, 0x26AB}, {0x26BD, 0x26BE}, {0x26C4, 0x26C5}, {0x26CE, 0x26CE},
	{0x26D4, 0x26D4}, {0x26EA, 0x26EA}, {0x26F2, 0x26F3}, {0x26F5, 0x26F5},
	{0x26FA, 0x26FA}, {0x26FD, 0x26FD}, {0x2705, 0x2705}, {0x270A, 0x270B},
	{0x2728, 0x2728}, {0x274C, 0x274C}, {0x274E, 0x274E}, {0x2753, 0x2755},
	{0x2757, 0x2757}, {0x2795, 0x2797}, {0x27B0, 0x27B0}, {0x27BF, 0x27BF},
	{0x2B1B, 0x2B1C}, {0x2B50, 0x2B50}, {0x2B55, 0x2B55}, {0x2E80, 0x303E},
	{0x3041, 0x3247}, {0x3250, 0x33FF}, {0x3400, 0x4DBF}, {0x4E00, 0xA4CF}, {0xA960, 0xA97F},
	{0xAC00, 0xD7A3}, {0xF900, 0xFAFF}, {0xFE10, 0xFE19}, {0xFE30, 0xFE6F},
	{0xFF00, 0xFF60}, {0xFFE0, 0xFFE6}, {0x16FE0, 0x18D08}, {0x1AFF0, 0x1B2FF},
	{0x1F004, 0x1F004}, {0x1F0CF, 0x1F0CF}, {0x1F18E, 0x1F18E}, {0x1F191, 0x1F19A},
	{0x1F200, 0x1F265}, {0x1F300, 0x1F320}, {0x1F32D, 0x1F335}, {0x1F337, 0x1F37C},
	{0x1F37E, 0x1F393}, {0x1F3A0, 0x1F3CA}, {0x1F3CF, 0x1F3D3}, {0x1F3E0, 0x1F3F0},
	{0x1F3F4, 0x1F3F4}, {0x1F3F8, 0x1F43E}, {0x1F440, 0x1F440}, {0x1F442, 0x1F4FC},
	{0x1F4FF, 0x1F53D}, {0x1F54B, 0x1F54E}, {0x1F550, 0x1F567}, {0x1F57A, 0x1F57A},
	{0x1F595, 0x1F596}, {0x1F5A4, 0x1F5A4}, {0x1F5FB, 0x1F64F}, {0x1F680, 0x1F6C5},
	{0x1F6CC, 0x1F6CC}, {0x1F6D0, 0x1F6D2}, {0x1F6D5, 0x1F6D7}, {0x1F6DC, 0x1F6DF},
	{0x1F6EB, 0x1F6EC}, {0x1F6F4, 0x1F6FC}, {0x1F7E0, 0x1F7EB}, {0x1F7F0, 0x1F7F0},
	{0x1F90C, 0x1F93A}, {0x1F93C, 0x1F945}, {0x1F947, 0x1F9FF}, {0x1FA70, 0x1FAFF},
	{0x20000, 0x2FFFD}, {0x30000, 0x3FFFD},
}

// alignColumns lays rows out in columns gap spaces apart, each as wide as
// its widest cell in terminal columns (displayWidth): text/tabwriter's
// layout (padding 2, AlignRight when right is set), measured as a terminal
// draws. A row's last element is text after the columns, not aligned;
// left-aligned rows lose their trailing spaces.
func alignColumns(rows [][]string, gap int, right bool) []string {
	var widths []int
	for _, r := range rows {
		for i, c := range r[:max(len(r)-1, 0)] {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], displayWidth(c))
		}
	}
	out := make([]string, len(rows))
	for j, r := range rows {
		var b strings.Builder
		for i, c := range r {
			if i == len(r)-1 {
				b.WriteString(c)
				break
			}
			pad := strings.Repeat(" ", widths[i]+gap-displayWidth(c))
			if right {
				b.WriteString(pad + c)
			} else {
				b.WriteString(c + pad)
			}
		}
		out[j] = b.String()
		if !right {
			out[j] = strings.TrimRight(out[j], " ")
		}
	}
	return out
}

// columns is a drop-in for a text/tabwriter.Writer with padding 2: lines
// written to it are tab-separated cells (a cell ends at its tab), and Flush
// writes them aligned by alignColumns.
type columns struct {
	w     io.Writer
	right bool
	buf   strings.Builder
}

func newColumns(w io.Writer, right bool) *columns { return &columns{w: w, right: right} }

func (c *columns) Write(p []byte) (int, error) { return c.buf.Write(p) }

// Flush writes what was written so far, aligned.
func (c *columns) Flush() error {
	if c.buf.Len() == 0 {
		return nil
	}
	var rows [][]string
	for _, l := range strings.Split(strings.TrimSuffix(c.buf.String(), "\n"), "\n") {
		rows = append(rows, strings.Split(l, "\t"))
	}
	c.buf.Reset()
	for _, l := range alignColumns(rows, 2, c.right) {
		if _, err := io.WriteString(c.w, l+"\n"); err != nil {
			return err
		}
	}
	return nil
}
