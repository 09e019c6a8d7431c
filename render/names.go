package render

import (
	"sort"
	"strings"

	"github.com/nsys-gate/gate/compare"
)

// segments splits a metric name at dots and undoes compare.Segment's %XX
// escapes, so that a kernel named "a.b" shows as one readable segment.
func segments(name string) []string {
	parts := strings.Split(name, ".")
	for i, p := range parts {
		parts[i] = unescapeSegment(p)
	}
	return parts
}

func unescapeSegment(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// severity orders verdicts for display: the worst first.
func severity(v compare.Verdict) int {
	switch v {
	case compare.Fail:
		return 0
	case compare.Warn:
		return 1
	case compare.Pass:
		return 2
	case compare.Info:
		return 3
	}
	return 4
}

// inGroups returns the metrics of the given groups, worst verdict first and
// otherwise in the Result's order.
func inGroups(ms []compare.Metric, groups ...compare.Group) []*compare.Metric {
	var out []*compare.Metric
	for i := range ms {
		for _, g := range groups {
			if ms[i].Group == g {
				out = append(out, &ms[i])
				break
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return severity(out[i].Verdict) < severity(out[j].Verdict) })
	return out
}

// known are the groups that have a section of their own.
var known = map[compare.Group]bool{
	compare.GroupPhase: true, compare.GroupKernel: true, compare.GroupComponent: true, compare.GroupGraph: true,
	compare.GroupMemory: true, compare.GroupGPUTime: true, compare.GroupBandwidth: true, compare.GroupDevice: true,
	compare.GroupCommunication: true, compare.GroupExtra: true, compare.GroupGPUMetrics: true,
}

// otherGroups returns the metrics whose group has no section of its own.
func otherGroups(ms []compare.Metric) []*compare.Metric {
	var out []*compare.Metric
	for i := range ms {
		if !known[ms[i].Group] {
			out = append(out, &ms[i])
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return severity(out[i].Verdict) < severity(out[j].Verdict) })
	return out
}

// phaseRank orders phases: prefill, decode, mixed, window, then the rest.
func phaseRank(p string) int { return compare.PhaseRank(p) }

// fieldLabels names the per-step fields of a phase for people.
var fieldLabels = []struct{ key, label string }{
	{"steps", "steps"},
	{"span", "step span"},
	{"span_ns", "step span"},
	{"busy", "GPU busy"},
	{"busy_ns", "GPU busy"},
	{"busy_pct", "GPU busy share"},
	{"busy_share", "GPU busy share"},
	{"kernel", "kernel time"},
	{"kernel_ns", "kernel time"},
	{"kernel_time", "kernel time"},
	{"kernels", "kernels/step"},
	{"memcpys", "copies/step"},
	{"memcpy_bytes", "copy bytes/step"},
	{"dtoh", "DtoH copies/step"},
	{"syncs", "syncs/step"},
	{"tokens", "tokens/step"},
	{"requests", "requests/step"},
	{"ns_per_token", "time/token"},
	{"tokens_per_s", "tokens/s"},
	{"graph_mode", "CUDA-graph mode"},
	{"graph_launches", "graph launches/step"},
	{"graph_kernels", "kernels in graphs/step"},
	{"graph_coverage", "kernels inside graphs"},
}

// statRank orders summary statistics.
func statRank(s string) int {
	for i, k := range []string{"", "p50", "median", "mean", "p90", "p99", "min", "max"} {
		if s == k {
			return i
		}
	}
	return 99
}

// fieldRank and fieldLabel describe a phase metric's field.
func fieldRank(f string) int {
	for i, fl := range fieldLabels {
		if fl.key == f {
			return i
		}
	}
	return len(fieldLabels)
}

func fieldLabel(rest []string) string {
	if len(rest) == 0 {
		return "value"
	}
	l := strings.ReplaceAll(rest[0], "_", " ")
	for _, fl := range fieldLabels {
		if fl.key == rest[0] {
			l = fl.label
			break
		}
	}
	if len(rest) > 1 {
		l += " " + strings.Join(rest[1:], " ")
	}
	return l
}
