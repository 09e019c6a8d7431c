package render

import (
	"bytes"
	"strings"
	"testing"
)

// TestMergedCommentInBrowser: a merge of 20 real entries, in GitHub's
// comment column in headless Chromium (the check of browser_test.go), is
// no wider than the column, folded or with every entry's report open, and
// its screenshot (folds closed) is a reviewed golden.
func TestMergedCommentInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("parses the real exports and starts a browser")
	}
	bin, css := chromium(t), githubCSS(t)
	m := twentyEntries(t)
	var md bytes.Buffer
	if err := MergedMarkdown(&md, m, Options{FullReportURL: "https://example.com/run"}); err != nil {
		t.Fatal(err)
	}
	if n := UTF16Len(md.String()); n > CommentBudget {
		t.Fatalf("%d characters, over GitHub's %d", n, CommentBudget)
	}
	for _, open := range []bool{false, true} {
		src := md.String()
		if open {
			src = strings.ReplaceAll(src, "<details>", "<details open>")
		}
		page := commentPage(t, src, css)
		pm := measure(t, bin, page)
		t.Logf("folds open %v: %d characters, %d px tall, %d tables", open, UTF16Len(src), pm.Height, len(pm.Tables))
		for i, tb := range pm.Tables {
			if tb.Scroll > tb.Client {
				t.Errorf("folds open %v: table %d (%s) is %d px wide in a %d px column", open, i+1, tb.Head, tb.Scroll, tb.Client)
			}
		}
		if pm.Scroll > pm.Client {
			t.Errorf("folds open %v: the comment is %d px wide in a %d px column", open, pm.Scroll, pm.Client)
		}
		if open && len(pm.Tables) < 2*len(m.Entries) {
			t.Errorf("%d tables with every fold open: the entries' reports were not measured", len(pm.Tables))
		}
		if !open {
			if len(pm.Tables) < 1 || pm.Tables[0].Head != "entry" {
				t.Errorf("the first table is %+v, want the entries'", pm.Tables)
			}
			goldenShot(t, "browser/merged_20_entries.png", screenshot(t, bin, page, pm.Height))
		}
	}
}
