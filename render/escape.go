package render

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Every string that comes from a profile or a file (kernel and step names,
// warnings, file names, GPU names, thresholds from gate.yml) is untrusted:
// a kernel named "x|y" must not split a table cell, "<!-- " must not hide
// the rest of a comment, "@org/team" must not notify anyone and a newline
// must not start a new block. The helpers here make such strings inert for
// GitHub-flavoured markdown (and therefore for goldmark's HTML, which parses
// the same markdown) and for terminals.

// zwj is inserted after '@' and '#' so that GitHub neither mentions people
// nor links issues; it is invisible when rendered.
const zwj = "\u200d"

// maxName is the most runes of an untrusted name shown in a report; longer
// names (demangled templates) are cut with an ellipsis.
const maxName = 120

// clip shortens s to at most n runes, ending it with "…" when cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, k := 0, 0
	for i = range s {
		if k == n-1 {
			break
		}
		k++
	}
	return s[:i] + "…"
}

// clipMiddle shortens s to at most n runes by cutting out its middle, so
// that names which differ only at the end (template arguments, variants)
// stay distinct.
func clipMiddle(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	head := (n - 1) * 2 / 3
	tail := n - 1 - head
	return string(r[:head]) + "…" + string(r[len(r)-tail:])
}

// htmlName writes an untrusted name for the HTML page (markdown that
// goldmark turns into HTML) as a <code> element that may break after an
// underscore, a comma or "::", so that a long kernel name wraps between its
// words instead of inside them. The text between the tags is escaped as
// markdown text, as mdText does; the tags are gate's own.
func htmlName(s string) string {
	t := mdText(s)
	if t == "" {
		return ""
	}
	t = strings.ReplaceAll(t, `\_`, `\_<wbr>`)
	t = strings.ReplaceAll(t, ",", ",<wbr>")
	t = strings.ReplaceAll(t, "::", "::<wbr>")
	return "<code>" + t + "</code>"
}

// oneLine replaces line breaks, tabs and other control characters with
// spaces and invalid UTF-8 with U+FFFD, so that s stays on one line.
func oneLine(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s { // ranging yields U+FFFD for invalid bytes
		switch {
		case r == '\u2028' || r == '\u2029' || unicode.IsControl(r):
			b.WriteByte(' ')
		case r == '\ufeff' || unicode.Is(unicode.Bidi_Control, r):
			// drop invisible reordering characters ("Trojan source")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// blankOrInvisible reports whether r is white space or a zero-width
// character (space, non-joiner, joiner, word joiner).
func blankOrInvisible(r rune) bool {
	return unicode.IsSpace(r) || r == '\u200b' || r == '\u200c' || r == '\u200d' || r == '\u2060'
}

// OneLine is s as one line of plain text with no control characters, ANSI
// escapes (their ESC byte is gone) or bidi controls: for places outside the
// reports that show untrusted strings, such as the action's annotations.
func OneLine(s string) string { return oneLine(s) }

// noCommands neutralises workflow commands in text printed to a log: the
// runner takes any line that starts with "::" after leading spaces for a
// command ("::error::", "::add-mask::", "::stop-commands::"), so a kernel
// named "::error::x" at the start of a table row would be one. Such a line
// gets a zero-width space between the two colons; no other line changes.
func noCommands(s string) string {
	if !strings.Contains(s, "::") {
		return s
	}
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		t := strings.TrimLeftFunc(l, unicode.IsSpace)
		if strings.HasPrefix(t, "::") {
			lines[i] = l[:len(l)-len(t)] + ":\u200b" + t[1:]
		}
	}
	return strings.Join(lines, "")
}

// mdText escapes untrusted s as inline markdown text: one line, markdown
// punctuation backslash-escaped, HTML characters entity-encoded, mentions,
// issue references and URLs broken with a zero-width joiner so that GitHub
// neither notifies nor links. '(' and '!' need no escape because '[' has
// one (no link or image can open). The result is safe inside a table cell
// too ('|' is escaped).
func mdText(s string) string {
	// Leading spaces could make an indented code block of a list item;
	// spaces before an invisible character at either end would survive
	// GFM's trimming of the cell.
	s = strings.TrimFunc(oneLine(s), blankOrInvisible)
	s = wwwLink.ReplaceAllStringFunc(s, func(m string) string { return m[:3] + zwj + m[3:] })
	var b strings.Builder
	b.Grow(len(s) + 8)
	// "1. x" or "2) x" at the start would open an ordered list.
	digits := 0
	for digits < len(s) && s[digits] >= '0' && s[digits] <= '9' {
		digits++
	}
	if digits == 0 {
		digits = -1
	}
	for i, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '\\', '`', '*', '_', '[', ']', '|', '~', '$':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '-', '+', '=', '.', ')':
			// Only where it could start a list, heading or rule: a leading
			// "-", "+" or "=" followed by a space or itself, or the "." or
			// ")" of a leading "1. " or "1) ".
			next := byte(' ')
			if i+1 < len(s) {
				next = s[i+1]
			}
			ordinal := r == '.' || r == ')'
			if (i == 0 && !ordinal && (next == ' ' || next == byte(r))) || (i == digits && ordinal && next == ' ') {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		case '#':
			b.WriteString(`\#`)
			if i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9' {
				b.WriteString(zwj)
			}
		case '@':
			b.WriteString("@" + zwj)
		case ':':
			// Break "https://..." so that GitHub does not autolink it.
			b.WriteByte(':')
			if strings.HasPrefix(s[i+1:], "//") {
				b.WriteString(zwj)
			}
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// wwwLink finds what GFM autolinks without a scheme ("www.example.com").
var wwwLink = regexp.MustCompile(`(?i)\bwww\.`)

// mdCode writes untrusted s as a markdown code span: nothing inside is
// interpreted, so mentions, links and HTML stay literal. The fence is one
// backtick longer than the longest run of backticks in s. In a table cell
// ('cell') pipes are escaped as GFM requires even inside code spans.
func mdCode(s string, cell bool) string {
	s = oneLine(s)
	if strings.TrimSpace(s) == "" {
		return "*(empty)*"
	}
	run, longest := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	if cell {
		// A backslash right before a pipe would pair with the escape's
		// backslash in some GFM table parsers; an invisible zero-width
		// space keeps them apart.
		s = strings.ReplaceAll(s, `\|`, "\\\u200b|")
		s = strings.ReplaceAll(s, "|", `\|`)
	}
	fence := strings.Repeat("`", longest+1)
	if longest > 0 || s[0] == ' ' || s[len(s)-1] == ' ' {
		// A space on both sides is stripped by the parser; it lets the
		// content start or end with a backtick or keep its own spaces.
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// termText makes untrusted s safe to print on a terminal: one line, no
// escape sequences.
func termText(s string) string {
	return oneLine(s)
}

// htmlEscape encodes the five characters that matter in HTML text and
// attribute values.
func htmlEscape(s string) string {
	return htmlReplacer.Replace(s)
}

var htmlReplacer = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;")

// chartLabel reduces untrusted s to characters that are safe inside an SVG
// text node of a chart: letters, digits, space and _.:/+-().
func chartLabel(s string) string {
	var b strings.Builder
	for _, r := range oneLine(s) {
		switch {
		case r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'):
			b.WriteRune(r)
		case strings.ContainsRune(" _.:/+-()", r):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	out := strings.TrimSpace(clip(b.String(), 40))
	if out == "" {
		return "_"
	}
	return out
}

// markerID reduces a configuration id to characters that cannot end or
// spoof an HTML comment.
func markerID(id string) string {
	var b strings.Builder
	for _, r := range id {
		switch {
		case r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'):
			b.WriteRune(r)
		case r == '_' || r == '.' || r == '/' || r == ':':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := b.String()
	if len(s) > 100 {
		s = s[:100]
	}
	if s == "" {
		return "default"
	}
	return s
}

// safeURL returns u when it is an http(s) URL that can sit inside a markdown
// link destination written as <...>, and "" otherwise.
func safeURL(u string) string {
	if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		return ""
	}
	if strings.ContainsAny(u, "<>\"'` \\") || strings.IndexFunc(u, unicode.IsControl) >= 0 {
		return ""
	}
	return u
}

// UTF16Len is the size of s as GitHub counts a comment body: UTF-16 code
// units, which is at least the number of runes, so a report that fits by
// this measure fits by either.
func UTF16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}
