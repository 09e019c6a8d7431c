package render

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nsys-gate/gate/compare"
)

// The PR comment as a reviewer sees it: each shipped pair's markdown
// rendered by goldmark with the GFM extensions (as GitHub renders a
// comment), put in a page with GitHub's comment column (880 px, 16 px
// padding, 14 px text, github-markdown-css for the rest) and opened in
// headless Chromium. The page measures itself with a script; the test
// asserts that no table is wider than the column (a cell that cannot wrap
// hides Base, Head and Δ off-screen) and that the comment is short enough to
// read, and keeps a screenshot of each as a reviewed golden in
// ../testdata/render/browser.
//
// The browser is Debian's chromium, run as a plain program (--dump-dom for
// the measurements, --screenshot for the picture) rather than through a CDP
// library: two runs per page are fast enough and need no dependency.

// commentColumn is the width of a comment body in a pull request's
// conversation, padding included.
const commentColumn = 880

var browserCases = []struct {
	base, head string
	maxHeight  int // px, details closed
}{
	{"base_a", "base_b", 1600},              // a pass is short
	{"base_a", "regress_host_sync", 3000},   // one cause
	{"base_a", "regress_double_attn", 3000}, // one cause, many metrics
	{"base_a", "base_graphmode", 3000},      // not comparable: the reason
}

func TestCommentInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("parses the real exports and starts a browser")
	}
	bin, css := chromium(t), githubCSS(t)
	for _, c := range browserCases {
		t.Run(c.base+"_vs_"+c.head, func(t *testing.T) {
			r := compare.Compare(realSummary(t, c.base), realSummary(t, c.head), compare.Options{ConfigID: "default"})
			var md bytes.Buffer
			if err := Markdown(&md, r, Options{}); err != nil {
				t.Fatal(err)
			}
			page := commentPage(t, md.String(), css)
			m := measure(t, bin, page)
			t.Logf("%d characters, %d px tall", UTF16Len(md.String()), m.Height)
			for i, tb := range m.Tables {
				if tb.Scroll > tb.Client {
					t.Errorf("table %d (%s) is %d px wide in a %d px column: its right columns are off-screen", i+1, tb.Head, tb.Scroll, tb.Client)
				}
			}
			if m.Scroll > m.Client {
				t.Errorf("the comment is %d px wide in a %d px column", m.Scroll, m.Client)
			}
			if m.Height >= c.maxHeight {
				t.Errorf("the comment is %d px tall with details closed, want under %d", m.Height, c.maxHeight)
			}
			shot := screenshot(t, bin, page, m.Height)
			goldenShot(t, "browser/"+c.base+"_vs_"+c.head+".png", shot)
		})
	}
	// The HTML report shows whole kernel names: they wrap between their
	// words and no table is wider than the page.
	t.Run("html_report", func(t *testing.T) {
		r := compare.Compare(realSummary(t, "base_a"), realSummary(t, "regress_double_attn"), compare.Options{ConfigID: "default"})
		var h bytes.Buffer
		if err := HTML(&h, r, Options{}); err != nil {
			t.Fatal(err)
		}
		// The page forbids scripts (Content-Security-Policy); the test's
		// copy drops that line to measure itself.
		page := regexp.MustCompile(`<meta http-equiv="Content-Security-Policy"[^>]*>\n`).ReplaceAllString(h.String(), "")
		page = strings.Replace(page, "</body>", measureScript("main")+"</body>", 1)
		m := measure(t, bin, []byte(page))
		for i, tb := range m.Tables {
			if tb.Scroll > tb.Client {
				t.Errorf("HTML table %d (%s) is %d px wide in %d px", i+1, tb.Head, tb.Scroll, tb.Client)
			}
		}
		if len(m.Tables) < 8 {
			t.Errorf("the HTML report has %d tables: the measurement missed them", len(m.Tables))
		}
	})
}

// githubCSS is github-markdown-css, the stylesheet of GitHub's comments.
func githubCSS(t *testing.T) string {
	t.Helper()
	css, err := os.ReadFile(filepath.Join("..", "testdata", "render", "browser", "github-markdown-light.css"))
	if err != nil {
		t.Fatal(err)
	}
	return string(css)
}

// chromium finds a Chromium to run, or skips: .ci/run installs Debian's.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("GATE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Chromium on the PATH: install Debian's chromium (apt-get install chromium, as .ci/run does) or set GATE_CHROMIUM to check the comment in a browser")
	return ""
}

// commentPage renders md as GitHub renders a comment and puts it in a page
// shaped like GitHub's comment column. A script measures the comment into
// a hidden element that --dump-dom shows.
func commentPage(t *testing.T, md, css string) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteString(`<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><style>` + css + `
body { margin: 0; background: #fff; }
.comment-body { width: ` + fmt.Sprint(commentColumn) + `px; box-sizing: border-box; padding: 16px; font-size: 14px; }
</style></head><body><div class="comment-body markdown-body" id="comment">
`)
	b.WriteString(githubHTML(t, md))
	b.WriteString(`</div>` + measureScript("#comment") + `</body></html>
`)
	return b.Bytes()
}

// measureScript measures the element sel selects, its height and widths
// and those of its tables, into a hidden element that --dump-dom shows.
func measureScript(sel string) string {
	return `<pre id="measure" hidden></pre><script>
const c = document.querySelector("` + sel + `");
const tables = [...c.querySelectorAll("table")].map(x => ({
	head: x.querySelector("th") ? x.querySelector("th").textContent : "",
	scroll: x.scrollWidth, client: x.clientWidth }));
document.getElementById("measure").textContent = JSON.stringify({
	height: Math.ceil(c.getBoundingClientRect().height), scroll: c.scrollWidth, client: c.clientWidth, tables });
</script>`
}

type pageMeasure struct {
	Height int `json:"height"`
	Scroll int `json:"scroll"`
	Client int `json:"client"`
	Tables []struct {
		Head   string `json:"head"`
		Scroll int    `json:"scroll"`
		Client int    `json:"client"`
	} `json:"tables"`
}

var measured = regexp.MustCompile(`(?s)<pre id="measure" hidden="">(.*?)</pre>`)

// measure loads page in Chromium and returns what its script measured.
func measure(t *testing.T, bin string, page []byte) pageMeasure {
	t.Helper()
	out := runChromium(t, bin, page, "--window-size=1150,1000", "--dump-dom")
	sub := measured.FindSubmatch(out)
	if sub == nil {
		t.Fatalf("chromium --dump-dom: no measurement in the page (%d bytes of DOM)", len(out))
	}
	var m pageMeasure
	if err := json.Unmarshal(bytes.ReplaceAll(sub[1], []byte("&quot;"), []byte(`"`)), &m); err != nil {
		t.Fatalf("measurement %q: %v", sub[1], err)
	}
	return m
}

// screenshot is the page height px tall, the comment's full length.
func screenshot(t *testing.T, bin string, page []byte, height int) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "shot.png")
	runChromium(t, bin, page, fmt.Sprintf("--window-size=%d,%d", commentColumn, height), "--screenshot="+path)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("chromium --screenshot: %v", err)
	}
	return b
}

// runChromium opens page headless with the flags that work on a closed
// network (no background connections, no first-run, a fresh profile).
func runChromium(t *testing.T, bin string, page []byte, args ...string) []byte {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "page.html")
	if err := os.WriteFile(file, page, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	argv := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
		"--force-device-scale-factor=1", "--user-data-dir=" + filepath.Join(dir, "profile")}, args...)
	argv = append(argv, "file://"+file)
	cmd := exec.CommandContext(ctx, bin, argv...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", bin, strings.Join(args, " "), err, tail(stderr.String(), 2000))
	}
	return out
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// goldenShot keeps a screenshot as a reviewed golden. Pixels differ with
// font and browser versions, so the check is the picture's size: a change
// in layout changes the height, and the test then asks for a look at the
// new picture and -update.
func goldenShot(t *testing.T, name string, got []byte) {
	t.Helper()
	want, ok := goldenFile(t, name, got)
	if !ok {
		return
	}
	wc, err := png.DecodeConfig(bytes.NewReader(want))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	gc, err := png.DecodeConfig(bytes.NewReader(got))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if d := gc.Height - wc.Height; gc.Width != wc.Width || d*d > 16*16 {
		fresh := filepath.Join(os.TempDir(), strings.ReplaceAll(name, "/", "_"))
		os.WriteFile(fresh, got, 0o644)
		t.Errorf("%s: the comment now renders %d×%d px, the golden %d×%d: look at %s and rerun with -update", name, gc.Width, gc.Height, wc.Width, wc.Height, fresh)
	}
}

// The README's table of the shipped pairs' comments says how long they
// are; it must say what gate writes.
func TestReadmeCommentLengths(t *testing.T) {
	if testing.Short() {
		t.Skip("parses the real exports")
	}
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range browserCases {
		r := compare.Compare(realSummary(t, c.base), realSummary(t, c.head), compare.Options{ConfigID: "default"})
		var md bytes.Buffer
		if err := Markdown(&md, r, Options{}); err != nil {
			t.Fatal(err)
		}
		row := regexp.MustCompile(`(?m)^\| ` + c.base + ` vs ` + c.head + `\b[^|]*\| [^|]+ \| ([0-9,]+) \|`).FindSubmatch(readme)
		if row == nil {
			t.Errorf("README has no row for %s vs %s", c.base, c.head)
			continue
		}
		if got, want := string(row[1]), itoa(UTF16Len(md.String())); got != want {
			t.Errorf("README says %s vs %s is %s characters; it is %s", c.base, c.head, got, want)
		}
	}
}
