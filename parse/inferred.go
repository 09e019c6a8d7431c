package parse

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sort"

	"github.com/nsys-gate/gate/parse/internal/sqlread"
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
func (p *profile) inferFromOps(ctx context.Context, s *schema, small []gpuOp) error {
	procs, err := p.readLaunches(ctx, s, small)
	if err != nil {
		return err
	}
	inf := inferSteps(procs, p.opts.Infer)
	// The launches (20 bytes each, one per kernel in an eager capture)
	// are garbage now: collect them before the main pass allocates its
	// own, so that the two never add up.
	runtime.GC()
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
	why := "no NVTX step range matched"
	if len(p.ranges) == 0 {
		why = noNVTX
	}
	p.warnf(WarnInferredSteps, "%s: %s steps found by %s; name the steps with NVTX ranges to measure them as the engine sees them",
		why, joinAnd(parts), StepSourceName(inf.method))
	return nil
}

// noNVTX says that an export holds no NVTX range, and the two ways that
// happens: nsys without -t nvtx (no NVTX_EVENTS table either), or a
// workload that emits none (gate profile always traces NVTX; nsys then
// writes no table or an empty one).
const noNVTX = "no NVTX ranges in the export (nsys traced without -t cuda,nvtx, or the workload emits none)"

// readLaunches reads the GPU ops into in-scope launches per process: ops
// sharing a correlation id are one launch, a CUDA-graph replay's kernels
// (or its graph-trace row) one graph launch whose token is its op count.
// Order does not matter here (launches are sorted by correlation id), so
// the kernel table is read in two halves on two connections at once, and
// only the columns a launch needs: a kernel is a graph node when a
// cudaGraphLaunch has its correlation id (the runtime scan collected them),
// which spares SQLite the graphNodeId column. Rows with impossible times
// count as launches of no time.
func (p *profile) readLaunches(ctx context.Context, s *schema, small []gpuOp) ([]procLaunches, error) {
	graphs := sortedKeys64(p.graphCalls)
	var halves [2]map[uint64][]launch
	if s.has(tKernel) {
		short := s.colOr(ctx, tKernel, "shortName", s.colOr(ctx, tKernel, "demangledName", "0"))
		q := fmt.Sprintf(`SELECT end - start, %s, %s, %s FROM %s WHERE rowid > ?1 AND rowid <= ?2`,
			s.colOr(ctx, tKernel, "globalPid", "0"), s.colOr(ctx, tKernel, "correlationId", "0"), short, tKernel)
		top := int64(s.rowsHint(ctx, tKernel))
		errs := make(chan error, 1)
		go func() {
			c, err := s.conn()
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			halves[1], err = readKernelLaunches(ctx, c, q, top/2, 1<<62, int(top-top/2), graphs)
			errs <- err
		}()
		var err error
		halves[0], err = readKernelLaunches(ctx, s.db, q, -1<<62, top/2, int(top)+len(small), graphs)
		if err2 := <-errs; err == nil {
			err = err2
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", tKernel, sqliteErr(err))
		}
	}
	// The first half's slice of the first process was sized for both.
	byPid := halves[0]
	if byPid == nil {
		byPid = map[uint64][]launch{}
	}
	for pid, ls := range halves[1] {
		byPid[pid] = append(byPid[pid], ls...)
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
	return procs, nil
}

// readKernelLaunches reads the kernel rows with rowid in (from, to] as
// launches per process, merging consecutive rows of one launch (the
// kernels of a graph replay come together); n sizes the first process's
// slice, graphs (sorted) are the keys of the CUDA-graph launches.
func readKernelLaunches(ctx context.Context, conn *sqlread.Conn, q string, from, to int64, n int, graphs []uint64) (map[uint64][]launch, error) {
	rows, err := conn.Query(ctx, q, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[uint64][]launch{}
	var pid uint64 = 1 << 63
	var ls []launch
	g := 0 // graphs[g] is the first graph launch key not below the last row's
	for rows.Next() {
		key := opKey(rows.Int64(1), rows.Int64(2))
		if key>>40 != pid {
			if pid != 1<<63 {
				out[pid] = ls
			}
			pid = key >> 40
			ls = out[pid]
			if ls == nil && len(out) == 0 {
				ls = make([]launch, 0, n)
			}
		}
		l := launch{corr: uint32(key), tok: launchToken(tokKernel, uint32(rows.Int64(3)))}
		if g < len(graphs) && graphs[g] < key || g > 0 && graphs[g-1] >= key {
			g, _ = slices.BinarySearch(graphs, key)
		}
		if g < len(graphs) && graphs[g] == key {
			l.tok = launchToken(tokGraph, 1)
		}
		l.addNs(rows.Int64(0))
		if k := len(ls) - 1; k >= 0 && ls[k].corr == l.corr {
			ls[k].merge(l)
			continue
		}
		ls = append(ls, l)
	}
	if pid != 1<<63 {
		out[pid] = ls
	}
	return out, rows.Err()
}

// sortedKeys64 returns a sorted copy of keys.
func sortedKeys64(keys []uint64) []uint64 {
	out := slices.Clone(keys)
	slices.Sort(out)
	return out
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
	byCorr := func(a, b launch) int {
		switch {
		case a.corr < b.corr:
			return -1
		case a.corr > b.corr:
			return 1
		}
		return 0
	}
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
	out := parts[0]
	for _, s := range parts[1 : len(parts)-1] {
		out += ", " + s
	}
	return out + " and " + parts[len(parts)-1]
}
