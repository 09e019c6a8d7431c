package parse

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nsys-gate/gate/internal/exporttest"
)

// replicate writes copies of the export at src along the timeline, as
// testdata/parse/synth-big.sh does: each copy shifted past the end of the
// previous one in time and in correlation ids, appended copy after copy (a
// real capture's order) or, with interleaved, row by row across the copies
// (an order no capture has, which takes the parser's sorting fallbacks).
func replicate(t *testing.T, src string, copies int, interleaved bool) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), fmt.Sprintf("x%d-%v.sqlite", copies, interleaved))
	copyFile(t, src, path, -1)
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mgExec(t, db, `CREATE TEMP TABLE k(i INTEGER)`)
	for i := 1; i < copies; i++ {
		mgExec(t, db, `INSERT INTO k VALUES (?)`, i)
	}
	var span, corr int64
	if err := db.QueryRow(`SELECT max(e) - min(s) + 1000000 FROM (
		SELECT min(start) AS s, max(end) AS e FROM NVTX_EVENTS UNION ALL
		SELECT min(start), max(end) FROM CUPTI_ACTIVITY_KIND_RUNTIME UNION ALL
		SELECT min(start), max(end) FROM CUPTI_ACTIVITY_KIND_KERNEL UNION ALL
		SELECT min(start), max(end) FROM CUPTI_ACTIVITY_KIND_MEMCPY)`).Scan(&span); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT max(c) + 1 FROM (SELECT max(correlationId) AS c FROM CUPTI_ACTIVITY_KIND_RUNTIME
		UNION ALL SELECT max(correlationId) FROM CUPTI_ACTIVITY_KIND_KERNEL)`).Scan(&corr); err != nil {
		t.Fatal(err)
	}
	order := "k.i, t.rowid"
	if interleaved {
		order = "t.rowid, k.i"
	}
	for _, table := range []string{tKernel, tRuntime, tMemcpy, tMemset, tGraphTrace, tNVTX} {
		cols, err := exportColumns(context.Background(), db, table)
		if err != nil {
			t.Fatal(err)
		}
		if len(cols) == 0 {
			continue
		}
		names := mgSortedKeys(cols)
		exprs := make([]string, len(names))
		for i, c := range names {
			exprs[i] = `t."` + c + `"`
			switch c {
			case "start", "end":
				exprs[i] = fmt.Sprintf(`t."%s" + k.i * %d`, c, span)
			case "correlationId":
				exprs[i] = fmt.Sprintf(`t.correlationId + k.i * %d`, corr)
			}
		}
		mgExec(t, db, fmt.Sprintf(`INSERT INTO %s ("%s") SELECT %s FROM k, %s t ORDER BY %s`,
			table, strings.Join(names, `", "`), strings.Join(exprs, ", "), table, order))
	}
	return path
}

// TestTableOrderFallbacks: the same rows in table order and interleaved
// give the same summary; the interleaved export takes both fallbacks (the
// runtime calls and the kernels sorted), the ordered one neither (unless
// its source was out of order already).
func TestTableOrderFallbacks(t *testing.T) {
	for _, tt := range []struct {
		name string
		src  string
		opts Options
		// unsorted says that the source's kernel table is already out
		// of start order: the assembled ranks follow one another.
		unsorted bool
	}{
		{"probe", export(t, "probe"), Options{Scope: "benchmark"}, false},
		{"graph mode", export(t, "base_graphmode"), Options{}, false},
		{"two ranks", mgAssembleTP(t, 2), Options{}, true},
		// Steps inferred: the kernels come from the records (records.go),
		// which are sorted when the table was not in start order.
		{"steps inferred", exporttest.Broken(t, "../testdata/nsys/regress_no_graphs.sqlite.gz", deleteSteps), Options{Scope: "benchmark"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var sums [2]*Summary
			for i, interleaved := range []bool{false, true} {
				path := replicate(t, tt.src, 3, interleaved)
				p, err := load(context.Background(), path, tt.opts, groupShort)
				if err != nil {
					t.Fatal(err)
				}
				if p.sorted.calls != interleaved || p.sorted.kernels != (interleaved || tt.unsorted) {
					t.Errorf("interleaved %v: sorted %+v", interleaved, p.sorted)
				}
				sums[i] = p.summary()
				sums[i].Source.File = ""
			}
			ordered, interleaved := sums[0], sums[1]
			if !reflect.DeepEqual(ordered, interleaved) {
				t.Errorf("summaries differ:\nordered     %+v\ninterleaved %+v", ordered, interleaved)
			}
			if inferred := strings.HasPrefix(ordered.Source.StepSource, "inferred:"); inferred != (tt.name == "steps inferred") {
				t.Errorf("steps found by %q", ordered.Source.StepSource)
			}
			if dec := ordered.Phases[PhaseDecode]; dec == nil || dec.Steps == 0 {
				t.Fatalf("no decode steps in %v", ordered.Phases)
			}
		})
	}
}
