package render

import (
	"math"
	"sort"

	"github.com/nsys-gate/gate/compare"
)

// componentSection shows where kernel time went by component (attention,
// gemm, ...): a table of the component metrics and, folded below it, a
// chart of time per component, base against head.
func componentSection(r *compare.Result, p plan) *section {
	ms := inGroups(r.Metrics, "component")
	if len(ms) == 0 {
		return nil
	}
	rows, rest := pivotMetrics(ms, 2, "time", "share")
	time := func(r *pivotRow) float64 {
		if m := r.fields["time"]; m != nil {
			return math.Max(finite(m.Base), finite(m.Head))
		}
		return 0
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if x, y := severity(a.worst), severity(b.worst); x != y {
			return x < y
		}
		if x, y := compare.PhaseRank(a.parts[0]), compare.PhaseRank(b.parts[0]); x != y {
			return x < y
		}
		if a.parts[0] != b.parts[0] {
			return a.parts[0] < b.parts[0]
		}
		return time(a) > time(b)
	})
	s := &section{key: "components", title: "Components"}
	if len(rows) > 0 {
		t := table{head: []string{"Phase", "Component", "Time (base → head)", "Δ", "Share (base → head)", "Δ share", "Verdict"},
			right: []bool{false, false, true, true, true, true, false}}
		for i, row := range rows {
			if i == p.tableRows {
				t.more = len(rows) - i
				break
			}
			t.rows = append(t.rows, []line{cell(compare.PhaseLabel(row.parts[0])), cell(row.parts[1]), cell(row.change("time")), row.delta("time"),
				cell(row.change("share")), row.delta("share"), row.verdict("time", "share")})
		}
		s.blocks = append(s.blocks, t)
	}
	if o := metricSection("", "", rest, p, nil); o != nil {
		s.blocks = append(s.blocks, o.blocks...)
	}
	if p.chart {
		if charts := componentCharts(r.Metrics); len(charts) > 0 {
			var bs []block
			for _, c := range charts {
				bs = append(bs, c)
			}
			s.blocks = append(s.blocks, fold{summary: "Chart: kernel time per component", blocks: bs, openInHTML: true})
		}
	}
	return s
}

// maxCharts bounds the component charts (one per phase).
const maxCharts = 2

// componentCharts makes one chart per phase from the component metrics
// in nanoseconds. Names are "components.<phase>.<component>.<field>" or
// "components.<component>.<field>".
func componentCharts(ms []compare.Metric) []chart {
	byPhase := map[string]*chart{}
	var phases []string
	for _, m := range ms {
		if m.Group != "component" || m.Unit != "ns" {
			continue
		}
		s := segments(m.Name)
		if len(s) < 3 {
			continue
		}
		key := s[1 : len(s)-1]
		phase, comp := "", key[0]
		if len(key) == 2 {
			phase, comp = key[0], key[1]
		} else if len(key) > 2 {
			continue
		}
		c := byPhase[phase]
		if c == nil {
			title := "Kernel time per component"
			if phase != "" {
				title += " (" + compare.PhaseLabel(phase) + ")"
			}
			c = &chart{title: title, unit: "ns"}
			byPhase[phase] = c
			phases = append(phases, phase)
		}
		c.labels = append(c.labels, comp)
		c.base = append(c.base, m.Base)
		c.head = append(c.head, m.Head)
	}
	sortPhases(phases)
	// Decode first: it is where an inference server spends its time.
	sort.SliceStable(phases, func(i, j int) bool { return phases[i] == "decode" && phases[j] != "decode" })
	var out []chart
	for _, ph := range phases {
		if len(out) == maxCharts {
			break
		}
		out = append(out, *byPhase[ph])
	}
	return out
}
