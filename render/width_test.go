package render

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"text/tabwriter"
)

func TestDisplayWidth(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want int
	}{
		{"", 0},
		{"decode", 6},
		{"1.17 → 1.44 ms", 14}, // arrows, micro and middle dots are narrow
		{"µs · …", 6},
		{"❌", 2},
		{"✅", 2},
		{"⚡", 2},
		{"⛔", 2},
		{"⚪", 2},
		{"⚠", 1},       // text presentation
		{"⚠️", 2},      // U+26A0 U+FE0F: emoji presentation
		{"☑️", 2},      // U+2611 U+FE0F
		{"ℹ️", 2},      // U+2139 U+FE0F
		{"⚠\uFE0E", 1}, // text variation selector
		{"❌\uFE0F", 2}, // already wide: the selector adds nothing
		{"❌ decode · step p50", 20},
		{"⚠️ kernel launches outside CUDA graphs", 38},
		{"😀", 2},
		{"👩\u200D💻", 2}, // a ZWJ sequence draws as one emoji
		{"a\u200Bb", 2}, // zero-width space
		{"e\u0301", 1},  // combining acute accent
		{"注意力", 6},      // CJK
		{"ｇａｔｅ", 8},     // fullwidth
		{"\t\x1b", 0},   // controls take no column
	} {
		if got := displayWidth(tc.s); got != tc.want {
			t.Errorf("displayWidth(%q) = %d, want %d", tc.s, got, tc.want)
		}
	}
}

// wideRanges must be sorted and disjoint for the binary search in wide.
func TestWideRangesSorted(t *testing.T) {
	for i, r := range wideRanges {
		if r[0] > r[1] || i > 0 && wideRanges[i-1][1] >= r[0] {
			t.Fatalf("wideRanges[%d] = %#x..%#x out of order", i, r[0], r[1])
		}
	}
}

// Columns line up as a terminal draws them: the cell after a ❌ (two
// columns, one rune) starts where the header's does. Each row ends with
// empty trailing text: every cell is terminated, as text.go writes them.
func TestAlignColumnsEmoji(t *testing.T) {
	got := alignColumns([][]string{
		{"What changed", "Δ", "Limit", ""},
		{"❌ decode · step p50", "+22.7%", "over 10%", ""},
		{"⚠️ other time", "+18.4%", "", ""},
		{"✅ 注意力", "-3%", "over 5%", ""},
	}, 2, false)
	want := []string{
		"What changed          Δ       Limit",
		"❌ decode · step p50  +22.7%  over 10%",
		"⚠️ other time         +18.4%",
		"✅ 注意力             -3%     over 5%",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	col := displayWidth("What changed          ")
	for _, l := range got[1:] {
		// The second column starts at the same terminal column everywhere.
		i := strings.Index(l, "  ")
		for i < len(l) && l[i] == ' ' {
			i++
		}
		if w := displayWidth(l[:i]); w != col {
			t.Errorf("%q: second column at %d, want %d", l, w, col)
		}
	}
}

// Where every character is one column, columns lays out exactly as
// text/tabwriter (padding 2), left-aligned and AlignRight, terminated cells
// and trailing text alike: tabwriter is the oracle for the layout, and
// displayWidth only changes what a column's width is measured in.
func TestColumnsMatchesTabwriter(t *testing.T) {
	tables := []string{
		"phase\tsteps\tspan\t\nprefill\t1\t17.5 ms / 17.5 ms\t\ndecode\t96\t1.18 ms\t\n",
		"total\tshare\tname\n4.88 ms\t23.6%\telementwise_kernel\n763 us\t3.68%\tcudnn\n",
		"a\t\tc\t\n\tbb\t\t\nccc\td\te\t\n",
		"one\t\n",
	}
	for i, in := range tables {
		for _, right := range []bool{false, true} {
			var want bytes.Buffer
			flags := uint(0)
			if right {
				flags = tabwriter.AlignRight
			}
			tw := tabwriter.NewWriter(&want, 0, 0, 2, ' ', flags)
			fmt.Fprint(tw, in)
			tw.Flush()
			var got bytes.Buffer
			c := newColumns(&got, right)
			fmt.Fprint(c, in)
			if err := c.Flush(); err != nil {
				t.Fatal(err)
			}
			w := want.String()
			if !right { // columns trims what tabwriter pads after the last cell
				var lines []string
				for _, l := range strings.Split(w, "\n") {
					lines = append(lines, strings.TrimRight(l, " "))
				}
				w = strings.Join(lines, "\n")
			}
			if got.String() != w {
				t.Errorf("table %d right=%v:\ngot\n%s\nwant (tabwriter)\n%s", i, right, got.String(), w)
			}
		}
	}
}
