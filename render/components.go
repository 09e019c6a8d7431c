package render

import (
	"sort"

	"github.com/nsys-gate/gate/compare"
)

// componentSection shows where kernel time went by component (attention,
// gemm, ...): a table of the component metrics and, folded below it, a
// chart of time per component, base against head.
func componentSection(r *compare.Result, p plan) *section {
	ms := inGroups(r.Metrics, "component")
	s := metricSection("components", "Components", ms, p, nil)
	if s == nil {
		return nil
	}
	if p.chart {
		if charts := componentCharts(r.Metrics); len(charts) > 0 {
			var bs []block
			for _, c := range charts {
				bs = append(bs, c)
			}
			s.blocks = append(s.blocks, fold{summary: "Chart: kernel time per component", blocks: bs})
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
				title += " (" + phase + ")"
			}
			c = &chart{title: title, unit: "ns"}
			byPhase[phase] = c
			phases = append(phases, phase)
		}
		c.labels = append(c.labels, comp)
		c.base = append(c.base, m.Base)
		c.head = append(c.head, m.Head)
	}
	sort.SliceStable(phases, func(i, j int) bool {
		if a, b := phaseRank(phases[i]), phaseRank(phases[j]); a != b {
			return a < b
		}
		return phases[i] < phases[j]
	})
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
