package parse

import (
	"context"
	"fmt"
	"slices"
	"sort"
)

// Inferred steps in the pipeline: when no NVTX step range matched (and
// Options.Infer allows it), the in-scope GPU ops are read once more before
// they are added up, as launches per process (grouped by correlation id:
// a graph replay is one launch), the host synchronisations having been
// collected from the runtime table; inferSteps (infer.go) cuts them into
// steps, which the ops then find by correlation id (project).

// inferring reports whether steps are to be inferred.
func (p *profile) inferring() bool {
	return len(p.steps) == 0 && p.opts.Infer.withDefaults().Repeating != PhaseNone
}

// inferFromOps reads the in-scope ops as launches, infers the steps and
// installs them.
func (p *profile) inferFromOps(ctx context.Context, s *schema, ks *kernelScan, small []gpuOp) error {
	procs, err := p.readLaunches(ctx, s, ks, small)
	if err != nil {
		return err
	}
	inf := inferSteps(procs, p.opts.Infer)
	if len(inf.steps) == 0 {
		return nil
	}
	p.stepSource = inf.method
	p.inferred = &stepIndex{procs: map[uint64][]inferredSpan{}, lastPid: 1 << 63}
	for _, st := range inf.steps {
		i := int32(len(p.steps))
		p.steps = append(p.steps, &stepAgg{rng: -1, phase: st.phase, syncs: st.syncs})
		p.inferred.procs[st.pid] = append(p.inferred.procs[st.pid], inferredSpan{st.lo, st.hi, i})
	}
	counts := map[string]int{}
	for _, st := range inf.steps {
		counts[st.phase]++
	}
	var parts []string
	for _, ph := range phaseNames {
		if counts[ph] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[ph], ph))
		}
	}
	p.warnf(WarnInferredSteps, "no NVTX step range matched: %s steps found by %s; name the steps with NVTX ranges to measure them as the engine sees them",
		joinAnd(parts), StepSourceName(inf.method))
	return nil
}

// readLaunches reads the in-scope GPU ops, in start order as the main pass
// will (a kernel table out of order is sorted), into launches per process:
// ops sharing a correlation id are one launch, a CUDA-graph replay's
// kernels (or its graph-trace row) one graph launch whose token is its
// kernel count.
func (p *profile) readLaunches(ctx context.Context, s *schema, ks *kernelScan, small []gpuOp) ([]procLaunches, error) {
	byPid := map[uint64][]launch{}
	// Ops come one per launch in eager captures: the first process's
	// slice is sized for all of them at once rather than grown.
	hint := len(small)
	if s.has(tKernel) {
		hint += s.rowsHint(ctx, tKernel)
	}
	add := func(op *gpuOp) {
		if _, inScope, _ := p.project(op, false); !inScope {
			return
		}
		l := launch{corr: uint32(op.key), ops: 1}
		l.addNs(op.end - op.start)
		switch op.kind {
		case opKernel:
			l.tok, l.graph = launchToken(tokKernel, uint32(op.name)), op.inGraph
		case opMemcpy:
			l.tok, l.copies = launchToken(tokMemcpy, uint32(op.name)), true
		case opMemset:
			l.tok, l.copies = launchToken(tokMemset, 0), true
		case opGraph:
			l.tok, l.graph = launchToken(tokGraph, 0), true
		}
		pid := op.key >> 40
		ls, ok := byPid[pid]
		if !ok && len(byPid) == 0 {
			ls = make([]launch, 0, hint)
		}
		byPid[pid] = append(ls, l)
	}
	err := p.eachOp(ctx, s.db, ks, small, add)
	if err == errUnordered {
		clear(byPid)
		err = p.sortedOps(ctx, s.db, ks, small, add)
	}
	delete(p.bad, tKernel) // counted again by the main pass
	if err != nil {
		return nil, err
	}
	syncs := map[uint64][]uint32{}
	for _, k := range p.syncCalls {
		syncs[k>>40] = append(syncs[k>>40], uint32(k))
	}
	pids := make([]uint64, 0, len(byPid))
	for pid := range byPid {
		pids = append(pids, pid)
	}
	slices.Sort(pids)
	procs := make([]procLaunches, 0, len(pids))
	for _, pid := range pids {
		ss := syncs[pid]
		slices.Sort(ss)
		procs = append(procs, procLaunches{pid: pid, launches: mergeLaunches(byPid[pid]), syncs: ss})
	}
	return procs, nil
}

// mergeLaunches sorts one process's ops by correlation id (they come in
// start order, which is launch order on one stream: nearly sorted) and
// merges the ops of one launch.
func mergeLaunches(ls []launch) []launch {
	slices.SortStableFunc(ls, func(a, b launch) int {
		switch {
		case a.corr < b.corr:
			return -1
		case a.corr > b.corr:
			return 1
		}
		return 0
	})
	out := ls[:0]
	for _, l := range ls {
		n := len(out)
		if n == 0 || out[n-1].corr != l.corr {
			out = append(out, l)
			continue
		}
		m := &out[n-1]
		m.ops += l.ops
		m.addNs(int64(l.ns))
		m.graph = m.graph || l.graph
		m.copies = m.copies || l.copies
	}
	for i := range out {
		if out[i].graph && out[i].tok>>30 != tokGraph {
			out[i].tok = launchToken(tokGraph, uint32(out[i].ops))
		}
	}
	return out
}

// stepIndex finds the inferred step of an op by its (process,
// correlationId) key.
type stepIndex struct {
	procs map[uint64][]inferredSpan // by process, sorted by lo
	// The process and span of the last lookup: ops come in launch order.
	lastPid uint64
	last    []inferredSpan
	cursor  int
}

// inferredSpan is an inferred step's correlation ids [lo, hi].
type inferredSpan struct {
	lo, hi uint32
	step   int32
}

// find returns the step whose span holds key, -1 for none.
func (x *stepIndex) find(key uint64) int32 {
	if pid := key >> 40; pid != x.lastPid {
		x.lastPid, x.last, x.cursor = pid, x.procs[pid], 0
	}
	corr, spans := uint32(key), x.last
	i := x.cursor
	if i >= len(spans) || spans[i].lo > corr || spans[i].hi < corr {
		i = sort.Search(len(spans), func(i int) bool { return spans[i].hi >= corr })
		if i == len(spans) || spans[i].lo > corr {
			return -1
		}
		x.cursor = i
	}
	return spans[i].step
}

// joinAnd joins parts as "a, b and c".
func joinAnd(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	out := parts[0]
	for _, s := range parts[1 : len(parts)-1] {
		out += ", " + s
	}
	return out + " and " + parts[len(parts)-1]
}
