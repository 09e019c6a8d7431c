package compare

import (
	"regexp"
	"sort"
	"strings"

	"github.com/nsys-gate/gate/parse"
)

// topN bounds the TopTime and TopCount lists.
const topN = 10

// Kernel matching goes from strict to loose, each level only over the
// kernels the previous levels left unmatched:
//
//  1. exact: the same short name;
//  2. normalized: the same NormalizeKernel key (template arguments, tile
//     shapes like 128x128_64x3 and numeric tokens removed), so a GEMM that
//     picked another tile configuration is a variant, not a removal plus an
//     addition;
//  3. family: the same KernelFamily and component (nvjet, cutlass, cudnn,
//     flash, ...);
//  4. component: the same non-empty component.
//
// Within a level, kernels sharing a key are paired largest total time first,
// ties by name, so the pairing is deterministic.

var (
	tileShape    = regexp.MustCompile(`\d+(x\d+)+`)
	numericToken = regexp.MustCompile(`^[0-9]+$`)
)

// normalizeKernel reduces a kernel name to what stays the same when only its
// configuration changes: template argument lists (<...>, nested) and
// parameter lists are dropped, the name is lower-cased and split into
// '_'-separated tokens, tile shapes (128x128, 64x4, cga1x1x1's 1x1x1) are cut
// and purely numeric tokens dropped. "sm80" and "kernel0" stay: they name
// different code, not a different size.
func normalizeKernel(name string) string {
	n := stripBrackets(name, '<', '>')
	n = stripBrackets(n, '(', ')')
	n = strings.ToLower(strings.TrimSpace(n))
	n = strings.TrimPrefix(n, "void ")
	var keep []string
	for _, tok := range strings.FieldsFunc(n, func(r rune) bool { return r == '_' || r == ' ' }) {
		tok = tileShape.ReplaceAllString(tok, "")
		if tok == "" || numericToken.MatchString(tok) {
			continue
		}
		keep = append(keep, tok)
	}
	return strings.Join(keep, "_")
}

// kernelFamily is the first token of the normalised name without its
// namespace ("nvjet", "cutlass", "cudnn", "vectorized", ...): kernels of one
// library or code generator.
func kernelFamily(name string) string {
	n := normalizeKernel(name)
	if i := strings.LastIndex(n, "::"); i >= 0 {
		n = n[i+2:]
	}
	if i := strings.IndexAny(n, "_:"); i >= 0 {
		n = n[:i]
	}
	return n
}

// stripBrackets removes every open...close group, nested, from s. An
// unbalanced close is kept as is.
func stripBrackets(s string, open, close byte) string {
	if strings.IndexByte(s, open) < 0 {
		return s
	}
	var b strings.Builder
	depth := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == open:
			depth++
		case c == close && depth > 0:
			depth--
		case depth == 0:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// kernelPair is a matched base and head kernel.
type kernelPair struct {
	base, head *parse.Kernel
	match      string
}

// diffKernels matches base kernels to head kernels and reports the changes.
func diffKernels(base, head []parse.Kernel) (KernelDiff, []kernelPair) {
	var d KernelDiff
	bleft := sortedKernels(base)
	hleft := sortedKernels(head)
	var pairs []kernelPair

	levels := []struct {
		match string
		key   func(k *parse.Kernel) string
	}{
		{"exact", func(k *parse.Kernel) string { return k.Name }},
		{"normalized", func(k *parse.Kernel) string { return normalizeKernel(k.Name) }},
		{"family", func(k *parse.Kernel) string {
			if f := kernelFamily(k.Name); f != "" {
				return f + "\x00" + k.Component
			}
			return ""
		}},
		{"component", func(k *parse.Kernel) string { return k.Component }},
	}
	for _, lv := range levels {
		byKey := map[string][]*parse.Kernel{}
		for _, h := range hleft {
			if k := lv.key(h); k != "" {
				byKey[k] = append(byKey[k], h)
			}
		}
		used := map[*parse.Kernel]bool{}
		var bnext []*parse.Kernel
		for _, b := range bleft {
			k := lv.key(b)
			cands := byKey[k]
			if k == "" || len(cands) == 0 {
				bnext = append(bnext, b)
				continue
			}
			h := cands[0]
			byKey[k] = cands[1:]
			used[h] = true
			pairs = append(pairs, kernelPair{base: b, head: h, match: lv.match})
		}
		var hnext []*parse.Kernel
		for _, h := range hleft {
			if !used[h] {
				hnext = append(hnext, h)
			}
		}
		bleft, hleft = bnext, hnext
	}

	for _, b := range bleft {
		d.Removed = append(d.Removed, change(b, nil, ""))
	}
	for _, h := range hleft {
		d.Added = append(d.Added, change(nil, h, ""))
	}
	all := make([]KernelChange, 0, len(pairs))
	for _, p := range pairs {
		c := change(p.base, p.head, p.match)
		all = append(all, c)
		if p.match != "exact" {
			d.Variant = append(d.Variant, c)
		}
	}
	sortByTime := func(cs []KernelChange) {
		sort.SliceStable(cs, func(i, j int) bool {
			ti, tj := max(cs[i].BaseNs, cs[i].HeadNs), max(cs[j].BaseNs, cs[j].HeadNs)
			if ti != tj {
				return ti > tj
			}
			return changeName(cs[i]) < changeName(cs[j])
		})
	}
	sortByTime(d.Added)
	sortByTime(d.Removed)
	sortByTime(d.Variant)

	d.TopTime = top(all, func(c KernelChange) float64 { return float64(c.HeadNs - c.BaseNs) })
	d.TopCount = top(all, func(c KernelChange) float64 { return c.HeadPerStep - c.BasePerStep })
	return d, pairs
}

// top returns up to topN changes with the largest nonzero |delta|.
func top(cs []KernelChange, delta func(KernelChange) float64) []KernelChange {
	var out []KernelChange
	for _, c := range cs {
		if delta(c) != 0 {
			out = append(out, c)
		}
	}
	abs := func(x float64) float64 {
		if x < 0 {
			return -x
		}
		return x
	}
	sort.SliceStable(out, func(i, j int) bool {
		di, dj := abs(delta(out[i])), abs(delta(out[j]))
		if di != dj {
			return di > dj
		}
		return changeName(out[i]) < changeName(out[j])
	})
	if len(out) > topN {
		out = out[:topN]
	}
	return out
}

func changeName(c KernelChange) string {
	if c.Head != "" {
		return c.Head + "\x00" + c.Base
	}
	return c.Base
}

func change(b, h *parse.Kernel, match string) KernelChange {
	c := KernelChange{Match: match}
	if b != nil {
		c.Base, c.Component = b.Name, b.Component
		c.BaseNs, c.BasePerStep, c.BaseCount = b.TotalNs, b.PerDecodeStep, b.Count
	}
	if h != nil {
		c.Head, c.Component = h.Name, h.Component
		c.HeadNs, c.HeadPerStep, c.HeadCount = h.TotalNs, h.PerDecodeStep, h.Count
	}
	return c
}

// sortedKernels returns pointers to ks, largest total time first, ties by name.
func sortedKernels(ks []parse.Kernel) []*parse.Kernel {
	out := make([]*parse.Kernel, len(ks))
	for i := range ks {
		out[i] = &ks[i]
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].TotalNs != out[j].TotalNs {
			return out[i].TotalNs > out[j].TotalNs
		}
		return out[i].Name < out[j].Name
	})
	return out
}
