package render

import (
	"strings"
	"testing"
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
// columns, one rune) starts where the header's does.
func TestAlignColumnsEmoji(t *testing.T) {
	got := alignColumns([][]string{
		{"What changed", "Δ", "Limit"},
		{"❌ decode · step p50", "+22.7%", "over 10%"},
		{"⚠️ other time", "+18.4%", ""},
		{"✅ 注意力", "-3%", "over 5%"},
	}, 2)
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
