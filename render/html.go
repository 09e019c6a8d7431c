package render

import (
	"bytes"
	"fmt"
	"io"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer/html"

	"github.com/nsys-gate/gate/compare"
)

// HTML writes the full report (every metric, no budget) as a standalone
// HTML page: gate's markdown converted by goldmark with GFM tables, whole
// kernel names that wrap between their words, the charts as inline SVG, a
// small inline stylesheet, no script and nothing fetched from the network
// (a Content-Security-Policy says so to the browser too).
//
// goldmark is allowed to pass raw HTML through because the markdown is
// gate's own: every untrusted string in it was escaped or put in a code
// span before it got there, exactly as for a GitHub comment.
func HTML(w io.Writer, r *compare.Result, opts Options) error {
	if r == nil {
		return errNil
	}
	page, err := htmlPage("gate: "+string(r.Verdict), htmlMarkdown(r, opts))
	if err != nil {
		return err
	}
	if _, err := w.Write(page); err != nil {
		return fmt.Errorf("render: html: %w", err)
	}
	return nil
}

// htmlMarkdown is r's full report as markdown for goldmark's HTML page.
func htmlMarkdown(r *compare.Result, opts Options) string {
	mw := &mdWriter{to: forHTML}
	mw.report(build(r, opts, fullPlan()))
	return mw.b.String()
}

// htmlPage converts gate's markdown to a standalone page titled title.
func htmlPage(title, markdown string) ([]byte, error) {
	md := goldmark.New(
		goldmark.WithExtensions(extension.GFM),
		// GitHub comments break lines where the markdown does.
		goldmark.WithRendererOptions(html.WithUnsafe(), html.WithHardWraps()),
	)
	var body bytes.Buffer
	if err := md.Convert([]byte(markdown), &body); err != nil {
		return nil, fmt.Errorf("render: html: %w", err)
	}
	var b bytes.Buffer
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
	b.WriteString("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n")
	b.WriteString("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
	b.WriteString("<title>" + htmlEscape(title) + "</title>\n")
	b.WriteString("<style>\n" + stylesheet + "</style>\n</head>\n<body>\n<main>\n")
	b.Write(body.Bytes())
	b.WriteString("</main>\n</body>\n</html>\n")
	return b.Bytes(), nil
}

// stylesheet is GitHub-like and small; it honours a dark colour scheme.
const stylesheet = `:root { color-scheme: light dark; --fg: #1f2328; --bg: #fff; --muted: #656d76; --line: #d0d7de; --alt: #f6f8fa; --base: #8c959f; --head: #0969da; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #8d96a0; --line: #30363d; --alt: #161b22; --base: #6e7681; --head: #4493f8; } }
body { margin: 0; background: var(--bg); color: var(--fg); font: 14px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 24px; }
main > p:first-child { font-size: 1.4em; margin-top: 0; }
h3 { border-bottom: 1px solid var(--line); padding-bottom: 4px; margin-top: 28px; }
table { border-collapse: collapse; margin: 8px 0 16px; display: block; overflow-x: auto; }
th, td { border: 1px solid var(--line); padding: 4px 10px; vertical-align: top; }
th { background: var(--alt); }
tr:nth-child(2n) td { background: var(--alt); }
td[style*="right"], th[style*="right"] { font-variant-numeric: tabular-nums; white-space: nowrap; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; background: var(--alt); padding: 1px 4px; border-radius: 4px; overflow-wrap: break-word; }
sub { color: var(--muted); }
details { margin: 12px 0; }
summary { cursor: pointer; font-weight: 600; }
figure.chart { margin: 12px 0; overflow-x: auto; }
figure.chart text { fill: var(--fg); }
figure.chart .base { fill: var(--base); }
figure.chart .head { fill: var(--head); }
figure.chart circle.base, figure.chart circle.head { fill-opacity: 0.55; }
figure.chart circle.out { fill: none; stroke: var(--muted); }
figure.chart .box { fill: var(--alt); stroke: var(--line); }
figure.chart .median { fill: var(--fg); }
figure.chart .axis { stroke: var(--muted); }
figure.chart .muted { fill: var(--muted); }
`
