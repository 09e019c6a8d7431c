package parse

import (
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
)

// Inferred steps in the pipeline: when no NVTX step range matched (and
// Options.Infer allows it), the kernel table is read into records while the
// runtime table is read (records.go), the host synchronisations being
// collected from the runtime table; the records and the other GPU ops are
// grouped into launches per process (by correlation id: a graph replay is
// one launch), inferSteps (infer.go) cuts them into steps, and the ops,
// added up from the records, then find their steps by correlation id
// (project).

// inferring reports whether steps are to be inferred.
func (p *profile) inferring() bool {
	return len(p.steps) == 0 && p.opts.Infer.withDefaults().Repeating != PhaseNone
}

// inferFromOps groups the in-scope ops into launches, infers the steps and
// installs them.
func (p *profile) inferFromOps(small []gpuOp) {
	procs := p.launches(small)
	inf := inferSteps(procs, p.opts.Infer)
	// The launches (12 bytes each, one per kernel in an eager capture)
	// are garbage now: collect them before the main pass allocates its
	// own, so that the two never add up.
	runtime.GC()
	if len(inf.steps) == 0 {
		return
	}
	p.stepSource = inf.method
	p.inferred = &stepIndex{procs: map[uint64][]inferredSpan{}, lastPid: 1 << 63}
	counts := map[string]int{}
	for _, st := range inf.steps {
		i := int32(len(p.steps))
		p.steps = append(p.steps, &stepAgg{rng: -1, phase: st.phase, syncs: st.syncs})
		p.inferred.procs[st.pid] = append(p.inferred.procs[st.pid], inferredSpan{st.lo, st.hi, i})
		counts[st.phase]++
	}
	var parts []string
	for _, ph := range phaseNames {
		if counts[ph] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[ph], ph))
		}
	}
	why := "no NVTX step range matched"
	if len(p.ranges) == 0 {
		why = noNVTX
	}
	p.warnf(WarnInferredSteps, "%s: %s steps found by %s; name the steps with NVTX ranges to measure them as the engine sees them",
		why, joinAnd(parts), StepSourceName(inf.method))
}

// noNVTX says that an export holds no NVTX range, and the two ways that
// happens: nsys without -t nvtx (no NVTX_EVENTS table either), or a
// workload that emits none (gate profile always traces NVTX; nsys then
// writes no table or an empty one).
const noNVTX = "no NVTX ranges in the export (nsys traced without -t cuda,nvtx, or the workload emits none)"

// launches groups the kernel records and the other GPU ops (small) into
// in-scope launches per process: ops sharing a correlation id are one
// launch, a CUDA-graph replay's kernels (or its graph-trace row) one graph
// launch whose token is its op count.
func (p *profile) launches(small []gpuOp) []procLaunches {
	byPid := map[uint64][]launch{}
	if r := p.recs; r != nil {
		var pid uint64 = 1 << 63
		var ls []launch
		r.each(func(op *gpuOp) {
			if op.key>>40 != pid {
				if pid != 1<<63 {
					byPid[pid] = ls
				}
				pid = op.key >> 40
				ls = byPid[pid]
				if ls == nil && len(byPid) == 0 {
					// The first process's slice is sized for
					// every launch (a capture of one process).
					ls = make([]launch, 0, r.n+len(small))
				}
			}
			l := launch{corr: uint32(op.key), tok: launchToken(tokKernel, uint32(op.name))}
			if op.inGraph {
				l.tok = launchToken(tokGraph, 1)
			}
			l.addNs(op.end - op.start)
			if k := len(ls) - 1; k >= 0 && ls[k].corr == l.corr {
				ls[k].merge(l)
				return
			}
			ls = append(ls, l)
		})
		if pid != 1<<63 {
			byPid[pid] = ls
		}
	}
	copies := map[uint64][]launch{}
	for i := range small {
		op := &small[i]
		l := launch{corr: uint32(op.key)}
		l.addNs(op.end - op.start)
		switch op.kind {
		case opMemcpy:
			l.tok = launchToken(tokMemcpy, uint32(op.name))
		case opMemset:
			l.tok = launchToken(tokMemset, 0)
		case opGraph:
			l.tok = launchToken(tokGraph, 0)
		}
		pid := op.key >> 40
		copies[pid] = append(copies[pid], l)
		if _, ok := byPid[pid]; !ok {
			byPid[pid] = nil
		}
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
		ls := p.inScope(pid, mergeLaunches(byPid[pid], copies[pid]))
		if len(ls) == 0 {
			continue
		}
		ss := syncs[pid]
		slices.Sort(ss)
		procs = append(procs, procLaunches{pid: pid, launches: ls, syncs: ss})
	}
	return procs
}

// inScope keeps the launches of process pid that count toward the window
// (launched inside the scope range; all without a scope).
func (p *profile) inScope(pid uint64, ls []launch) []launch {
	out := ls[:0]
	for _, l := range ls {
		op := gpuOp{key: pid<<40 | uint64(l.corr)}
		if _, in, _ := p.project(&op, false); in {
			out = append(out, l)
		}
	}
	return out
}

// mergeLaunches merges one process's kernel launches (in start order,
// which is launch order on one stream: sorted by correlation id unless
// several streams interleave) with its copies and graph-trace rows (few),
// sorted by correlation id, and merges the ops of one launch; the merge
// does not depend on the order of a launch's ops.
func mergeLaunches(ls, more []launch) []launch {
	byCorr := func(a, b launch) int { return cmp.Compare(a.corr, b.corr) }
	if !slices.IsSortedFunc(ls, byCorr) {
		slices.SortStableFunc(ls, byCorr)
	}
	slices.SortFunc(more, byCorr)
	// Merge from the back, into the room after ls (sized for it).
	i, j := len(ls)-1, len(more)-1
	ls = slices.Grow(ls, len(more))[:len(ls)+len(more)]
	for w := len(ls) - 1; j >= 0; w-- {
		if i >= 0 && ls[i].corr > more[j].corr {
			ls[w] = ls[i]
			i--
		} else {
			ls[w] = more[j]
			j--
		}
	}
	out := ls[:0]
	for _, l := range ls {
		n := len(out)
		if n == 0 || out[n-1].corr != l.corr {
			out = append(out, l)
			continue
		}
		out[n-1].merge(l)
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
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}
