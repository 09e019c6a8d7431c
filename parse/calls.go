package parse

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"

	"github.com/nsys-gate/gate/parse/internal/sqlread"
)

// The runtime table is the biggest of an export (about two rows per kernel:
// every CUDA runtime and driver call). gate needs three things from it: which
// range each GPU op was launched from (the callMap), host synchronisations
// per step, and how many CUDA graphs were launched.

// syncAPI matches CUDA runtime and driver calls that block the host until
// the GPU catches up (the _vNNNN suffix nsys adds is ignored).
var syncAPI = regexp.MustCompile(`^(cudaDeviceSynchronize|cudaStreamSynchronize|cudaEventSynchronize|cudaThreadSynchronize|cudaMemcpy|cudaMemcpy2D|cudaMemcpy3D|cudaMemcpyToSymbol|cudaMemcpyFromSymbol|cudaMemcpyPeer|cuCtxSynchronize|cuStreamSynchronize|cuEventSynchronize|cuMemcpy|cuMemcpyDtoH|cuMemcpyHtoD|cuMemcpyDtoD|cuMemcpy2D|cuMemcpy3D)(_v\d+|_v\d+_ptds|_ptds)?$`)

// apiKind marks the runtime calls gate counts.
type apiKind uint8

const (
	apiOther apiKind = iota
	apiSync
	apiGraphLaunch
	apiNoWork // never launches GPU work: not kept for the join
)

// noWorkAPI matches frequent CUDA runtime and driver calls that never put
// work on the GPU (queries, attribute getters, allocation, stream and event
// bookkeeping). Leaving them out of the join roughly halves the calls on
// PyTorch captures (cuKernelGetName accompanies every launch) without
// changing any projection: no kernel, memcpy or memset can carry their
// correlation ids.
var noWorkAPI = regexp.MustCompile(`^(cuKernelGet|cuKernelSet|cuGetProcAddress|cuLibrary|cuModuleGet|cuModuleLoad|cudaStream(IsCapturing|GetCaptureInfo|Create|Destroy|Query|GetPriority|GetFlags)|cudaEvent(Create|Destroy|Query)|cudaMalloc|cudaFree|cudaHostAlloc|cudaHostRegister|cudaHostUnregister|cudaMallocHost|cudaFreeHost|cudaOccupancy|cuOccupancy|cudaFuncGet|cudaFuncSet|cudaGetDevice|cudaSetDevice|cudaDeviceGet|cudaDeviceCanAccessPeer|cudaGetDriverEntryPoint|cudaThreadExchangeStreamCaptureMode|cudaPointerGetAttributes|cuPointerGetAttribute|cudaGetLastError|cudaPeekAtLastError|cudaGetFuncBySymbol|cudaGetSymbolAddress|cuInit|cuCtxGet|cuCtxSet|cuDeviceGet|cuDevicePrimaryCtx|cudaDriverGetVersion|cudaRuntimeGetVersion)`)

// graphLaunchAPI matches the calls that replay a CUDA graph.
var graphLaunchAPI = regexp.MustCompile(`^(cudaGraphLaunch|cuGraphLaunch)(_v\d+|_ptsz)?$`)

// apiKinds classifies every string that could name a runtime call, indexed
// by string id (ids are StringIds' dense row ids).
func apiKinds(strs map[int64]string) []apiKind {
	var top int64 = -1
	for id := range strs {
		top = max(top, id)
	}
	kinds := make([]apiKind, min(top+1, 1<<24))
	for id, v := range strs {
		if id < 0 || id >= int64(len(kinds)) {
			continue
		}
		switch {
		case syncAPI.MatchString(v):
			kinds[id] = apiSync
		case graphLaunchAPI.MatchString(v):
			kinds[id] = apiGraphLaunch
		case noWorkAPI.MatchString(v):
			kinds[id] = apiNoWork
		}
	}
	return kinds
}

// errUnordered says that a table is not in the order a fast path needs; the
// caller sorts instead.
var errUnordered = errors.New("table out of order")

// callPart is what one scan of (a part of) the runtime table found.
type callPart struct {
	calls         *callMap
	pairs         []callPair // when scanned unordered
	syncs         []int      // per step
	syncCalls     []uint64   // every synchronisation (opKey), when inferring
	graphLaunches int
	err           error
}

// readCallsAndRecs reads the runtime calls (readCalls); where steps are to
// be inferred it reads the kernel table into records at the same time, on
// a connection of its own (see records.go), so that the two tables' SQLite
// work shares the cores.
func (p *profile) readCallsAndRecs(ctx context.Context, s *schema, ks *kernelScan) error {
	if !p.inferring() || ks == nil {
		return p.readCalls(ctx, s)
	}
	done := make(chan error, 1)
	go func() {
		c, err := s.conn()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		p.recs, err = readKernelRecs(ctx, c, ks)
		done <- err
	}()
	err := p.readCalls(ctx, s)
	if err2 := <-done; err == nil {
		err = err2
	}
	return err
}

// readCalls reads the runtime table: the calls made inside a range, host
// synchronisations per step and the number of graph launches. Real
// captures keep the table in correlation order per process: it is read in
// two halves on two connections at once, each building its part of the
// callMap in that order. When the order does not hold it is read again,
// every kept call collected and sorted.
func (p *profile) readCalls(ctx context.Context, s *schema) error {
	p.calls = newCallMap()
	if len(p.ranges) == 0 && !p.inferring() || !s.has(tRuntime) {
		return nil
	}
	sc := p.newCallScan(ctx, s)
	top := s.rowsHint(ctx, tRuntime)
	mid := int64(top / 2)
	second := make(chan callPart, 1)
	go func() {
		c, err := s.conn()
		if err != nil {
			second <- callPart{err: err}
			return
		}
		defer c.Close()
		second <- sc.scan(ctx, c, mid, 1<<62, false)
	}()
	first := sc.scan(ctx, s.db, -1<<62, mid, false)
	rest := <-second
	if first.err == nil && rest.err == nil {
		if err := first.calls.append(rest.calls); err == nil {
			p.addCalls(first, rest)
			return nil
		}
	}
	for _, part := range []callPart{first, rest} {
		if part.err != nil && !errors.Is(part.err, errUnordered) {
			return part.err
		}
	}
	p.sorted.calls = true
	return p.readCallsSorted(ctx, s, sc)
}

// readCallsSorted is readCalls for a runtime table out of correlation
// order: it reads it whole, keeps every call and sorts them.
func (p *profile) readCallsSorted(ctx context.Context, s *schema, sc *callScan) error {
	all := sc.scan(ctx, s.db, -1<<62, 1<<62, true)
	if all.err != nil {
		return all.err
	}
	slices.SortStableFunc(all.pairs, func(a, b callPair) int { return cmp.Compare(a.key, b.key) })
	all.calls = newCallMap()
	for _, c := range all.pairs {
		if err := all.calls.add(c.key, c.rng); err != nil {
			return fmt.Errorf("%s: %w", tRuntime, err) // cannot happen: sorted
		}
	}
	p.addCalls(all)
	return nil
}

// addCalls takes the scans' results into the profile.
func (p *profile) addCalls(parts ...callPart) {
	p.calls = parts[0].calls
	for _, part := range parts {
		for i, st := range p.steps {
			st.syncs += part.syncs[i]
		}
		p.graphLaunches += part.graphLaunches
		p.syncCalls = append(p.syncCalls, part.syncCalls...)
	}
}

// callScan reads runtime calls: its query and what it needs to classify a
// call. It is shared by the goroutines scanning parts of the table.
type callScan struct {
	p      *profile
	query  string
	kinds  []apiKind
	lo, hi int64 // the calls any range can contain start in [lo, hi]
	// syncs collects every synchronisation, in a range or not (step
	// inference cuts the launch stream at them).
	syncs bool
}

func (p *profile) newCallScan(ctx context.Context, s *schema) *callScan {
	var lo, hi int64 = 1, 0 // no range: none
	if len(p.ranges) > 0 {
		lo, hi = p.ranges[0].start, p.ranges[0].end
	}
	for _, r := range p.ranges {
		lo = min(lo, r.start)
		hi = max(hi, r.end)
	}
	return &callScan{
		p: p,
		query: fmt.Sprintf(`SELECT start, end, globalTid, correlationId, %s FROM %s WHERE rowid > ?1 AND rowid <= ?2`,
			s.colOr(ctx, tRuntime, "nameId", "0"), tRuntime),
		kinds: apiKinds(p.strs),
		lo:    lo, hi: hi,
		syncs: p.inferring(),
	}
}

// scan reads the runtime rows with rowid in (from, to] on conn. A call is
// kept when it may launch GPU work and ran inside a range on its thread;
// kept calls go into a callMap in table order, or with unordered into
// pairs. A callMap that meets calls out of order returns errUnordered.
func (sc *callScan) scan(ctx context.Context, conn *sqlread.Conn, from, to int64, unordered bool) callPart {
	part := callPart{calls: newCallMap(), syncs: make([]int, len(sc.p.steps))}
	rows, err := conn.Query(ctx, sc.query, from, to)
	if err != nil {
		part.err = fmt.Errorf("%s: %w", tRuntime, sqliteErr(err))
		return part
	}
	defer rows.Close()
	ranges := sc.p.ranges
	var lastTid int64 = -1
	var tr *threadRanges
	for rows.Next() {
		kind := apiOther
		if id := rows.Int64(4); id >= 0 && id < int64(len(sc.kinds)) {
			kind = sc.kinds[id]
		}
		if kind == apiNoWork {
			continue
		}
		start := rows.Int64(0)
		if sc.syncs && kind == apiSync {
			part.syncCalls = append(part.syncCalls, opKey(rows.Int64(2), rows.Int64(3)))
		}
		if start < sc.lo || start > sc.hi || (start == 0 && rows.IsNull(0)) {
			continue // outside every range
		}
		if kind == apiGraphLaunch {
			part.graphLaunches++
		}
		if tid := rows.Int64(2); tid != lastTid {
			tr, lastTid = sc.p.byTid[tid], tid
		}
		if tr == nil {
			continue
		}
		r := innermost(ranges, tr, start, rows.Int64(1))
		if r < 0 {
			continue
		}
		if kind == apiSync {
			if st := ranges[r].step; st >= 0 {
				part.syncs[st]++
			}
		}
		key := opKey(lastTid, rows.Int64(3))
		if unordered {
			part.pairs = append(part.pairs, callPair{key, r})
			continue
		}
		if err := part.calls.add(key, r); err != nil {
			part.err = err
			return part
		}
	}
	if err := rows.Err(); err != nil {
		part.err = fmt.Errorf("%s: %w", tRuntime, sqliteErr(err))
	}
	return part
}

// callPair is one kept call, collected when the table is out of order.
type callPair struct {
	key uint64
	rng int32
}

// callMap maps (process, correlationId) of every runtime call made inside
// a range (opKey) to the call's innermost range. Built in correlation order
// per process it stays small whatever the number of calls: two bits per
// correlation id say which calls were kept (and whether the projection has
// counted their ops yet, see callPage), and runs of consecutive kept
// calls with the same innermost range (all the launches of one step, say)
// share one entry. A correlation id that several calls share (seen on real
// captures) keeps every range, in table order, in multi.
type callMap struct {
	procs map[uint64]*procCalls // by process id
	multi map[uint64][]int32
	// The process last looked up: ops come in runs of one process.
	lastPid uint64
	last    *procCalls
}

// procCalls are one process's kept calls.
type procCalls struct {
	runs  []callRun            // by first correlation id
	pages map[uint32]*callPage // by correlation id >> pageBits
	// The last call added: its correlation id (-1 before any) and range.
	lastCorr int64
	lastRng  int32
	// cursor is the run of the last lookup: ops come in launch order.
	cursor int
	// The page of the last lookup.
	lastPage    *callPage
	lastPageIdx uint32
}

// callRun says that kept calls from correlation id first up to the next
// run's were made inside range rng.
type callRun struct {
	first uint32
	rng   int32
}

// pageBits sets how many correlation ids one callPage covers (4096).
const pageBits = 12

// callPage holds two bits per correlation id, lo and hi, for its state:
// not kept (0), kept (1), kept and its ops counted in the ranges' spans
// (2), and in their nsys projections too (3). Every op counts in the span,
// and only graph replays stay out of the projection, so the projection is
// never counted without the span.
type callPage struct {
	lo, hi [1 << pageBits / 64]uint64
}

func newCallMap() *callMap {
	return &callMap{procs: map[uint64]*procCalls{}, lastPid: 1 << 63}
}

func (m *callMap) empty() bool { return len(m.procs) == 0 }

// proc returns a process's calls, nil when it made none.
func (m *callMap) proc(pid uint64) *procCalls {
	if pid != m.lastPid {
		m.lastPid, m.last = pid, m.procs[pid]
	}
	return m.last
}

// add keeps a call; keys must come in order within each process.
func (m *callMap) add(key uint64, rng int32) error {
	pid, corr := key>>40, uint32(key)
	pc := m.proc(pid)
	if pc == nil {
		pc = &procCalls{pages: map[uint32]*callPage{}, lastCorr: -1}
		m.procs[pid] = pc
		m.last = pc
	}
	switch {
	case int64(corr) < pc.lastCorr:
		return errUnordered
	case int64(corr) == pc.lastCorr:
		m.addShared(key, pc.lastRng, rng)
		return nil
	}
	if n := len(pc.runs); n == 0 || pc.runs[n-1].rng != rng {
		pc.runs = append(pc.runs, callRun{corr, rng})
	}
	pc.page(corr, true).lo[corr%(1<<pageBits)/64] |= 1 << (corr % 64)
	pc.lastCorr, pc.lastRng = int64(corr), rng
	return nil
}

// addShared notes that a second call with the same key ran in rng, where
// the first ran in first.
func (m *callMap) addShared(key uint64, first, rng int32) {
	if rng == first {
		return
	}
	if m.multi == nil {
		m.multi = map[uint64][]int32{}
	}
	rs, ok := m.multi[key]
	if !ok {
		rs = []int32{first}
	}
	if !slices.Contains(rs, rng) {
		rs = append(rs, rng)
	}
	m.multi[key] = rs
}

// page returns the page of corr, made when create is set.
func (pc *procCalls) page(corr uint32, create bool) *callPage {
	idx := corr >> pageBits
	if pc.lastPage != nil && pc.lastPageIdx == idx {
		return pc.lastPage
	}
	pg := pc.pages[idx]
	if pg == nil && create {
		pg = &callPage{}
		pc.pages[idx] = pg
	}
	if pg != nil {
		pc.lastPage, pc.lastPageIdx = pg, idx
	}
	return pg
}

// append adds the calls of o, read from the rows after m's, to m; a process
// whose calls in o do not all come after its calls in m is errUnordered.
func (m *callMap) append(o *callMap) error {
	for pid, oc := range o.procs {
		if mc := m.procs[pid]; mc != nil && len(oc.runs) > 0 && int64(oc.runs[0].first) <= mc.lastCorr {
			return errUnordered
		}
	}
	for pid, oc := range o.procs {
		mc := m.procs[pid]
		if mc == nil {
			m.procs[pid] = oc
			continue
		}
		runs := oc.runs
		if len(runs) > 0 && runs[0].rng == mc.lastRng {
			runs = runs[1:] // the run goes on
		}
		mc.runs = append(mc.runs, runs...)
		for i, pg := range oc.pages {
			if mp := mc.pages[i]; mp != nil {
				for w := range mp.lo {
					mp.lo[w] |= pg.lo[w]
				}
			} else {
				mc.pages[i] = pg
			}
		}
		mc.lastCorr, mc.lastRng = oc.lastCorr, oc.lastRng
		mc.lastPage = nil
	}
	for key, rs := range o.multi {
		if m.multi == nil {
			m.multi = map[uint64][]int32{}
		}
		m.multi[key] = rs
	}
	m.lastPid, m.last = 1<<63, nil
	return nil
}

// callSlot addresses a key's flags in its page.
type callSlot struct {
	page *callPage
	bit  uint32
}

// count notes that an op of the key was projected onto its ranges and says
// whether it is the key's first in the ranges' spans and in their nsys
// projections (graph replays count in the span only).
func (s callSlot) count(graph bool) (newProj, newSpan bool) {
	w, b := s.bit/64, uint64(1)<<(s.bit%64)
	lo, hi := s.page.lo[w]&b != 0, s.page.hi[w]&b != 0
	switch {
	case lo && !hi: // kept, nothing counted yet
		newSpan = true
		if graph {
			s.page.lo[w] &^= b // -> 2
		}
		s.page.hi[w] |= b // -> 2 or 3
		return !graph, newSpan
	case !lo && hi && !graph: // the span counted a replay: now the projection
		s.page.lo[w] |= b // -> 3
		return true, false
	}
	return false, false
}

// find returns the innermost range of the kept call with key, and its
// flags; -1 when no kept call has the key.
func (m *callMap) find(key uint64) (int32, callSlot) {
	pid, corr := key>>40, uint32(key)
	pc := m.proc(pid)
	if pc == nil {
		return -1, callSlot{}
	}
	pg := pc.page(corr, false)
	bit := corr % (1 << pageBits)
	if pg == nil || (pg.lo[bit/64]|pg.hi[bit/64])&(1<<(bit%64)) == 0 {
		return -1, callSlot{}
	}
	runs := pc.runs
	i := pc.cursor
	if i >= len(runs) || runs[i].first > corr || (i+1 < len(runs) && runs[i+1].first <= corr) {
		i = sort.Search(len(runs), func(i int) bool { return runs[i].first > corr }) - 1
		pc.cursor = i
	}
	return runs[i].rng, callSlot{pg, bit}
}

// resetCounted clears the projection's flags before a pass over the ops.
func (m *callMap) resetCounted() {
	for _, pc := range m.procs {
		for _, pg := range pc.pages {
			for w := range pg.lo {
				pg.lo[w] |= pg.hi[w] // every kept call back to 1
				pg.hi[w] = 0
			}
		}
	}
}
