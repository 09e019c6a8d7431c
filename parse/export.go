package parse

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Warning codes carried in Summary.Warnings.
const (
	WarnNoSteps = "no_steps"
	// WarnNoNVTX: the export holds no NVTX range (nsys traced without
	// NVTX, or the workload emits none) and no step could be inferred
	// either; where steps were inferred, WarnInferredSteps says both.
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
	// WarnNullIds: rows with NULL ids (correlationId, shortName) or kernel
	// name ids that StringIds lacks; named and counted as well as can be.
	WarnNullIds = "null_ids"
	// WarnInferredSteps: no NVTX step range matched, or the export holds
	// no NVTX range at all (the message says which, and why that happens),
	// and the steps were inferred from the launch stream
	// (Source.StepSource says how).
	WarnInferredSteps = "inferred_steps"
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
//     capture) whose names say prefill, decode or mixed (see Options):
//     push/pop or start/end ranges, of opts.Domain when set, the outermost
//     where they nest. Where none matches, steps are inferred from the
//     launch stream (infer.go, inferred.go; opts.Infer).
//     Ops count toward the window when they were launched inside the scope
//     range (every op without a scope).
//   - With several devices or any communication kernel, per-device busy,
//     communication and exposed time are accounted over the window and the
//     decode steps (Summary.Devices, Summary.Communication); NCCL's Generic
//     kernels are named after the NCCL call around their launch.
//   - Each big table is read once, in table order, through SQLite's C API
//     (internal/sqlread), and nothing per row is kept but what the summary
//     needs (a kernel's duration for its exact median): the runtime table
//     in two halves on two connections, then the GPU ops as one stream in
//     start order (see calls.go and ops.go). Tables out of order are sorted
//     first. Per-device accounting reads the GPU ops a second time.
//   - Where the export sampled the GPU's counters (GPU_METRICS), the
//     samples are read last, once, and integrated over the steps' GPU
//     windows (see gpumetrics.go): Summary.GPUMetrics.
func Export(ctx context.Context, path string, opts Options) (*Summary, error) {
	return ExportAs(ctx, path, path, opts)
}

// ExportAs is Export for a file that the user knows by another name (a
// decompressed or converted temporary copy): errors and Source.File use
// name.
func ExportAs(ctx context.Context, path, name string, opts Options) (*Summary, error) {
	p, db, err := openProfile(ctx, path, opts, groupShort)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defer db.close()
	p.file = filepath.Base(name)
	s := p.summary()
	if err := readGPUMetrics(ctx, db, s); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return s, nil
}

// profile is an export read into aggregates: the ranges with their
// projections, the steps, and what the in-scope GPU ops added up to.
type profile struct {
	file    string
	opts    Options
	by      groupBy
	classes *classifier
	meta    map[string]string
	gpu     GPU
	strs    map[int64]string
	groups  []string         // group names for groupDemangledGridBlock
	copy    map[int64]string // copyKind -> direction
	warn    []Warning

	ranges []nvtxRange
	byTid  map[int64]*threadRanges
	steps  []*stepAgg
	scope  int32 // range index of the first scope range, -1 for the whole capture
	// scopes maps each process to its own scope range: in a multi-process
	// export (one per rank) every process marks its own measured part.
	scopes  map[int64]int32
	isScope []bool // per range: its process's scope range

	calls *callMap     // runtime calls inside ranges
	mode  string       // TraceNode or TraceGraph
	acc   *opAcc       // what the in-scope GPU ops added up to
	devs  *deviceUsage // per device, when there is more than one or communication
	// graphLaunches is the number of cudaGraphLaunch calls the runtime scan saw.
	graphLaunches int
	// generic marks the name ids of NCCL's Generic kernels; genericOps are
	// the in-scope ones a range call launched (see resolveGeneric).
	generic    map[int32]bool
	genericOps []genericOp
	// bad counts rows with impossible times, by table.
	bad map[string]int
	// nullCorr counts GPU op rows without a correlationId, by table;
	// nullNames kernel rows without a shortName; unknownNames the kernel
	// name ids that StringIds lacks.
	nullCorr map[string]int
	// unended counts the push/pop ranges that never ended, by name.
	unended      map[string]int
	nullNames    int
	unknownNames map[int32]bool
	// sorted records the fallbacks taken for tables out of order: the
	// runtime calls (sorted by key), the kernels (sorted by start).
	sorted struct{ calls, kernels bool }
	// stepSource says how the steps were found (Source.StepSource);
	// inferred are the inferred steps by correlation id (inferred.go).
	stepSource string
	inferred   *stepIndex
	// syncCalls are the host synchronisations (opKey) and recs the kernel
	// table read into records, when steps are inferred.
	syncCalls []uint64
	recs      *kernelRecs
	// single and chain are project's scratch space.
	single [1]int32
	chain  []int32
}

// stepAgg is one step: its range (-1 for a step inferred from the launch
// stream, see inferred.go), phase, shape (from its name) and host
// synchronisations.
type stepAgg struct {
	rng   int32
	phase string
	shape shape
	syncs int
}

func (p *profile) warnf(code, format string, args ...any) {
	p.warn = append(p.warn, Warning{Code: code, Message: fmt.Sprintf(format, args...)})
}

// load reads the export into a profile: the small tables first (metadata,
// strings, NVTX ranges and the steps among them), then the runtime calls
// made inside ranges, then every GPU op once, projected and aggregated as it
// comes; a second pass over the GPU ops accounts devices where needed.
func load(ctx context.Context, path string, opts Options, by groupBy) (*profile, error) {
	p, s, err := openProfile(ctx, path, opts, by)
	if err != nil {
		return nil, err
	}
	s.close()
	return p, nil
}

// openProfile is load that leaves the export open, for the caller to read
// the GPU-metrics samples against the finished summary on the same
// connection (and close it); on an error it is closed.
func openProfile(ctx context.Context, path string, opts Options, by groupBy) (_ *profile, _ *schema, err error) {
	ph, err := newPhaser(opts.Phases)
	if err != nil {
		return nil, nil, err
	}
	classes, err := newClassifier(opts.Components)
	if err != nil {
		return nil, nil, err
	}
	s, err := openExport(ctx, path)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	if err := checkActivity(s); err != nil {
		return nil, nil, err
	}
	p := &profile{file: filepath.Base(path), opts: opts, by: by, scope: -1, classes: classes, bad: map[string]int{}, nullCorr: map[string]int{}, unknownNames: map[int32]bool{}}
	if err := p.readSmall(ctx, s, ph); err != nil {
		return nil, nil, err
	}
	var ks *kernelScan
	if s.has(tKernel) {
		ks = p.newKernelScan(ctx, s)
	}
	if err := p.readCallsAndRecs(ctx, s, ks); err != nil {
		return nil, nil, err
	}
	if err := p.readOps(ctx, s, ks); err != nil {
		return nil, nil, err
	}
	p.warnBad()
	p.warnNullIds()
	if len(p.ranges) > 0 && p.calls.empty() && s.has(tRuntime) {
		p.warnf(WarnNoRuntime, "no CUDA runtime call ran inside an NVTX range: GPU work cannot be attributed to ranges")
	}
	return p, s, nil
}

// checkActivity refuses a file without any CUDA activity table.
func checkActivity(s *schema) error {
	if s.has(tKernel) || s.has(tMemcpy) || s.has(tMemset) || s.has(tGraphTrace) {
		return nil
	}
	if len(s.tables) == 0 {
		return errors.New("empty SQLite database, not an Nsight Systems export")
	}
	return errors.New("no CUDA activity tables (CUPTI_ACTIVITY_KIND_*): not an Nsight Systems export, or traced without -t cuda")
}

// readSmall reads what is small next to the activity tables: metadata,
// strings, copy kinds, and the NVTX ranges with the steps among them.
func (p *profile) readSmall(ctx context.Context, s *schema, ph *phaser) error {
	if err := p.readMeta(ctx, s); err != nil {
		return err
	}
	var err error
	if p.strs, err = readStrings(ctx, s); err != nil {
		return err
	}
	p.generic = genericKernels(p.strs, p.by)
	if p.copy, err = readCopyKinds(ctx, s); err != nil {
		return err
	}
	// A missing NVTX_EVENTS table is said once, as no NVTX ranges
	// (noNVTX).
	for _, t := range []string{tRuntime, tGPU} {
		if !s.has(t) {
			p.warnf(WarnMissingTable, "the export has no %s table", t)
		}
	}
	if p.ranges, p.unended, err = readRanges(ctx, s, p.bad); err != nil {
		return err
	}
	if n := sumCounts(p.unended); n > 0 {
		p.warnf(WarnUnendedRanges, "%d NVTX ranges never ended and were ignored", n)
	}
	p.byTid = nest(p.ranges)
	return p.findSteps(ph)
}

// warnBad reports the rows dropped for impossible times, by table.
func (p *profile) warnBad() {
	if len(p.bad) == 0 {
		return
	}
	p.warnf(WarnImpossibleTimes, "%d rows with impossible times (end before start, a missing start or end, or beyond ±2^62 ns) were dropped: %s", sumCounts(p.bad), byTable(p.bad))
}

func sumCounts(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// byTable lists counts by table for a warning: "KERNEL 3, MEMCPY 1".
func byTable(m map[string]int) string {
	var parts []string
	for _, t := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %d", t, m[t]))
	}
	return strings.Join(parts, ", ")
}

// warnNullIds reports GPU op rows without a correlationId (the schema allows
// NULL there: such rows count in the window and the kernel table, but no
// range can claim them) and kernel rows without a shortName.
func (p *profile) warnNullIds() {
	if len(p.nullCorr) > 0 {
		p.warnf(WarnNullIds, "%d GPU op rows have no correlationId and cannot be attributed to NVTX ranges: %s", sumCounts(p.nullCorr), byTable(p.nullCorr))
	}
	if p.nullNames > 0 {
		p.warnf(WarnNullIds, "%d %s rows have no shortName: named by their demangled name", p.nullNames, tKernel)
	}
}

// readMeta reads the exporting tool's version, the GPU description and the
// driver versions, all optional.
func (p *profile) readMeta(ctx context.Context, s *schema) error {
	p.meta = map[string]string{}
	if s.has(tMeta) {
		rows, err := s.db.Query(ctx, `SELECT name, value FROM `+tMeta)
		if err != nil {
			return fmt.Errorf("%s: %w", tMeta, sqliteErr(err))
		}
		for rows.Next() {
			if !rows.IsNull(0) && !rows.IsNull(1) {
				p.meta[rows.Text(0)] = rows.Text(1)
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("%s: %w", tMeta, sqliteErr(err))
		}
	}
	if s.has(tGPU) {
		q := fmt.Sprintf(`SELECT %s, %s, %s, %s, %s FROM %s ORDER BY %s LIMIT 1`,
			s.colOr(ctx, tGPU, "name", "''"), s.colOr(ctx, tGPU, "chipName", "''"), s.colOr(ctx, tGPU, "smCount", "0"),
			s.colOr(ctx, tGPU, "totalMemory", "0"), s.colOr(ctx, tGPU, "memoryBandwidth", "0"), tGPU, s.colOr(ctx, tGPU, "id", "rowid"))
		rows, err := s.db.Query(ctx, q)
		if err != nil {
			return fmt.Errorf("%s: %w", tGPU, sqliteErr(err))
		}
		if rows.Next() {
			p.gpu.Name, p.gpu.Chip = rows.Text(0), rows.Text(1)
			p.gpu.SMs, p.gpu.MemoryBytes, p.gpu.PeakBandwidth = int(rows.Int64(2)), rows.Int64(3), rows.Float64(4)
			rows.Close()
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("%s: %w", tGPU, sqliteErr(err))
		}
	}
	if s.has(tSystemEnv) && s.hasColumn(ctx, tSystemEnv, "name") && s.hasColumn(ctx, tSystemEnv, "value") {
		rows, err := s.db.Query(ctx, `SELECT name, value FROM `+tSystemEnv+` WHERE name IN ('NvDriverVersion', 'CudaDriverVersion') AND value IS NOT NULL`)
		if err != nil {
			return fmt.Errorf("%s: %w", tSystemEnv, sqliteErr(err))
		}
		for rows.Next() {
			switch rows.Text(0) {
			case "NvDriverVersion":
				p.gpu.Driver = rows.Text(1)
			case "CudaDriverVersion":
				p.gpu.CUDA = cudaVersion(rows.Text(1))
			}
		}
		if err := rows.Err(); err != nil {
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
	rows, err := s.db.Query(ctx, `SELECT id, value FROM `+tStrings)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tStrings, sqliteErr(err))
	}
	for rows.Next() {
		m[rows.Int64(0)] = rows.Text(1)
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
	rows, err := s.db.Query(ctx, `SELECT id, name FROM `+tCopyKinds)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tCopyKinds, sqliteErr(err))
	}
	for rows.Next() {
		m[rows.Int64(0)] = copyDirection(rows.Text(1))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", tCopyKinds, sqliteErr(err))
	}
	return m, nil
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

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
