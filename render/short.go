package render

import (
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/nsys-gate/gate/compare"
)

// Kernel names are long (cuDNN's run past 100 characters; demangled
// templates past 200) and a code span cannot wrap, so a table with one in
// it is wider than a comment. The comment and the terminal show a short
// name that keeps what tells a kernel apart (the library, the op, the
// architecture) and drops what does not (tile shapes, tuning knobs, template
// plumbing); the details list each in full, and the HTML page shows full
// names only.

// maxShort is the most runes of a short kernel name: what a table column
// of a comment shows beside its numbers. Underscore-separated names keep at
// most maxTokens runes: their words read best few.
const (
	maxShort  = 40
	maxTokens = 32
)

// shortName shortens a kernel name to at most n runes, marking what it left
// out with "…": cudnn_generated_fort_native_sdpa_sm80_flash_fprop_wmma_f16_
// knob_35_16x128x128_1x4x1_cga1x1x1_kernel0_0 becomes
// cudnn…sdpa_sm80_flash_fprop…; void at::native::elementwise_kernel<128, 4,
// ...where_kernel_impl> becomes elementwise_kernel<…where_kernel_impl>.
// Names that fit are returned as they are.
func shortName(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	var out string
	if strings.ContainsAny(s, "<(:") {
		out = shortTemplate(s)
	} else {
		out = shortTokens(s, min(n, maxTokens))
	}
	if out == "" || utf8.RuneCountInString(out) > n {
		return clipMiddle(s, n)
	}
	return out
}

var (
	// shapeToken is a tile shape, a cluster shape, a tuning knob's value or
	// a variant number: 16x128x128, cga1x1x1, 35, kernel0.
	shapeToken = regexp.MustCompile(`^(?:[0-9]+|[a-z]*[0-9]+(?:x[0-9]+)+|kernel[0-9]*|knob)$`)
	// genericToken says nothing about the op.
	genericToken = map[string]bool{"generated": true, "fort": true, "native": true, "kernel": true, "impl": true, "void": true}
	ident        = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)
	// plumbing are template arguments that name no op.
	plumbing = map[string]bool{"int": true, "unsigned": true, "long": true, "void": true, "float": true, "double": true, "char": true,
		"bool": true, "const": true, "true": true, "false": true, "at": true, "native": true, "c10": true, "cuda": true, "detail": true,
		"std": true, "unnamed": true, "Array": true, "BFloat16": true, "Half": true, "cutlass": true, "cute": true}
)

// shortTokens keeps the first token of an underscore-separated name and
// the tokens that name the op, in order, while they fit in n runes.
func shortTokens(s string, n int) string {
	toks := strings.Split(s, "_")
	var b strings.Builder
	gap := false
	b.WriteString(toks[0])
	for i, t := range toks[1:] {
		if t == "" || genericToken[strings.ToLower(t)] || shapeToken.MatchString(t) {
			gap = true
			continue
		}
		sep := "_"
		if gap {
			sep = "…"
		}
		// Leave room for a closing "…" unless this is the last token.
		room := n
		if i < len(toks)-2 {
			room--
		}
		if utf8.RuneCountInString(b.String()+sep+t) > room {
			b.WriteString("…")
			return b.String()
		}
		b.WriteString(sep + t)
		gap = false
	}
	if gap {
		b.WriteString("…")
	}
	return b.String()
}

// shortTemplate names a demangled template by its function and the most
// specific op among its arguments: elementwise_kernel<…where_kernel_impl>.
func shortTemplate(s string) string {
	s = strings.TrimPrefix(s, "void ")
	base, args := s, ""
	if i := strings.IndexAny(s, "<("); i > 0 {
		base, args = s[:i], s[i:]
	}
	if i := strings.LastIndex(base, "::"); i >= 0 {
		base = base[i+2:]
	}
	if args == "" {
		return base
	}
	op := ""
	for _, id := range ident.FindAllString(args, -1) {
		if plumbing[id] || len(id) < 4 {
			continue
		}
		l := strings.ToLower(id)
		if strings.Contains(l, "functor") || strings.Contains(l, "kernel") || strings.HasSuffix(l, "_impl") || strings.HasSuffix(id, "Op") {
			op = id // the innermost op wins
		}
	}
	if op == "" || op == base {
		return base + "<…>"
	}
	if utf8.RuneCountInString(base+op) > maxShort-3 {
		base = strings.TrimSuffix(base, "_kernel")
	}
	return base + "<…" + op + ">"
}

// names maps the kernel names of a report to the short names it shows.
// Two kernels whose short names would be the same keep more of theirs
// (the middle cut out), so that no two rows look alike.
type names map[string]string

func newNames(full []string) names {
	full = slices.Compact(slices.Sorted(slices.Values(full)))
	nm := names{}
	count := map[string]int{}
	for _, f := range full {
		if f != "" {
			nm[f] = shortName(f, maxShort)
			count[nm[f]]++
		}
	}
	for f, s := range nm {
		if count[s] > 1 {
			nm[f] = clipMiddle(f, maxShort)
		}
	}
	return nm
}

// short is n's short name for a kernel; names it was not built with are
// shortened on their own.
func (nm names) short(full string) string {
	if s, ok := nm[full]; ok {
		return s
	}
	return shortName(full, maxShort)
}

// kernelNames are all kernel names a result mentions.
func kernelNames(r *compare.Result) []string {
	var out []string
	for _, m := range r.Metrics {
		if s := segments(m.Name); len(s) >= 3 && (s[0] == "kernels" || s[0] == "bandwidth") {
			out = append(out, s[1])
		}
	}
	for _, a := range r.Attribution {
		for _, k := range a.Kernels {
			out = append(out, k.Name)
		}
	}
	k := r.Kernels
	for _, l := range [][]compare.KernelChange{k.Added, k.Removed, k.Variant, k.TopTime, k.TopCount} {
		for _, c := range l {
			out = append(out, c.Base, c.Head)
		}
	}
	return out
}
