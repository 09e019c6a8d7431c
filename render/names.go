package render

import (
	"slices"
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

// fieldOrder is the order of a phase's per-step fields in its table.
var fieldOrder = []string{"steps", "span", "busy", "busy_pct", "kernel_time", "kernels", "memcpys", "memcpy_bytes",
	"dtoh", "syncs", "tokens", "requests", "ns_per_token", "tokens_per_s", "graph_mode", "graph_launches",
	"graph_kernels", "graph_coverage"}

// sortPhases orders phase names as reports list them.
func sortPhases(ps []string) {
	sort.SliceStable(ps, func(i, j int) bool {
		if x, y := compare.PhaseRank(ps[i]), compare.PhaseRank(ps[j]); x != y {
			return x < y
		}
		return ps[i] < ps[j]
	})
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

// phaseField is a phase metric's quantity in compare.Label's words less
// the phase, as the causes tables name it: "step p50" for
// phases.decode.span.p50. A field gate does not make reads as its segments.
func phaseField(m *compare.Metric, nm names, rest []string) string {
	if _, _, f := entity(m, nm); f != compare.Label(m.Name) {
		return f
	}
	return strings.Join(rest, " ")
}

// fieldRank orders a phase metric's fields (fieldOrder; others last).
func fieldRank(f string) int {
	if i := slices.Index(fieldOrder, f); i >= 0 {
		return i
	}
	return len(fieldOrder)
}
