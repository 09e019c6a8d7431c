package parse

// The per-device and communication figures of an export computed a second
// way, with SQL over the export instead of the parser's in-memory pass: the
// independent oracle the tests hold parse.Export to. It was the production
// path once (FillDevices); Export now does all of it itself.

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/nsys-gate/gate/parse/internal/timeline"
)

// oracleFillDevicesFile opens the export at path read-only and calls oracleFillDevices.
// It opens nothing when the summary has a single device and no
// communication kernel.
func oracleFillDevicesFile(ctx context.Context, s *Summary, path string) error {
	if !needsDevices(s) {
		return nil
	}
	u := url.URL{Scheme: "file", Opaque: (&url.URL{Path: path}).EscapedPath(), RawQuery: "mode=ro&immutable=1"}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return err
	}
	defer db.Close()
	return oracleFillDevices(ctx, s, db)
}

// oracleFillDevices fills s.Devices (when the export has more than one device)
// and s.Communication (when it has communication kernels) from the export
// that s was made from: one query streams every kernel, memcpy, memset and
// graph replay inside the summary's window, ordered by device and start,
// through a DeviceAccumulator. The step windows are the summary's decode
// steps (the steady state; every step when there is no decode phase), on the
// device Step.Device names. A kernel is communication when its row in
// s.Kernels has the communication component or isCommunication says so.
//
// It leaves a single-device summary without communication kernels as it is.
func oracleFillDevices(ctx context.Context, s *Summary, db *sql.DB) error {
	if !needsDevices(s) {
		return nil
	}
	q, err := deviceOpsQuery(ctx, db)
	if err != nil {
		return err
	}
	if q == "" {
		return nil
	}
	class, err := kernelClasses(ctx, db, s.Kernels)
	if err != nil {
		return err
	}
	var windows []timeline.Window
	for _, st := range stepSamples(s) {
		if st.SpanNs > 0 {
			windows = append(windows, timeline.Window{Device: st.Device, StartNs: st.StartNs, EndNs: st.StartNs + st.SpanNs})
		}
	}
	lo, hi := s.Source.WindowStartNs, s.Source.WindowEndNs
	acc, err := timeline.NewAccumulator(lo, hi, windows)
	if err != nil {
		return err
	}
	if hi <= lo {
		lo, hi = 0, 1<<62
	}
	rows, err := db.QueryContext(ctx, q, lo, hi)
	if err != nil {
		return fmt.Errorf("per-device ops: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var op timeline.Op
		var kind, name int64
		if err := rows.Scan(&op.Device, &op.StartNs, &op.EndNs, &kind, &name); err != nil {
			return fmt.Errorf("per-device ops: %w", err)
		}
		op.Class = timeline.Class(kind)
		if op.Class == timeline.Compute && class[name] {
			op.Class = timeline.Comm
		}
		if err := acc.Add(op); err != nil {
			return fmt.Errorf("per-device ops: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("per-device ops: %w", err)
	}
	devs, comm := buildDevices(acc.Devices(), acc.Steps(), s.Kernels, s.GPU.Name)
	if len(devs) < 2 {
		devs = nil
	}
	if comm != nil {
		var kernelNs int64
		for _, k := range s.Kernels {
			kernelNs += k.TotalNs
		}
		if err := oracleResolveGeneric(ctx, db, comm, kernelNs, s.Source.WindowStartNs, s.Source.WindowEndNs); err != nil {
			return err
		}
	}
	s.Devices, s.Communication = devs, comm
	return nil
}

// needsDevices says whether a summary has anything per device to fill:
// more than one device, or communication kernels.
func needsDevices(s *Summary) bool {
	if s.GPU.Devices > 1 {
		return true
	}
	for _, k := range s.Kernels {
		if k.Component == CompCommunication || isCommunication(k.Name) {
			return true
		}
	}
	return false
}

// deviceOpsQuery builds the query over the GPU activity tables the export
// has: device, start, end, class (timeline.Compute for kernels and graph replays,
// timeline.Memory for copies and sets) and the kernel's name id (-1 otherwise),
// for ops that meet [?1, ?2), ordered by device and start. It returns ""
// when the export has none of these tables.
func deviceOpsQuery(ctx context.Context, db *sql.DB) (string, error) {
	parts := []string{}
	for _, t := range []struct {
		table string
		class timeline.Class
		names []string // name columns, first present wins
	}{
		{tKernel, timeline.Compute, []string{"shortName", "demangledName"}},
		{tMemcpy, timeline.Memory, nil},
		{tMemset, timeline.Memory, nil},
		{tGraphTrace, timeline.Compute, nil},
	} {
		cols, err := exportColumns(ctx, db, t.table)
		if err != nil {
			return "", err
		}
		if !cols["start"] || !cols["end"] {
			continue
		}
		dev := "0"
		if cols["deviceId"] {
			dev = "deviceId"
		}
		name := "-1"
		for _, n := range t.names {
			if cols[n] {
				name = n
				break
			}
		}
		parts = append(parts, fmt.Sprintf(`SELECT %s, start, end, %d, %s FROM %s WHERE end > ?1 AND start < ?2`, dev, t.class, name, t.table))
	}
	if len(parts) == 0 {
		return "", nil
	}
	return strings.Join(parts, " UNION ALL ") + " ORDER BY 1, 2, 3", nil
}

// tableColumns returns the columns of table, none when it does not exist.
func exportColumns(ctx context.Context, db *sql.DB, table string) (map[string]bool, error) {
	rows, err := db.QueryContext(ctx, `SELECT name FROM pragma_table_info(?)`, table)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", table, err)
	}
	defer rows.Close()
	cols := map[string]bool{}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, fmt.Errorf("%s: %w", table, err)
		}
		cols[c] = true
	}
	return cols, rows.Err()
}

// kernelClasses returns the name ids of the communication kernels in the
// kernel table: those whose name is a communication kernel by
// isCommunication or by its summary row's component.
func kernelClasses(ctx context.Context, db *sql.DB, kernels []Kernel) (map[int64]bool, error) {
	comm := map[string]bool{}
	for _, k := range kernels {
		if k.Component == CompCommunication {
			comm[k.Name] = true
		}
	}
	cols, err := exportColumns(ctx, db, tKernel)
	if err != nil {
		return nil, err
	}
	col := ""
	for _, n := range []string{"shortName", "demangledName"} {
		if cols[n] {
			col = n
			break
		}
	}
	out := map[int64]bool{}
	if col == "" {
		return out, nil
	}
	q := fmt.Sprintf(`SELECT id, value FROM %s WHERE id IN (SELECT DISTINCT %s FROM %s)`, tStrings, col, tKernel)
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tStrings, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, fmt.Errorf("%s: %w", tStrings, err)
		}
		if comm[name] || isCommunication(name) {
			out[id] = true
		}
	}
	return out, rows.Err()
}

// oracleResolveGeneric names the collective behind ncclDevKernel_Generic kernels
// from NCCL's own NVTX ranges. NCCL wraps every API call in a push/pop range
// named after it (ncclAllReduce, ncclAllGather, ncclSend, ... in the NCCL
// domain) and, outside a group, launches the kernel inside that call; so the
// innermost nccl* range around the CUDA call that launched a generic kernel
// (same thread, joined on correlationId within the process) says which
// collective it served; inside ncclGroupEnd, the calls made since
// ncclGroupStart say it, when they all name one collective. Generic kernels
// launched elsewhere (a group of several collectives, the replay of a CUDA
// graph that captured the collective) stay Generic. The time and count moved are taken off the Generic collective
// and added to the named one in c; shares are of kernelNs.
func oracleResolveGeneric(ctx context.Context, db *sql.DB, c *Communication, kernelNs, lo, hi int64) error {
	gi := -1
	for i, k := range c.Collectives {
		if k.Name == CollGeneric {
			gi = i
		}
	}
	if gi < 0 {
		return nil
	}
	kcols, err := exportColumns(ctx, db, tKernel)
	if err != nil {
		return err
	}
	rcols, err := exportColumns(ctx, db, tRuntime)
	if err != nil {
		return err
	}
	ncols, err := exportColumns(ctx, db, tNVTX)
	if err != nil {
		return err
	}
	if !kcols["shortName"] || !kcols["correlationId"] || !kcols["globalPid"] ||
		!rcols["correlationId"] || !rcols["globalTid"] || !ncols["globalTid"] || !ncols["eventType"] {
		return nil
	}
	text := "n.text"
	switch {
	case ncols["text"] && ncols["textId"]:
		text = "COALESCE(n.text, s.value)"
	case ncols["textId"]:
		text = "s.value"
	case !ncols["text"]:
		return nil
	}
	ranges, err := ncclRanges(ctx, db, text)
	if err != nil || len(ranges) == 0 {
		return err
	}

	// The generic kernels in the window and the start of the call that
	// launched each.
	q := fmt.Sprintf(`SELECT r.globalTid, r.start, k.end - k.start
		FROM %[1]s k JOIN %[2]s r ON r.correlationId = k.correlationId AND (r.globalTid >> 24) = (k.globalPid >> 24)
		WHERE k.end > ?1 AND k.start < ?2 AND k.shortName IN (SELECT id FROM %[3]s WHERE value LIKE 'ncclDevKernel_Generic%%' OR value LIKE 'ncclKernel_Generic%%')`,
		tKernel, tRuntime, tStrings)
	if hi <= lo {
		lo, hi = 0, 1<<62
	}
	rows, err := db.QueryContext(ctx, q, lo, hi)
	if err != nil {
		return fmt.Errorf("generic NCCL kernels: %w", err)
	}
	defer rows.Close()
	moved := map[string]*Collective{}
	for rows.Next() {
		var tid, start, dur int64
		if err := rows.Scan(&tid, &start, &dur); err != nil {
			return fmt.Errorf("generic NCCL kernels: %w", err)
		}
		name := innermostCollective(ranges[tid], start)
		if name == "" {
			continue
		}
		m := moved[name]
		if m == nil {
			m = &Collective{Name: name}
			moved[name] = m
		}
		m.Count++
		m.TimeNs += dur
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("generic NCCL kernels: %w", err)
	}

	moveGeneric(c, gi, moved, kernelNs)
	return nil
}

// ncclRange is one NCCL API call's NVTX range and the collective it names;
// group marks ncclGroupStart (+1) and ncclGroupEnd (-1).
type ncclRange struct {
	start, end int64
	coll       string
	group      int
}

// ncclRanges reads the NVTX ranges whose name starts with "nccl", by thread,
// each thread's sorted by start. Ranges that name no collective
// (ncclGroupStart/End, ncclCommInitRank) are kept: they delimit groups, and
// they are the innermost range of the launches they contain.
func ncclRanges(ctx context.Context, db *sql.DB, text string) (map[int64][]ncclRange, error) {
	q := fmt.Sprintf(`SELECT n.globalTid, n.start, n.end, %s FROM %s n LEFT JOIN %s s ON s.id = n.textId
		WHERE n.eventType IN (59, 60) AND n.end IS NOT NULL AND %s LIKE 'nccl%%'`, text, tNVTX, tStrings, text)
	if !strings.Contains(text, "s.value") {
		q = fmt.Sprintf(`SELECT n.globalTid, n.start, n.end, %s FROM %s n
		WHERE n.eventType IN (59, 60) AND n.end IS NOT NULL AND %s LIKE 'nccl%%'`, text, tNVTX, text)
	}
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tNVTX, err)
	}
	defer rows.Close()
	out := map[int64][]ncclRange{}
	for rows.Next() {
		var tid sql.NullInt64
		var r ncclRange
		var name string
		if err := rows.Scan(&tid, &r.start, &r.end, &name); err != nil {
			return nil, fmt.Errorf("%s: %w", tNVTX, err)
		}
		if !tid.Valid {
			continue
		}
		switch c := collectiveOf(name); c {
		case "", CollOther, CollGeneric:
		default:
			r.coll = c
		}
		switch {
		case strings.HasPrefix(name, "ncclGroupStart"):
			r.group = +1
		case strings.HasPrefix(name, "ncclGroupEnd"):
			r.group = -1
		}
		out[tid.Int64] = append(out[tid.Int64], r)
	}
	for _, rs := range out {
		sort.Slice(rs, func(i, j int) bool { return rs[i].start < rs[j].start })
	}
	return out, rows.Err()
}

// innermostCollective returns the collective of the innermost range in rs
// (sorted by start) that contains t, or "". Nested ranges: the containing
// range that started last is the innermost; the search looks back a few
// ranges only, as NCCL's do not nest deeply. When that range is an
// ncclGroupEnd (a group launches its kernels there), the collective is that
// of the calls made since the ncclGroupStart before it, if they all name
// the same one.
func innermostCollective(rs []ncclRange, t int64) string {
	i := sort.Search(len(rs), func(i int) bool { return rs[i].start > t }) - 1
	for n := 0; i >= 0 && n < 16; i, n = i-1, n+1 {
		if rs[i].end < t {
			continue
		}
		if rs[i].group >= 0 {
			return rs[i].coll
		}
		coll := ""
		for j := i - 1; j >= 0 && rs[j].group != +1; j-- {
			switch {
			case rs[j].end > rs[i].start || rs[j].group < 0:
				return "" // not a plain sequence of calls: do not guess
			case rs[j].coll == "":
			case coll == "":
				coll = rs[j].coll
			case coll != rs[j].coll:
				return "" // a group of several collectives
			}
		}
		return coll
	}
	return ""
}
