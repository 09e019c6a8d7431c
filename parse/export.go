package parse

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Warning codes carried in Summary.Warnings.
const (
	WarnNoSteps         = "no_steps"
	WarnNoNVTX          = "no_nvtx"
	WarnGraphTrace      = "graph_level_trace"
	WarnOverlappingStep = "overlapping_steps"
	WarnMissingTable    = "missing_table"
	WarnUnendedRanges   = "unended_ranges"
	WarnNoRuntime       = "no_runtime"
	WarnEmptySteps      = "empty_steps"
	WarnGraphsUntraced  = "graphs_untraced"
	// WarnImpossibleTimes: GPU ops or NVTX ranges whose times cannot be
	// real (end before start, a missing start or end, values beyond ±2^62
	// ns) were dropped rather than averaged in.
	WarnImpossibleTimes = "impossible_times"
)

// Export reads an Nsight Systems SQLite export (nsys export --type sqlite)
// into a Summary. Errors name the file and what is wrong with it; things a
// reader should know but that do not stop the summary (no step ranges,
// graph-level tracing, missing optional tables, overlapping steps) are
// Summary.Warnings.
//
// How it reads the export:
//
//   - Tables and columns are detected (sqlite_master, PRAGMA table_info);
//     only the CUDA activity tables are required. The file is opened
//     read-only and immutable.
//   - Every GPU op (kernel, memcpy, memset, and in graph-level traces each
//     CUDA-graph replay) is joined to the CUDA API call that launched it on
//     (process, correlationId), and projected onto every NVTX push/pop range
//     that contains that call on the same thread, as `nsys stats -r
//     nvtxgpuproj` does: a step's span runs from its first op's start to its
//     last op's end. For kernels, memcpys and memsets this agrees with nsys
//     to the nanosecond; graph replays, which nsys leaves out, are counted as
//     the GPU work they are.
//   - Steps are the ranges inside the scope (opts.Scope, default the whole
//     capture) whose names say prefill, decode or mixed (see Options).
//     Ops count toward the window when they were launched inside the scope
//     range (every op without a scope).
//   - With several devices or any communication kernel, per-device busy,
//     communication and exposed time are accounted over the window and the
//     decode steps (Summary.Devices, Summary.Communication); NCCL's Generic
//     kernels are named after the NCCL call around their launch.
//   - The kernel and runtime tables are each read once, on two connections
//     in parallel; SQLite filters out API calls that never launch GPU work.
func Export(ctx context.Context, path string, opts Options) (*Summary, error) {
	return ExportAs(ctx, path, path, opts)
}

// ExportAs is Export for a file that the user knows by another name (a
// decompressed or converted temporary copy): errors and Source.File use
// name.
func ExportAs(ctx context.Context, path, name string, opts Options) (*Summary, error) {
	p, err := load(ctx, path, opts, groupShort)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p.file = filepath.Base(name)
	return p.summary(), nil
}

// profile is an export loaded into aggregates: the ranges with their
// projections, the steps and the in-scope GPU ops.
type profile struct {
	file   string
	opts   Options
	strs   map[int64]string
	groups []string // group names for groupDemangledGridBlock
	by     groupBy
	ranges []nvtxRange
	steps  []*stepAgg
	scope  int32 // range index of the first scope range, -1 for the whole capture
	// scopes maps each process to its own scope range: in a multi-process
	// export (one per rank) every process marks its own measured part.
	scopes  map[int64]int32
	ops     []gpuOp
	inScope []bool // per op
	opStep  []int32
	copy    map[int64]string // copyKind -> direction
	mode    string
	meta    map[string]string
	gpu     GPU
	warn    []Warning
	classes *classifier
	// graphLaunches is the number of cudaGraphLaunch calls the runtime scan saw.
	graphLaunches int
	// generic marks the name ids of NCCL's Generic kernels; genericOps are
	// the ops among them that a range call launched, with the call's
	// innermost range (see resolveGeneric).
	generic    map[int32]bool
	genericOps []genericOp
}

// stepAgg is one step range and the GPU work projected onto it.
type stepAgg struct {
	rng   int32
	phase string
	syncs int
}

func (p *profile) warnf(code, format string, args ...any) {
	p.warn = append(p.warn, Warning{Code: code, Message: fmt.Sprintf(format, args...)})
}

// load reads the export: metadata and ranges first (small), then the
// runtime table on one connection while the GPU tables are read on another,
// then the projection in memory.
func load(ctx context.Context, path string, opts Options, by groupBy) (*profile, error) {
	ph, err := newPhaser(opts.Phases)
	if err != nil {
		return nil, err
	}
	classes, err := newClassifier(opts.Components)
	if err != nil {
		return nil, err
	}
	s, err := openExport(ctx, path)
	if err != nil {
		return nil, err
	}
	defer s.close()
	if !s.has(tKernel) && !s.has(tMemcpy) && !s.has(tMemset) && !s.has(tGraphTrace) {
		if len(s.tables) == 0 {
			return nil, errors.New("empty SQLite database, not an Nsight Systems export")
		}
		return nil, errors.New("no CUDA activity tables (CUPTI_ACTIVITY_KIND_*): not an Nsight Systems export, or traced without -t cuda")
	}
	p := &profile{file: filepath.Base(path), opts: opts, by: by, scope: -1, classes: classes}
	if err := p.readMeta(ctx, s); err != nil {
		return nil, err
	}
	if p.strs, err = readStrings(ctx, s); err != nil {
		return nil, err
	}
	p.generic = genericKernels(p.strs, by)
	if p.copy, err = readCopyKinds(ctx, s); err != nil {
		return nil, err
	}
	for _, t := range []string{tRuntime, tNVTX, tGPU} {
		if !s.has(t) {
			p.warnf(WarnMissingTable, "the export has no %s table", t)
		}
	}
	bad := map[string]int{} // table -> rows with impossible times
	var unended int
	if p.ranges, unended, err = readRanges(ctx, s, bad); err != nil {
		return nil, err
	}
	if unended > 0 {
		p.warnf(WarnUnendedRanges, "%d NVTX push/pop ranges never ended and were ignored", unended)
	}
	byTid := nest(p.ranges)
	if err := p.findSteps(ph); err != nil {
		return nil, err
	}
	api := map[int64]apiKind{}
	for id, v := range p.strs {
		switch {
		case syncAPI.MatchString(v):
			api[id] = apiSync
		case graphLaunchAPI.MatchString(v):
			api[id] = apiGraphLaunch
		case noWorkAPI.MatchString(v):
			api[id] = apiNoWork
		}
	}
	// Ask for every column before the parallel scans: the schema cache is
	// not safe for concurrent use.
	for _, t := range []string{tKernel, tMemcpy, tMemset, tGraphTrace, tRuntime} {
		s.hasColumn(ctx, t, "deviceId")
	}
	syncs := make([]int, len(p.steps))
	var l *launches
	var rtErr error
	done := make(chan struct{})
	rconn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, sqliteErr(err)
	}
	defer rconn.Close()
	go func() {
		defer close(done)
		l, rtErr = scanRuntime(ctx, rconn, s, p.ranges, byTid, api, syncs)
	}()
	kconn, err := s.db.Conn(ctx)
	if err != nil {
		<-done
		return nil, sqliteErr(err)
	}
	defer kconn.Close()
	var ops []gpuOp
	if s.has(tKernel) {
		ops, err = scanKernels(ctx, kconn, s, by, &p.groups, ops, bad)
	}
	if err == nil {
		ops, err = scanSmall(ctx, kconn, s, ops, bad)
	}
	<-done
	if err != nil {
		return nil, err
	}
	if rtErr != nil {
		return nil, rtErr
	}
	if len(bad) > 0 {
		var parts []string
		n := 0
		for _, t := range sortedKeys(bad) {
			parts = append(parts, fmt.Sprintf("%s %d", t, bad[t]))
			n += bad[t]
		}
		p.warnf(WarnImpossibleTimes, "%d rows with impossible times (end before start, a missing start or end, or beyond ±2^62 ns) were dropped: %s", n, strings.Join(parts, ", "))
	}
	if len(ops) == 0 {
		return nil, errors.New("no GPU work in the export (no kernels, memcpys, memsets or graph replays)")
	}
	for i, st := range p.steps {
		st.syncs = syncs[i]
	}
	p.ops = ops
	p.graphLaunches = l.graphLaunches
	p.project(l)
	if len(p.ranges) > 0 && len(l.first) == 0 && s.has(tRuntime) {
		p.warnf(WarnNoRuntime, "no CUDA runtime call ran inside an NVTX range: GPU work cannot be attributed to ranges")
	}
	return p, nil
}

// readMeta reads the exporting tool's version, the GPU description and the
// driver versions, all optional.
func (p *profile) readMeta(ctx context.Context, s *schema) error {
	p.meta = map[string]string{}
	if s.has(tMeta) {
		rows, err := s.db.QueryContext(ctx, `SELECT name, value FROM `+tMeta)
		if err != nil {
			return fmt.Errorf("%s: %w", tMeta, sqliteErr(err))
		}
		for rows.Next() {
			var k, v *string
			if err := rows.Scan(&k, &v); err != nil {
				rows.Close()
				return fmt.Errorf("%s: %w", tMeta, sqliteErr(err))
			}
			if k != nil && v != nil {
				p.meta[*k] = *v
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", tMeta, sqliteErr(err))
		}
	}
	if s.has(tGPU) {
		q := fmt.Sprintf(`SELECT coalesce(%s,''), coalesce(%s,''), coalesce(%s,0), coalesce(%s,0), coalesce(%s,0) FROM %s ORDER BY %s LIMIT 1`,
			s.colOr(ctx, tGPU, "name", "''"), s.colOr(ctx, tGPU, "chipName", "''"), s.colOr(ctx, tGPU, "smCount", "0"),
			s.colOr(ctx, tGPU, "totalMemory", "0"), s.colOr(ctx, tGPU, "memoryBandwidth", "0"), tGPU, s.colOr(ctx, tGPU, "id", "rowid"))
		row := s.db.QueryRowContext(ctx, q)
		var bw float64
		err := row.Scan(&p.gpu.Name, &p.gpu.Chip, &p.gpu.SMs, &p.gpu.MemoryBytes, &bw)
		if err != nil && !strings.Contains(err.Error(), "no rows") {
			return fmt.Errorf("%s: %w", tGPU, sqliteErr(err))
		}
		p.gpu.PeakBandwidth = bw
	}
	if s.has(tSystemEnv) && s.hasColumn(ctx, tSystemEnv, "name") && s.hasColumn(ctx, tSystemEnv, "value") {
		rows, err := s.db.QueryContext(ctx, `SELECT name, value FROM `+tSystemEnv+` WHERE name IN ('NvDriverVersion', 'CudaDriverVersion')`)
		if err != nil {
			return fmt.Errorf("%s: %w", tSystemEnv, sqliteErr(err))
		}
		for rows.Next() {
			var k, v *string
			if rows.Scan(&k, &v) != nil || k == nil || v == nil {
				continue
			}
			switch *k {
			case "NvDriverVersion":
				p.gpu.Driver = *v
			case "CudaDriverVersion":
				p.gpu.CUDA = cudaVersion(*v)
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", tSystemEnv, sqliteErr(err))
		}
	}
	return nil
}

// cudaVersion turns the driver API's integer version (13000) into "13.0".
func cudaVersion(v string) string {
	var n int
	if _, err := fmt.Sscanf(v, "%d", &n); err != nil || n < 1000 {
		return v
	}
	return fmt.Sprintf("%d.%d", n/1000, n%1000/10)
}

// readStrings loads StringIds: names of kernels, API calls and NVTX text.
func readStrings(ctx context.Context, s *schema) (map[int64]string, error) {
	m := map[int64]string{}
	if !s.has(tStrings) {
		return m, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, coalesce(value, '') FROM `+tStrings)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tStrings, sqliteErr(err))
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var v string
		if err := rows.Scan(&id, &v); err != nil {
			return nil, fmt.Errorf("%s: %w", tStrings, sqliteErr(err))
		}
		m[id] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", tStrings, sqliteErr(err))
	}
	return m, nil
}

// copyKindName matches ENUM_CUDA_MEMCPY_OPER names: CUDA_MEMCPY_KIND_HTOD.
var copyKindName = regexp.MustCompile(`^CUDA_MEMCPY_KIND_(UVM_)?([A-Z])TO([A-Z])$`)

// readCopyKinds maps copyKind values to short directions (HtoD, DtoH, ...),
// from the export's own enum table where it has one.
func readCopyKinds(ctx context.Context, s *schema) (map[int64]string, error) {
	m := map[int64]string{1: "HtoD", 2: "DtoH", 8: "DtoD", 10: "PtoP"}
	if !s.has(tCopyKinds) {
		return m, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, coalesce(name, '') FROM `+tCopyKinds)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tCopyKinds, sqliteErr(err))
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, fmt.Errorf("%s: %w", tCopyKinds, sqliteErr(err))
		}
		m[id] = copyDirection(name)
	}
	return m, rows.Err()
}

// copyDirection shortens an enum name: CUDA_MEMCPY_KIND_HTOD -> HtoD,
// CUDA_MEMCPY_KIND_UVM_DTOH -> UVM DtoH, CUDA_MEMCPY_KIND_UNKNOWN -> Unknown.
func copyDirection(name string) string {
	if m := copyKindName.FindStringSubmatch(name); m != nil {
		d := m[2] + "to" + m[3]
		if m[1] != "" {
			d = "UVM " + d
		}
		return d
	}
	n := strings.TrimPrefix(name, "CUDA_MEMCPY_KIND_")
	if n == "" {
		return "Unknown"
	}
	return strings.ToUpper(n[:1]) + strings.ToLower(n[1:])
}

// findSteps picks the scope range and the step ranges inside it.
func (p *profile) findSteps(ph *phaser) error {
	if p.opts.Scope != "" {
		p.scopes = map[int64]int32{}
		for i := range p.ranges {
			r := &p.ranges[i]
			if r.name != p.opts.Scope {
				continue
			}
			pid := processOf(r.tid)
			if j, ok := p.scopes[pid]; !ok || r.start < p.ranges[j].start {
				p.scopes[pid] = int32(i)
			}
			if p.scope < 0 || r.start < p.ranges[p.scope].start {
				p.scope = int32(i)
			}
		}
		if p.scope < 0 {
			return fmt.Errorf("scope: no NVTX push/pop range named %q", p.opts.Scope)
		}
	}
	for i := range p.ranges {
		r := &p.ranges[i]
		if p.scope >= 0 {
			j, ok := p.scopes[processOf(r.tid)]
			if !ok {
				continue // a process without a scope range measured nothing
			}
			sc := &p.ranges[j]
			if int32(i) == j || r.start < sc.start || r.end > sc.end {
				continue
			}
		}
		phase := ph.phase(r.name)
		if phase == "" {
			continue
		}
		r.step = int32(len(p.steps))
		p.steps = append(p.steps, &stepAgg{rng: int32(i), phase: phase})
	}
	// Ranges nested inside a step belong to it (sorted order puts parents
	// first, so one pass propagates).
	for i := range p.ranges {
		r := &p.ranges[i]
		if r.step < 0 && r.parent >= 0 {
			r.step = p.ranges[r.parent].step
		}
	}
	return nil
}

// isScope reports whether range r is its process's scope range.
func (p *profile) isScope(r int32) bool {
	if p.scope < 0 {
		return false
	}
	j, ok := p.scopes[processOf(p.ranges[r].tid)]
	return ok && j == r
}

// processOf is the process id within a globalTid or globalPid.
func processOf(global int64) int64 { return (global >> 24) & 0xFFFFFF }

// project attributes every GPU op to the ranges that contain its launching
// call, as nsys's nvtxgpuproj does, and marks the ops inside the scope. All
// ops of one (process, correlationId) share the same ranges, so a per-key
// bit set is enough to count distinct correlation ids per range.
func (p *profile) project(l *launches) {
	for i := range p.ranges {
		r := &p.ranges[i]
		r.projStart, r.projEnd, r.spanStart, r.spanEnd = -1, -1, -1, -1
	}
	p.inScope = make([]bool, len(p.ops))
	p.opStep = make([]int32, len(p.ops))
	const (
		countedProj = 1 << iota
		countedSpan
	)
	var single [1]int32
	var chain []int32
	for i := range p.ops {
		op := &p.ops[i]
		p.opStep[i] = -1
		p.inScope[i] = p.scope < 0
		e, found := l.first[op.key]
		if !found {
			continue
		}
		ent := &l.entries[e]
		if op.kind == opKernel && p.generic[op.name] {
			p.genericOps = append(p.genericOps, genericOp{op: int32(i), rng: ent.rng})
		}
		single[0] = ent.rng
		inner := single[:1]
		if l.multi != nil {
			if m, ok := l.multi[op.key]; ok {
				inner = m
			}
		}
		newProj := op.kind != opGraph && ent.counted&countedProj == 0
		newSpan := ent.counted&countedSpan == 0
		if op.kind != opGraph {
			ent.counted |= countedProj
		}
		ent.counted |= countedSpan
		chain = chain[:0]
		for _, r0 := range inner {
			for r := r0; r >= 0; r = p.ranges[r].parent {
				if len(inner) > 1 && slices.Contains(chain, r) {
					break // a shared ancestor: already on the chain
				}
				chain = append(chain, r)
			}
		}
		for _, r := range chain {
			rg := &p.ranges[r]
			if p.isScope(r) {
				p.inScope[i] = true
			}
			if p.opStep[i] < 0 && rg.step >= 0 {
				p.opStep[i] = rg.step
				p.inScope[i] = true
			}
			if op.kind != opGraph {
				if rg.projStart < 0 || op.start < rg.projStart {
					rg.projStart = op.start
				}
				rg.projEnd = max(rg.projEnd, op.end)
				if newProj {
					rg.projOps++
				}
			}
			if rg.spanStart < 0 || op.start < rg.spanStart {
				rg.spanStart = op.start
			}
			rg.spanEnd = max(rg.spanEnd, op.end)
			if newSpan {
				rg.spanOps++
			}
		}
	}
	p.mode = TraceNode
	for _, op := range p.ops {
		if op.kind == opGraph {
			p.mode = TraceGraph
			break
		}
	}
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
