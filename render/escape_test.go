package render

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	htmlstd "html"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer/html"

	"github.com/nsys-gate/gate/compare"
	"github.com/nsys-gate/gate/parse"
)

func TestMdCode(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain", "`plain`"},
		{"a`b", "`` a`b ``"},
		{"``x", "``` ``x ```"},
		{"a|b", "`a\\|b`"},
		{"a\nb", "`a b`"},
		{"", "*(empty)*"},
		{" x ", "`  x  `"},
	} {
		if got := mdCode(c.in, true); got != c.want {
			t.Errorf("mdCode(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := mdCode("a|b", false); got != "`a|b`" {
		t.Errorf("mdCode outside a table escaped the pipe: %q", got)
	}
}

func TestMdText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"decode step", "decode step"},
		{"a|b", `a\|b`},
		{`a\|b`, `a\\\|b`},
		{"<script>", "&lt;script&gt;"},
		{"@org/team", "@" + zwj + "org/team"},
		{"see #12", `see \#` + zwj + "12"},
		{"[x](y)", `\[x\](y)`},
		{"- item", `\- item`},
		{"-4.1%", "-4.1%"},
		{"1. first", `1\. first`},
		{"2) second", `2\) second`},
		{"f(x) = 1", "f(x) = 1"},
		{"1.5 ms", "1.5 ms"},
		{"two\nlines", "two lines"},
		{"*em* _em_ ~s~ $m$", `\*em\* \_em\_ \~s\~ \$m\$`},
		{"\x1b[31m", "\\[31m"},
	} {
		if got := mdText(c.in); got != c.want {
			t.Errorf("mdText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestMarker(t *testing.T) {
	for _, c := range []struct{ id, want string }{
		{"default", "<!-- gate:report id=default -->"},
		{"llama-8b/h200", "<!-- gate:report id=llama_8b/h200 -->"},
		{"x --> <script>", "<!-- gate:report id=x______script_ -->"},
		{"", "<!-- gate:report id=default -->"},
	} {
		if got := Marker(c.id); got != c.want {
			t.Errorf("Marker(%q) = %q, want %q", c.id, got, c.want)
		}
	}
}

// githubHTML renders markdown as GitHub renders a comment (GFM, raw HTML
// kept), to check what a reader of the comment would get.
func githubHTML(t testing.TB, md string) string {
	t.Helper()
	var b bytes.Buffer
	// GitHub renders a comment as GFM, breaks lines where the markdown does
	// and aligns table cells with the align attribute.
	g := goldmark.New(
		// GFM is these four extensions; the table one is told to align as GitHub does.
		goldmark.WithExtensions(extension.Linkify, extension.Strikethrough, extension.TaskList,
			extension.NewTable(extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute))),
		goldmark.WithRendererOptions(html.WithUnsafe(), html.WithHardWraps()))
	if err := g.Convert([]byte(md), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

var (
	codeElem = regexp.MustCompile(`(?s)<code>.*?</code>`)
	mention  = regexp.MustCompile(`@[A-Za-z0-9]`)
	issueRef = regexp.MustCompile(`#[0-9]`)
)

// checkInert asserts that a markdown report and its HTML carry the hostile
// names as text only.
func checkInert(t testing.TB, md string) {
	t.Helper()
	h := githubHTML(t, md)
	low := strings.ToLower(h)
	// The only link is gate's own, to the full report.
	low = strings.ReplaceAll(low, `<a href="https://example.com/`, "")
	for _, bad := range []string{"<script", "<a ", "<img", "<b>", "<details open", "\x1b", "\u202e"} {
		if strings.Contains(low, bad) {
			t.Errorf("rendered HTML contains %q", bad)
		}
	}
	if n := strings.Count(h, "<!--"); n != 1 {
		t.Errorf("rendered HTML has %d HTML comments, want only the marker", n)
	}
	if !strings.HasPrefix(md, "<!-- gate:report id=") {
		t.Errorf("markdown does not start with the marker: %.80q", md)
	}
	if strings.Count(h, "<details>") != strings.Count(h, "</details>") {
		t.Errorf("unbalanced <details>: %d open, %d closed", strings.Count(h, "<details>"), strings.Count(h, "</details>"))
	}
	text := codeElem.ReplaceAllString(h, "")
	if m := mention.FindString(text); m != "" {
		t.Errorf("rendered HTML outside code has a mention %q", m)
	}
	if m := issueRef.FindString(text); m != "" {
		t.Errorf("rendered HTML outside code has an issue reference %q", m)
	}
	for _, l := range strings.Split(md, "\n") {
		if strings.HasPrefix(l, "line2") || strings.HasPrefix(l, "line3") {
			t.Errorf("a newline in a name started a new line: %q", l)
		}
	}
	checkTables(t, md)
}

// checkTables asserts that every row of every markdown table has as many
// cells as its header: an unescaped pipe in a name would add one.
func checkTables(t testing.TB, md string) {
	t.Helper()
	want := -1
	for _, l := range strings.Split(md, "\n") {
		if !strings.HasPrefix(l, "|") {
			want = -1
			continue
		}
		n := pipes(l)
		if want < 0 {
			want = n
			continue
		}
		if n != want {
			t.Errorf("table row has %d cell separators, header %d: %q", n, want, l)
		}
	}
}

// pipes counts the pipes of a table row that are not backslash-escaped.
func pipes(l string) int {
	n, bs := 0, 0
	for i := 0; i < len(l); i++ {
		switch l[i] {
		case '\\':
			bs++
			continue
		case '|':
			if bs%2 == 0 {
				n++
			}
		}
		bs = 0
	}
	return n
}

func TestHostileMarkdown(t *testing.T) {
	var b bytes.Buffer
	if err := Markdown(&b, hostile(), Options{}); err != nil {
		t.Fatal(err)
	}
	checkInert(t, b.String())
}

func TestHostileHTML(t *testing.T) {
	var b bytes.Buffer
	if err := HTML(&b, hostile(), Options{}); err != nil {
		t.Fatal(err)
	}
	low := strings.ToLower(b.String())
	for _, bad := range []string{"<script", "<!--", "<a ", "<img", "<b>", "<details open", "\x1b", "\u202e"} {
		if strings.Contains(low, bad) {
			t.Errorf("HTML page contains %q", bad)
		}
	}
	if strings.Contains(codeElem.ReplaceAllString(low, ""), "https://evil") {
		t.Error("HTML page has a URL from a name outside code, where a browser could link it")
	}
	if !strings.Contains(low, "&lt;script&gt;") {
		t.Error("HTML page lost the hostile name instead of showing it escaped")
	}
}

func TestHostileText(t *testing.T) {
	var b bytes.Buffer
	if err := Text(&b, hostile(), Options{}); err != nil {
		t.Fatal(err)
	}
	if i := strings.IndexAny(b.String(), "\x1b\r\u202e"); i >= 0 {
		t.Errorf("text output has a control character at %d: %q", i, b.String()[max(0, i-20):i+5])
	}
}

// FuzzMarkdown puts one arbitrary string everywhere a profile string can go
// and checks that the comment stays well-formed and inert.
func FuzzMarkdown(f *testing.F) {
	for _, n := range hostileNames {
		f.Add(n)
	}
	f.Add(sdpa)
	f.Add("void at::native::elementwise_kernel<(int)128, (int)4>")
	f.Fuzz(func(t *testing.T, s string) {
		r := pass()
		r.Head.Source.File = s
		r.Head.GPU.Name = s
		r.Reasons = []string{s}
		r.Warnings = []string{s}
		r.Head.Warnings = []parse.Warning{{Code: s, Message: s}}
		r.Metrics = append(r.Metrics,
			compare.Metric{Name: "kernels." + compare.Segment(s) + ".total", Group: "kernel", Unit: "ns", HasBase: true, HasHead: true, Base: 1, Head: 3, DeltaPct: 200, Verdict: compare.Fail, Note: s, Threshold: s},
			compare.Metric{Name: "extra." + compare.Segment(s), Group: "extra", Unit: compare.Unit(s), HasBase: true, HasHead: true, Base: 1, Head: 2, Verdict: compare.Warn},
			compare.Metric{Name: "components.decode." + compare.Segment(s) + ".time", Group: "component", Unit: "ns", HasBase: true, HasHead: true, Base: 1, Head: 2, Verdict: compare.Info})
		r.Kernels.Added = []compare.KernelChange{{Head: s, Component: s}}
		r.Kernels.Variant = []compare.KernelChange{{Base: s, Head: s + "x", Match: s, Component: s}}
		r.Rules = append(r.Rules, compare.Rule{Metric: s, Warn: s})
		counted(r)
		var b bytes.Buffer
		if err := Markdown(&b, r, Options{}); err != nil {
			t.Fatal(err)
		}
		checkInert(t, b.String())
	})
}

// cellHTML renders one markdown table cell with goldmark and returns the
// HTML inside the first <td>.
func cellHTML(t *testing.T, cellMD string) string {
	t.Helper()
	h := githubHTML(t, "| h |\n|---|\n| "+cellMD+" |\n")
	i, j := strings.Index(h, "<td>"), strings.Index(h, "</td>")
	if i < 0 || j < i {
		t.Fatalf("no table cell in %q (from %q)", h, cellMD)
	}
	if strings.Count(h, "<td>") != 1 {
		t.Fatalf("the cell split in two: %q (from %q)", h, cellMD)
	}
	return h[i+4 : j]
}

// FuzzMdCode checks that a name shown as a code span in a table cell comes
// out exactly as the name (on one line), whatever it holds.
func FuzzMdCode(f *testing.F) {
	for _, n := range hostileNames {
		f.Add(n)
	}
	f.Add(sdpa)
	f.Fuzz(func(t *testing.T, s string) {
		want := oneLine(s)
		if strings.TrimSpace(want) == "" {
			return
		}
		got := cellHTML(t, mdCode(s, true))
		if !strings.HasPrefix(got, "<code>") || !strings.HasSuffix(got, "</code>") {
			t.Fatalf("not one code span: %q", got)
		}
		got = htmlstd.UnescapeString(got[len("<code>") : len(got)-len("</code>")])
		want = strings.ReplaceAll(want, `\|`, "\\\u200b|")
		if got != want {
			t.Errorf("code span shows %q, want %q", got, want)
		}
	})
}

// FuzzMdText checks that untrusted text in a table cell comes out as the
// same text, with no markup, and only zero-width joiners added.
func FuzzMdText(f *testing.F) {
	for _, n := range hostileNames {
		f.Add(n)
	}
	f.Add("see www.example.com or a@b.co")
	f.Fuzz(func(t *testing.T, s string) {
		got := cellHTML(t, mdText(s))
		if strings.Contains(got, "<") {
			t.Fatalf("markup in the cell: %q from %q", got, s)
		}
		// Zero-width characters aside (mdText adds joiners, and drops
		// them at the ends with the spaces they would keep), the text.
		invisible := strings.NewReplacer(zwj, "", "\u200b", "", "\u200c", "", "\u2060", "")
		got = invisible.Replace(htmlstd.UnescapeString(got))
		want := strings.TrimSpace(invisible.Replace(oneLine(s)))
		if got != want {
			t.Errorf("cell shows %q, want %q", got, want)
		}
		// As a list item (reasons, warnings) it must stay one plain item.
		h := githubHTML(t, "- "+mdText(s)+"\n")
		if strings.Count(h, "<li>") != 1 || strings.Count(h, "<ul>") != 1 || strings.Contains(h, "<ol") ||
			strings.Contains(h, "<h") || strings.Contains(h, "<a ") || strings.Contains(h, "<code") {
			t.Errorf("as a list item %q renders as %q", s, h)
		}
	})
}

// TestForgedResult renders a result whose every field is hostile, as the
// comment job of a fork PR gets it from the untrusted job's JSON artifact.
func TestForgedResult(t *testing.T) {
	for _, n := range hostileNames {
		r := hostile()
		r.Verdict = compare.Verdict(n)
		for i := range r.Metrics {
			r.Metrics[i].Name = strings.Replace(r.Metrics[i].Name, "decode", compare.Segment(n), 1)
			r.Metrics[i].Unit = compare.Unit(n)
		}
		var b bytes.Buffer
		if err := Markdown(&b, r, Options{}); err != nil {
			t.Fatal(err)
		}
		checkInert(t, b.String())
		b.Reset()
		if err := HTML(&b, r, Options{}); err != nil {
			t.Fatal(err)
		}
		if low := strings.ToLower(b.String()); strings.Contains(low, "<script") || strings.Contains(low, "<b>") || strings.Contains(low, "<details open") {
			t.Errorf("verdict %q: HTML page carries markup from the result", n)
		}
	}
}

func TestClip(t *testing.T) {
	for _, c := range []struct {
		s    string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"abcdefghij", 5, "abcd…"},
		{"µµµµµµ", 4, "µµµ…"},
	} {
		if got := clip(c.s, c.n); got != c.want {
			t.Errorf("clip(%q, %d) = %q, want %q", c.s, c.n, got, c.want)
		}
	}
	a := clipMiddle("void cutlass::Kernel<"+strings.Repeat("x", 200)+">_variant_00001", 60)
	b := clipMiddle("void cutlass::Kernel<"+strings.Repeat("x", 200)+">_variant_00002", 60)
	if a == b || len([]rune(a)) != 60 || !strings.HasPrefix(a, "void cutlass") || !strings.HasSuffix(a, "00001") {
		t.Errorf("clipMiddle lost what tells names apart: %q, %q", a, b)
	}
}

func TestNoCommands(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"::error::x\n", ":\u200b:error::x\n"},
		{"  ::add-mask::secret", "  :\u200b:add-mask::secret"},
		{"\t::stop-commands::t\nok\n", "\t:\u200b:stop-commands::t\nok\n"},
		{"void at::native::k<float>  1 ms\n", "void at::native::k<float>  1 ms\n"},
		{"a\n::warning::b\nc", "a\n:\u200b:warning::b\nc"},
		{"", ""},
	} {
		if got := noCommands(tt.in); got != tt.want {
			t.Errorf("noCommands(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// A kernel named like a workflow command can land at the start of a line
// of the text report (a wrapped line, a table's row); no line of the output
// may start with "::".
func TestTextHasNoWorkflowCommands(t *testing.T) {
	base := &parse.Summary{Schema: parse.SummarySchema, Phases: map[string]*parse.Phase{}, Kernels: []parse.Kernel{{Name: "::error::forged", Count: 10, TotalNs: 1000, Share: 0.5}}}
	head := &parse.Summary{Schema: parse.SummarySchema, Phases: map[string]*parse.Phase{}, Kernels: []parse.Kernel{{Name: "::error::forged", Count: 20, TotalNs: 3e6, Share: 0.5}, {Name: "::add-mask::x", Count: 1, TotalNs: 3000, Share: 0.5}}}
	res := compare.Compare(base, head, compare.Options{})
	var b strings.Builder
	if err := Text(&b, res, Options{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "forged") || !strings.Contains(b.String(), "add-mask") {
		t.Fatalf("the kernels are not in the report:\n%s", b.String())
	}
	var sb strings.Builder
	if err := SummaryText(&sb, head); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{b.String(), sb.String()} {
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(strings.TrimLeft(l, " \t"), "::") {
				t.Errorf("a line is a workflow command: %q", l)
			}
		}
	}
}
