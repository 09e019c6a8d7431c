package parse

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
)

// FillDevicesFile opens the export at path read-only and calls FillDevices.
// It opens nothing when the summary has a single device and no
// communication kernel.
func FillDevicesFile(ctx context.Context, s *Summary, path string) error {
	if !needsDevices(s) {
		return nil
	}
	u := url.URL{Scheme: "file", Opaque: (&url.URL{Path: path}).EscapedPath(), RawQuery: "mode=ro&immutable=1"}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return err
	}
	defer db.Close()
	return FillDevices(ctx, s, db)
}

// FillDevices fills s.Devices (when the export has more than one device)
// and s.Communication (when it has communication kernels) from the export
// that s was made from: one query streams every kernel, memcpy, memset and
// graph replay inside the summary's window, ordered by device and start,
// through a DeviceAccumulator. The step windows are the summary's decode
// steps (the steady state; every step when there is no decode phase), on the
// device Step.Device names. A kernel is communication when its row in
// s.Kernels has the communication component or IsCommunication says so.
//
// It leaves a single-device summary without communication kernels as it is.
func FillDevices(ctx context.Context, s *Summary, db *sql.DB) error {
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
	var windows []StepWindow
	for _, st := range stepSamples(s) {
		if st.SpanNs > 0 {
			windows = append(windows, StepWindow{Device: st.Device, StartNs: st.StartNs, EndNs: st.StartNs + st.SpanNs})
		}
	}
	lo, hi := s.Source.WindowStartNs, s.Source.WindowEndNs
	acc, err := NewDeviceAccumulator(lo, hi, windows)
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
		var op DeviceOp
		var kind, name int64
		if err := rows.Scan(&op.Device, &op.StartNs, &op.EndNs, &kind, &name); err != nil {
			return fmt.Errorf("per-device ops: %w", err)
		}
		op.Class = OpClass(kind)
		if op.Class == OpCompute && class[name] {
			op.Class = OpComm
		}
		if err := acc.Add(op); err != nil {
			return fmt.Errorf("per-device ops: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("per-device ops: %w", err)
	}
	devs, comm := BuildDevices(acc.Devices(), acc.Steps(), s.Kernels, s.GPU.Name)
	if len(devs) < 2 {
		devs = nil
	}
	if comm != nil {
		var kernelNs int64
		for _, k := range s.Kernels {
			kernelNs += k.TotalNs
		}
		if err := resolveGeneric(ctx, db, comm, kernelNs, s.Source.WindowStartNs, s.Source.WindowEndNs); err != nil {
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
		if k.Component == CompCommunication || IsCommunication(k.Name) {
			return true
		}
	}
	return false
}

// stepSamples are the steps whose windows per-device detail is measured
// over: the decode steps, or every step (phases by name) when there is no
// decode phase.
func stepSamples(s *Summary) []Step {
	if ph := s.Phases[PhaseDecode]; ph != nil && len(ph.Samples) > 0 {
		return ph.Samples
	}
	var out []Step
	for _, name := range sortedKeys(s.Phases) {
		out = append(out, s.Phases[name].Samples...)
	}
	return out
}

// deviceOpsQuery builds the query over the GPU activity tables the export
// has: device, start, end, class (OpCompute for kernels and graph replays,
// OpMemory for copies and sets) and the kernel's name id (-1 otherwise),
// for ops that meet [?1, ?2), ordered by device and start. It returns ""
// when the export has none of these tables.
func deviceOpsQuery(ctx context.Context, db *sql.DB) (string, error) {
	parts := []string{}
	for _, t := range []struct {
		table string
		class OpClass
		names []string // name columns, first present wins
	}{
		{tKernel, OpCompute, []string{"shortName", "demangledName"}},
		{tMemcpy, OpMemory, nil},
		{tMemset, OpMemory, nil},
		{tGraphTrace, OpCompute, nil},
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
// IsCommunication or by its summary row's component.
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
		if comm[name] || IsCommunication(name) {
			out[id] = true
		}
	}
	return out, rows.Err()
}
