package sqlread

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/nsys-gate/gate/internal/exporttest"
	_ "modernc.org/sqlite" // the database/sql driver, as the reference
)

// probe decompresses the probe export into a temp dir.
func probe(t testing.TB) string {
	t.Helper()
	return exporttest.Decompress(t, filepath.Join("..", "..", "..", "testdata", "nsys", "probe.sqlite.gz"), t.TempDir())
}

// TestRowsMatchDatabaseSQL reads the kernel table's integers, nullable
// columns and the string table both ways and wants the same values.
func TestRowsMatchDatabaseSQL(t *testing.T) {
	path := probe(t)
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c, err := Open(path, true)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()

	const q = `SELECT start, end, correlationId, graphNodeId FROM CUPTI_ACTIVITY_KIND_KERNEL WHERE start >= ?1 ORDER BY start`
	var lo int64
	if err := db.QueryRow(`SELECT min(start) + 1000000 FROM CUPTI_ACTIVITY_KIND_KERNEL`).Scan(&lo); err != nil {
		t.Fatal(err)
	}
	want, err := db.Query(q, lo)
	if err != nil {
		t.Fatal(err)
	}
	defer want.Close()
	got, err := c.Query(ctx, q, lo)
	if err != nil {
		t.Fatal(err)
	}
	n, nulls := 0, 0
	for want.Next() {
		var start, end, corr int64
		var node sql.NullInt64
		if err := want.Scan(&start, &end, &corr, &node); err != nil {
			t.Fatal(err)
		}
		if !got.Next() {
			t.Fatalf("row %d: sqlread ended early: %v", n, got.Err())
		}
		if got.Int64(0) != start || got.Int64(1) != end || got.Int64(2) != corr ||
			got.IsNull(3) == node.Valid || (node.Valid && got.Int64(3) != node.Int64) {
			t.Fatalf("row %d: sqlread %d %d %d %v(%d), database/sql %d %d %d %+v",
				n, got.Int64(0), got.Int64(1), got.Int64(2), got.IsNull(3), got.Int64(3), start, end, corr, node)
		}
		if !node.Valid {
			nulls++
		}
		n++
	}
	if got.Next() || got.Err() != nil {
		t.Errorf("sqlread has more rows or an error: %v", got.Err())
	}
	if n < 1000 || nulls == 0 || nulls == n {
		t.Errorf("%d rows, %d NULL graph node ids: want many of both kinds", n, nulls)
	}

	strs, err := c.Query(ctx, `SELECT id, value, id * 0.5 FROM StringIds ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := db.Query(`SELECT id, value FROM StringIds ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	for ref.Next() {
		var id int64
		var v string
		if err := ref.Scan(&id, &v); err != nil {
			t.Fatal(err)
		}
		if !strs.Next() || strs.Int64(0) != id || strs.Text(1) != v || strs.Float64(2) != float64(id)*0.5 {
			t.Fatalf("string %d: want %q", id, v)
		}
	}
	if strs.Next() {
		t.Error("more strings than database/sql read")
	}
}

func TestSchema(t *testing.T) {
	c, err := Open(probe(t), true)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	tables, err := c.Tables(ctx)
	if err != nil || !tables["CUPTI_ACTIVITY_KIND_KERNEL"] || !tables["StringIds"] || tables["nope"] {
		t.Errorf("tables %v, %v", tables, err)
	}
	cols, err := c.Columns(ctx, "CUPTI_ACTIVITY_KIND_KERNEL")
	if err != nil || !cols["graphNodeId"] || !cols["shortName"] || cols["text"] {
		t.Errorf("columns %v, %v", cols, err)
	}
	if cols, err := c.Columns(ctx, "no such table' OR 1"); err != nil || len(cols) != 0 {
		t.Errorf("columns of a missing table: %v, %v", cols, err)
	}
}

// TestErrors: bad files and bad SQL are *Error values with SQLite's code;
// a cancelled context stops a scan.
func TestErrors(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "text.sqlite")
	if err := os.WriteFile(text, []byte("this is not a database, but it is long enough to have a header and a page or two of junk. "+string(make([]byte, 8192))), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var e *Error
	if c, err := Open(text, true); err == nil {
		_, err = c.Tables(ctx)
		c.Close()
		if !errors.As(err, &e) || e.Primary() != CodeNotADB {
			t.Errorf("text file: %v, want SQLITE_NOTADB", err)
		}
	} else if !errors.As(err, &e) || e.Primary() != CodeNotADB {
		t.Errorf("text file: %v", err)
	}
	if _, err := Open(filepath.Join(dir, "absent.sqlite"), true); !errors.As(err, &e) {
		t.Errorf("absent file: %v", err)
	}

	c, err := Open(probe(t), true)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Query(ctx, `SELECT nope FROM StringIds`); !errors.As(err, &e) || e.Msg != "no such column: nope" {
		t.Errorf("bad column: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	rows, err := c.Query(cctx, `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 100000) SELECT x FROM c`)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	n := 0
	for rows.Next() {
		n++
	}
	if !errors.Is(rows.Err(), context.Canceled) || n >= checkEvery {
		t.Errorf("after %d rows: %v, want context.Canceled", n, rows.Err())
	}
	if _, err := c.Query(cctx, `SELECT 1`); !errors.Is(err, context.Canceled) {
		t.Errorf("query on a cancelled context: %v", err)
	}
}

// BenchmarkScan reads every kernel row's integers: the per-row cost the
// parser pays.
func BenchmarkScan(b *testing.B) {
	c, err := Open(probe(b), true)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	for b.Loop() {
		rows, err := c.Query(context.Background(), `SELECT start, end, globalPid, correlationId, shortName, demangledName, deviceId, graphNodeId FROM CUPTI_ACTIVITY_KIND_KERNEL`)
		if err != nil {
			b.Fatal(err)
		}
		var sum int64
		for rows.Next() {
			sum += rows.Int64(0) + rows.Int64(1) + rows.Int64(2) + rows.Int64(3) + rows.Int64(4) + rows.Int64(5) + rows.Int64(6)
			if !rows.IsNull(7) {
				sum++
			}
		}
		if rows.Err() != nil || sum == 0 {
			b.Fatal(rows.Err())
		}
	}
}
