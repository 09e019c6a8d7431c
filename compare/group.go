package compare

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/nsys-gate/gate/parse"
)

// GroupByBatch groups decode steps by their batch size (Options.GroupBy).
const GroupByBatch = "batch"

// grouping says how a phase's steps are split before they are compared.
// Under serving load decode batches vary in size, and a step of 64
// requests takes longer than one of 8: a p50 over all of them moves with
// the load's batch mix, and a PR that changed nothing but the mix would
// read as a regression. Grouped, the decode steps of each batch size (or
// bucket of sizes) are compared only with the base's of the same size,
// each group gated on its own samples: phases.decode@16.span.p50 and so on.
// A group only one side has is shown, never judged, and warned about.
type grouping struct {
	by string
	// buckets are ascending upper bounds of batch sizes; nil gives every
	// batch size its group.
	buckets []int
}

// group is the steps of one group.
type group struct {
	name  string
	steps []parse.Step
}

// split groups the steps of phase pn; nil where they are not grouped: not
// decode, grouping off, or a step that does not name its batch size (the
// steps are then compared together, and the result says so).
func (g grouping) split(pn string, steps []parse.Step) []group {
	if g.by != GroupByBatch || pn != parse.PhaseDecode || len(steps) == 0 {
		return nil
	}
	byName := map[string]*group{}
	for _, x := range steps {
		if x.Requests <= 0 {
			return nil
		}
		name := g.name(pn, x.Requests)
		gr := byName[name]
		if gr == nil {
			gr = &group{name: name}
			byName[name] = gr
		}
		gr.steps = append(gr.steps, x)
	}
	out := make([]group, 0, len(byName))
	for _, gr := range byName {
		out = append(out, *gr)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// name is the group of a step of batch size n.
func (g grouping) name(pn string, n int) string {
	if len(g.buckets) == 0 {
		return groupName(pn, n, n)
	}
	lo := 1
	for _, hi := range g.buckets {
		if n <= hi {
			return groupName(pn, lo, hi)
		}
		lo = hi + 1
	}
	return pn + "@" + fmt.Sprint(lo) + "+"
}

// ValidateGrouping checks Options.GroupBy and BatchBuckets.
func ValidateGrouping(by string, buckets []int) error {
	switch by {
	case "", GroupByBatch:
	default:
		return fmt.Errorf("group-by: %q: want %q", by, GroupByBatch)
	}
	if len(buckets) > 0 && by != GroupByBatch {
		return fmt.Errorf("batch-buckets: set, but group-by is not %q", GroupByBatch)
	}
	for i, b := range buckets {
		if b < 1 || i > 0 && b <= buckets[i-1] {
			return fmt.Errorf("batch-buckets[%d]: %d: want ascending batch sizes of 1 or more", i, b)
		}
	}
	return nil
}

// groupWarnings says which groups of steps only one side has, and where
// grouping was asked for but a side's decode steps do not name their
// batch sizes.
func groupWarnings(base, head *parse.Summary, ms []Metric, g grouping) []string {
	if g.by == "" {
		return nil
	}
	var ws []string
	for _, s := range []struct {
		side string
		sum  *parse.Summary
	}{{"base", base}, {"head", head}} {
		if ph := s.sum.Phases[parse.PhaseDecode]; ph != nil && len(ph.Samples) > 0 && g.split(parse.PhaseDecode, ph.Samples) == nil {
			ws = append(ws, fmt.Sprintf("group-by %s: %s's decode steps do not all name their batch size: compared together", g.by, s.side))
		}
	}
	for _, m := range ms {
		pn, ok := strings.CutPrefix(m.Name, "phases.")
		if !ok || !strings.HasSuffix(pn, ".steps") || !strings.Contains(pn, "@") || m.HasBase == m.HasHead {
			continue
		}
		pn = DisplayName(strings.TrimSuffix(pn, ".steps"))
		if m.HasBase {
			ws = append(ws, fmt.Sprintf("%s: only in base (%.0f steps): head ran no decode step of that batch size; not compared", pn, m.Base))
		} else {
			ws = append(ws, fmt.Sprintf("%s: only in head (%.0f steps): base ran no decode step of that batch size; not compared", pn, m.Head))
		}
	}
	return slices.Compact(ws)
}
