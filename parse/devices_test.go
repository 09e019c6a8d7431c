package parse

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/nsys-gate/gate/parse/internal/timeline"
)

// Names given to two of the probe's kernels to make them NCCL kernels: a
// GEMM that runs twice per layer and cuBLAS' split-K reduction.
var tpRenames = map[string]string{
	"nvjet_sm90_tst_64x16_64x16_4x1_v_bz_NNT": "ncclDevKernel_AllReduce_Sum_bf16_RING_LL",
	"splitKreduce_kernel":                     "ncclDevKernel_SendRecv",
}

// pidOffset moves a copied rank to another process id (bits 24..47 of
// globalPid/globalTid).
const pidOffset = int64(1000) << 24

// mgAssembleTP builds, in a temp dir, an export from the probe fixture: its
// kernels renamed by tpRenames, and with ranks > 1 a copy of every GPU op,
// runtime call and NVTX range per extra rank, as another process on another
// device: what nsys writes for a tensor-parallel job launched by torchrun.
func mgAssembleTP(t testing.TB, ranks int) string {
	t.Helper()
	src := mgUnzip(t, "nsys/probe.sqlite")
	path := filepath.Join(t.TempDir(), fmt.Sprintf("tp%d.sqlite", ranks))
	copyFile(t, src, path, -1)
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, from := range mgSortedKeys(tpRenames) {
		to := tpRenames[from]
		mgExec(t, db, `UPDATE StringIds SET value = ? WHERE value = ?`, to, from)
		// Demangled names, where they are not the short name's string.
		mgExec(t, db, `UPDATE StringIds SET value = ? WHERE id IN (SELECT demangledName FROM CUPTI_ACTIVITY_KIND_KERNEL k JOIN StringIds s ON s.id = k.shortName WHERE s.value = ? AND k.demangledName != k.shortName)`, to+"(ncclDevKernelArgsStorage<4096ul>)", to)
	}
	var pid int64 // the profiled process: rank 0
	if err := db.QueryRow(`SELECT DISTINCT globalPid FROM CUPTI_ACTIVITY_KIND_KERNEL`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	for r := int64(1); r < int64(ranks); r++ {
		gpu := map[string]string{"deviceId": fmt.Sprint(r), "globalPid": fmt.Sprintf("globalPid + %d", r*pidOffset)}
		cpu := map[string]string{"globalTid": fmt.Sprintf("globalTid + %d", r*pidOffset), "endGlobalTid": fmt.Sprintf("endGlobalTid + %d", r*pidOffset)}
		for _, table := range []string{tKernel, tMemcpy, tMemset, tGraphTrace} {
			mgCopyRows(t, db, table, gpu, fmt.Sprintf("globalPid = %d", pid))
		}
		for _, table := range []string{tRuntime, tNVTX} {
			mgCopyRows(t, db, table, cpu, fmt.Sprintf("globalTid >> 24 = %d", pid>>24))
		}
	}
	return path
}

// mgExtraCollective adds after every kernel of the given name a copy of it,
// back to back (same correlation id, so in the same step): one more
// collective of that kind wherever there was one.
func mgExtraCollective(t testing.TB, path, name string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mgCopyRows(t, db, tKernel, map[string]string{"start": "end", "end": "2 * end - start"},
		fmt.Sprintf("shortName IN (SELECT id FROM StringIds WHERE value = '%s')", name))
}

// mgCopyRows inserts a copy of the rows of table that match where, with the
// columns in set replaced by expressions. A table the export lacks is skipped.
func mgCopyRows(t testing.TB, db *sql.DB, table string, set map[string]string, where string) {
	t.Helper()
	cols, err := exportColumns(context.Background(), db, table)
	if err != nil {
		t.Fatal(err)
	}
	if len(cols) == 0 {
		return
	}
	names := mgSortedKeys(cols)
	exprs := make([]string, len(names))
	for i, c := range names {
		exprs[i] = `"` + c + `"`
		if e, ok := set[c]; ok {
			exprs[i] = e
		}
	}
	mgExec(t, db, fmt.Sprintf(`INSERT INTO %s ("%s") SELECT %s FROM %s WHERE %s`,
		table, strings.Join(names, `", "`), strings.Join(exprs, ", "), table, where))
}

func mgExec(t testing.TB, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func mgSortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// mgExportAndFill parses an export and computes its per-device detail a
// second way (oracleFillDevices) into a copy, after checking that both
// agree.
func mgExportAndFill(t testing.TB, path string, opts Options) (parsed, oracle *Summary) {
	t.Helper()
	s, err := Export(context.Background(), path, opts)
	if err != nil {
		t.Fatal(err)
	}
	o := *s
	o.Devices, o.Communication = nil, nil
	if err := oracleFillDevicesFile(context.Background(), &o, path); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s.Devices, o.Devices) {
		t.Errorf("devices:\nExport %+v\noracle %+v", s.Devices, o.Devices)
	}
	if !reflect.DeepEqual(s.Communication, o.Communication) {
		t.Errorf("communication:\nExport %+v\noracle %+v", s.Communication, o.Communication)
	}
	return s, &o
}

// TestDevicesTwoRanks reads an export of two processes on two devices (the
// probe twice, with NCCL kernels) and checks the per-device figures against
// the oracle's, computed another way, and what they must say.
func TestDevicesTwoRanks(t *testing.T) {
	path := mgAssembleTP(t, 2)
	parsed, s := mgExportAndFill(t, path, Options{})
	if len(s.Devices) != 2 || s.GPU.Devices != 2 {
		t.Fatalf("%d devices (gpu.devices %d), want 2", len(s.Devices), s.GPU.Devices)
	}
	if len(parsed.Devices) != 2 {
		t.Fatalf("the parser found %d devices", len(parsed.Devices))
	}
	for i, d := range s.Devices {
		p := parsed.Devices[i]
		if d.ID != i || d.BusyNs != p.BusyNs || d.KernelNs != p.KernelNs || d.Kernels != p.Kernels || d.CommNs != p.CommNs || d.Name != s.GPU.Name {
			t.Errorf("device %d: got %+v\nparser says %+v", i, d, p)
		}
		if d.CommNs == 0 || d.CommNs >= d.KernelNs {
			t.Errorf("device %d: %d ns of communication in %d ns of kernels", i, d.CommNs, d.KernelNs)
		}
	}
	if s.Devices[0].BusyNs != s.Devices[1].BusyNs {
		t.Errorf("twin ranks busy %d and %d ns", s.Devices[0].BusyNs, s.Devices[1].BusyNs)
	}
	c := s.Communication
	if c == nil || parsed.Communication == nil {
		t.Fatalf("communication %+v, parser's %+v", c, parsed.Communication)
	}
	t.Logf("devices %+v\ncommunication %+v", s.Devices, *c)
	if c == nil || parsed.Communication == nil {
		t.Fatalf("communication %+v, parser's %+v", c, parsed.Communication)
	}
	if c.ExposedNs != parsed.Communication.ExposedNs || c.TimeNs != parsed.Communication.TimeNs {
		t.Errorf("exposed %d of %d ns; the parser says %d of %d", c.ExposedNs, c.TimeNs, parsed.Communication.ExposedNs, parsed.Communication.TimeNs)
	}
	if c.ExposedNs <= 0 || c.ExposedPct <= 0 || c.ExposedPct > 100 || c.Imbalance != 0 {
		t.Errorf("exposed %d ns (%.1f%%), imbalance %v", c.ExposedNs, c.ExposedPct, c.Imbalance)
	}
	names := map[string]Collective{}
	for _, k := range c.Collectives {
		names[k.Name] = k
	}
	for from, to := range tpRenames {
		coll := collectiveOf(to)
		var want Kernel
		for _, k := range s.Kernels {
			if k.Name == to {
				want = k
			}
		}
		if got := names[coll]; got.Count != want.Count || got.TimeNs != want.TotalNs || want.Count == 0 {
			t.Errorf("%s (was %s): %+v, want %d kernels in %d ns", coll, from, got, want.Count, want.TotalNs)
		}
	}
	if len(c.Collectives) != len(tpRenames) {
		t.Errorf("collectives %+v", c.Collectives)
	}

	// Per step: one sample per decode step of each rank, on its device.
	dec := s.Phases[PhaseDecode]
	if dec == nil || len(c.ExposedSamples) != dec.Steps || dec.Steps != 8 {
		t.Fatalf("%d exposed samples for %+v decode steps, want 8 (4 per rank)", len(c.ExposedSamples), dec)
	}
	var perStep float64
	onDevice := map[int][]int64{}
	for i, st := range dec.Samples {
		perStep += c.ExposedSamples[i]
		onDevice[st.Device] = append(onDevice[st.Device], st.SpanNs)
		if c.ExposedSamples[i] <= 0 || c.ExposedSamples[i] > float64(st.SpanNs) {
			t.Errorf("decode step %d: %v ns exposed in a %d ns span", i, c.ExposedSamples[i], st.SpanNs)
		}
	}
	if perStep > float64(c.ExposedNs) {
		t.Errorf("per-step exposure adds up to %v ns, more than the window's %d", perStep, c.ExposedNs)
	}
	for i, d := range s.Devices {
		if len(onDevice[i]) != 4 || d.Steps != statOf(onDevice[i]) {
			t.Errorf("device %d step spans %+v, want those of its 4 decode steps %v", i, d.Steps, onDevice[i])
		}
	}
}

// TestDevicesMatchMergedRanks checks that one export of two processes
// and two per-rank exports merged tell the same story.
func TestDevicesMatchMergedRanks(t *testing.T) {
	_, both := mgExportAndFill(t, mgAssembleTP(t, 2), Options{})
	one := mgAssembleTP(t, 1)
	_, r0 := mgExportAndFill(t, one, Options{})
	_, r1 := mgExportAndFill(t, one, Options{})
	if r0.Devices != nil || r0.Communication == nil || len(r0.Communication.ExposedSamples) != 4 {
		t.Fatalf("single rank: devices %+v, communication %+v", r0.Devices, r0.Communication)
	}
	m, err := MergeRanks([]*Summary{r0, r1})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range m.Warnings {
		if w.Code == WarnRankNoExposure || w.Code == WarnRankSteps {
			t.Errorf("warning %+v", w)
		}
	}
	for i := range both.Devices {
		a, b := both.Devices[i], m.Devices[i]
		if a.BusyNs != b.BusyNs || a.KernelNs != b.KernelNs || a.Kernels != b.Kernels || a.CommNs != b.CommNs || a.Steps != b.Steps {
			t.Errorf("device %d: one export %+v\nmerged ranks %+v", i, a, b)
		}
	}
	if len(both.Kernels) != len(m.Kernels) {
		t.Fatalf("%d kernels in one export, %d merged", len(both.Kernels), len(m.Kernels))
	}
	for i, a := range both.Kernels {
		b := m.Kernels[i]
		if a.Name != b.Name || a.Count != b.Count || a.TotalNs != b.TotalNs || !mgNear(a.PerDecodeStep, b.PerDecodeStep) || !mgNear(a.Share, b.Share) {
			t.Errorf("kernel %d: one export %+v\nmerged ranks %+v", i, a, b)
		}
	}
	a, b := both.Communication, m.Communication
	if !reflect.DeepEqual(a.Collectives, b.Collectives) || a.ExposedNs != b.ExposedNs || a.TimeNs != b.TimeNs || a.ExposedPct != b.ExposedPct {
		t.Errorf("communication: one export %+v\nmerged ranks %+v", a, b)
	}
	if a.ExposedSteps != b.ExposedSteps {
		t.Errorf("exposed per step: one export %+v, merged ranks %+v", a.ExposedSteps, b.ExposedSteps)
	}
}

// TestDevicesThirdParty reads a real two-H100 capture by a newer Nsight
// Systems: two devices, no communication kernels, no steps.
func TestDevicesThirdParty(t *testing.T) {
	parsed, s := mgExportAndFill(t, mgUnzip(t, "third-party/h100_2gpu_1s.sqlite"), Options{})
	if len(s.Devices) != 2 {
		t.Fatalf("%d devices, want 2", len(s.Devices))
	}
	for i, d := range s.Devices {
		p := parsed.Devices[i]
		if d.BusyNs != p.BusyNs || d.Kernels != p.Kernels || d.KernelNs != p.KernelNs || d.BusyNs <= 0 {
			t.Errorf("device %d: got %+v, parser says %+v", i, d, p)
		}
	}
	// Both devices ran 1721 kernels (sqlite3: SELECT deviceId, COUNT(*) ... GROUP BY deviceId).
	if s.Devices[0].Kernels != 1721 || s.Devices[1].Kernels != 1721 {
		t.Errorf("kernels per device %d, %d; want 1721 each", s.Devices[0].Kernels, s.Devices[1].Kernels)
	}
	if s.Communication != nil {
		t.Errorf("communication %+v in a capture without NCCL kernels", s.Communication)
	}
}

// For the tests in package parse_test (tp_gate_test.go, tp_test.go).
var (
	MgAssembleTP      = mgAssembleTP
	MgExtraCollective = mgExtraCollective
	MgTPRenames       = tpRenames
)

// MgUnzip is mgUnzip for package parse_test.
var MgUnzip = mgUnzip

// CollectiveOf is collectiveOf for package parse_test.
var CollectiveOf = collectiveOf

// mgReadOps reads every kernel, memcpy and memset of an export with plain
// SQL, kernels named in comm counting as communication.
func mgReadOps(t testing.TB, path string, comm map[string]bool) []timeline.Op {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT k.deviceId, k.start, k.end, s.value FROM CUPTI_ACTIVITY_KIND_KERNEL k JOIN StringIds s ON s.id = k.shortName
		UNION ALL SELECT deviceId, start, end, '' FROM CUPTI_ACTIVITY_KIND_MEMCPY
		UNION ALL SELECT deviceId, start, end, '' FROM CUPTI_ACTIVITY_KIND_MEMSET`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ops []timeline.Op
	for rows.Next() {
		var op timeline.Op
		var name string
		if err := rows.Scan(&op.Device, &op.StartNs, &op.EndNs, &name); err != nil {
			t.Fatal(err)
		}
		switch {
		case name == "":
			op.Class = timeline.Memory
		case comm[name]:
			op.Class = timeline.Comm
		}
		ops = append(ops, op)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ops
}

// mgIntervalUsage computes a device's usage in [lo, hi) the slow, obvious
// way, independently of the accumulator: merge each class's intervals into
// disjoint lists, then subtract the compute list from the communication one.
func mgIntervalUsage(ops []timeline.Op, dev int, lo, hi int64) timeline.Usage {
	type iv struct{ s, e int64 }
	merge := func(keep func(timeline.Class) bool) []iv {
		var l []iv
		for _, o := range ops {
			s, e := max(o.StartNs, lo), min(o.EndNs, hi)
			if o.Device == dev && keep(o.Class) && s < e {
				l = append(l, iv{s, e})
			}
		}
		sort.Slice(l, func(i, j int) bool { return l[i].s < l[j].s })
		var out []iv
		for _, x := range l {
			if n := len(out); n > 0 && x.s <= out[n-1].e {
				out[n-1].e = max(out[n-1].e, x.e)
			} else {
				out = append(out, x)
			}
		}
		return out
	}
	length := func(l []iv) (n int64) {
		for _, x := range l {
			n += x.e - x.s
		}
		return n
	}
	all := merge(func(timeline.Class) bool { return true })
	comp := merge(func(c timeline.Class) bool { return c == timeline.Compute })
	comm := merge(func(c timeline.Class) bool { return c == timeline.Comm })
	var exposed int64
	for _, c := range comm {
		covered := int64(0)
		for _, k := range comp {
			covered += max(0, min(c.e, k.e)-max(c.s, k.s))
		}
		exposed += c.e - c.s - covered
	}
	return timeline.Usage{BusyNs: length(all), ComputeNs: length(comp), CommNs: length(comm), ExposedNs: exposed}
}

// TestDevicesIndependent checks Export's per-device busy and exposed
// time, and the per-step exposure, against mgIntervalUsage.
func TestDevicesIndependent(t *testing.T) {
	path := mgAssembleTP(t, 2)
	_, s := mgExportAndFill(t, path, Options{})
	comm := map[string]bool{}
	for _, to := range tpRenames {
		comm[to] = true
	}
	ops := mgReadOps(t, path, comm)
	lo, hi := s.Source.WindowStartNs, s.Source.WindowEndNs
	var exposed int64
	for _, d := range s.Devices {
		want := mgIntervalUsage(ops, d.ID, lo, hi)
		if d.BusyNs != want.BusyNs {
			t.Errorf("device %d busy %d ns, want %d", d.ID, d.BusyNs, want.BusyNs)
		}
		exposed += want.ExposedNs
	}
	if s.Communication.ExposedNs != exposed || exposed == 0 {
		t.Errorf("exposed %d ns, want %d", s.Communication.ExposedNs, exposed)
	}
	for i, st := range s.Phases[PhaseDecode].Samples {
		want := mgIntervalUsage(ops, st.Device, st.StartNs, st.StartNs+st.SpanNs)
		if got := s.Communication.ExposedSamples[i]; got != float64(want.ExposedNs) {
			t.Errorf("decode step %d (device %d): exposed %v ns, want %d", i, st.Device, got, want.ExposedNs)
		}
	}
}

// In an export of several processes each rank pushes its own scope range
// (`benchmark`), and ranks are never in lockstep: every rank's steps count
// against its own scope range, not against the first one found. Rank 1 is
// moved 1 ms later here, so its last decode step ends after rank 0's scope.
func TestScopePerProcess(t *testing.T) {
	path := mgAssembleTP(t, 2)
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	var rank1 int64 // globalPid of the copied process
	if err := db.QueryRow(`SELECT max(globalPid) FROM ` + tKernel).Scan(&rank1); err != nil {
		t.Fatal(err)
	}
	const lag = 1_000_000
	for _, table := range []string{tKernel, tMemcpy, tMemset} {
		mgExec(t, db, fmt.Sprintf(`UPDATE %s SET start = start + %d, "end" = "end" + %d WHERE globalPid = %d`, table, lag, lag, rank1))
	}
	for _, table := range []string{tRuntime, tNVTX} {
		mgExec(t, db, fmt.Sprintf(`UPDATE %s SET start = start + %d, "end" = "end" + %d WHERE globalTid >> 24 = %d`, table, lag, lag, rank1>>24))
	}
	db.Close()

	one, err := Export(context.Background(), export(t, "probe"), Options{Scope: "benchmark"})
	if err != nil {
		t.Fatal(err)
	}
	two, err := Export(context.Background(), path, Options{Scope: "benchmark"})
	if err != nil {
		t.Fatal(err)
	}
	want := 2 * one.Phases[PhaseDecode].Steps
	if got := two.Phases[PhaseDecode].Steps; got != want {
		t.Errorf("%d decode steps in two lagging ranks, want %d (each rank's own scope)", got, want)
	}
	if lo, hi := two.Source.WindowStartNs, two.Source.WindowEndNs; hi-lo < one.Source.WindowEndNs-one.Source.WindowStartNs+lag/2 {
		t.Errorf("window %d..%d (one rank: %d..%d) does not cover the lagging rank's scope", lo, hi, one.Source.WindowStartNs, one.Source.WindowEndNs)
	}
}

func TestBuildDevices(t *testing.T) {
	devs := []timeline.DeviceUsage{
		{Device: 0, Usage: timeline.Usage{BusyNs: 800, CommNs: 200, ExposedNs: 150}, WindowNs: 1000, KernelNs: 900, Kernels: 9, CommKernelNs: 200, CommKernels: 2},
		{Device: 1, Usage: timeline.Usage{BusyNs: 600, CommNs: 200, ExposedNs: 50}, WindowNs: 1000, KernelNs: 700, Kernels: 9, CommKernelNs: 200, CommKernels: 2},
	}
	steps := []timeline.StepUsage{
		{Window: timeline.Window{Device: 0, StartNs: 0, EndNs: 100}, Usage: timeline.Usage{ExposedNs: 10}},
		{Window: timeline.Window{Device: 1, StartNs: 0, EndNs: 300}, Usage: timeline.Usage{ExposedNs: 30}},
		{Window: timeline.Window{Device: 0, StartNs: 100, EndNs: 300}, Usage: timeline.Usage{ExposedNs: 20}},
	}
	kernels := []Kernel{
		{Name: "gemm", Count: 14, TotalNs: 1200},
		{Name: "ncclDevKernel_AllReduce_Sum_bf16_RING_LL", Component: CompCommunication, Count: 2, TotalNs: 300},
		{Name: "ncclDevKernel_SendRecv", Component: CompCommunication, Count: 2, TotalNs: 100},
	}
	gotDevs, comm := buildDevices(devs, steps, kernels, "H200")
	wantDevs := []Device{
		{ID: 0, Name: "H200", BusyNs: 800, BusyPct: 80, KernelNs: 900, Kernels: 9, CommNs: 200, Steps: statOf([]int64{100, 200})},
		{ID: 1, Name: "H200", BusyNs: 600, BusyPct: 60, KernelNs: 700, Kernels: 9, CommNs: 200, Steps: statOf([]int64{300})},
	}
	if !reflect.DeepEqual(gotDevs, wantDevs) {
		t.Errorf("devices:\n got %+v\nwant %+v", gotDevs, wantDevs)
	}
	wantComm := &Communication{
		Collectives: []Collective{
			{Name: CollAllReduce, Count: 2, TimeNs: 300, Share: 0.1875},
			{Name: CollSendRecv, Count: 2, TimeNs: 100, Share: 0.0625},
		},
		TimeNs:         400,
		ExposedNs:      200,
		ExposedPct:     50,
		Imbalance:      0.25,
		ExposedSteps:   statOf([]int64{10, 30, 20}),
		ExposedSamples: []float64{10, 30, 20},
	}
	if !reflect.DeepEqual(comm, wantComm) {
		t.Errorf("communication:\n got %+v\nwant %+v", comm, wantComm)
	}

	quiet := []timeline.DeviceUsage{{Device: 0, Usage: timeline.Usage{BusyNs: 800}, WindowNs: 1000}}
	if _, c := buildDevices(quiet, nil, kernels[:1], ""); c != nil {
		t.Errorf("communication without any communication: %+v", c)
	}
}
