// Package exporttest gives tests the shipped fixtures decompressed
// (Decompress to a file, Gunzip to bytes), and broken copies of the Nsight
// Systems exports (Broken): the ways a capture loses its steps (NVTX ranges
// deleted, ranges left open, API threads unknown so that nothing projects,
// 0-length ranges), made with SQL on a decompressed copy in a temp dir.
// compare and the gate commands test that such a head is never judged.
package exporttest

import (
	"compress/gzip"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite" // database/sql driver "sqlite"
)

// Case is one way to break an export.
type Case struct {
	Name string
	SQL  string
}

// decodeRanges selects the decode step ranges, named inline or by id.
const decodeRanges = `(text = 'decode' OR textId IN (SELECT id FROM StringIds WHERE value = 'decode'))`

// Cases are the broken captures of the reliability review (D1, D2).
func Cases() []Case {
	return []Case{
		{"nvtx_deleted", `DELETE FROM NVTX_EVENTS`},
		{"ends_null", `UPDATE NVTX_EVENTS SET end = NULL WHERE ` + decodeRanges},
		{"tid_null", `UPDATE CUPTI_ACTIVITY_KIND_RUNTIME SET globalTid = NULL`},
		{"zero_len", `UPDATE NVTX_EVENTS SET end = start WHERE ` + decodeRanges},
	}
}

// Gunzip returns the decompressed bytes of the gzipped fixture gz (an
// export, an nsys stats or ncu CSV, a summary JSON).
func Gunzip(tb testing.TB, gz string) []byte {
	tb.Helper()
	in, err := os.Open(gz)
	if err != nil {
		tb.Fatal(err)
	}
	defer in.Close()
	zr, err := gzip.NewReader(in)
	if err != nil {
		tb.Fatalf("%s: %v", gz, err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		tb.Fatalf("%s: %v", gz, err)
	}
	return data
}

// Decompress writes the gzipped export gz into dir (under its name less
// ".gz") and returns the path; an existing file there is reused.
func Decompress(tb testing.TB, gz, dir string) string {
	tb.Helper()
	path := filepath.Join(dir, strings.TrimSuffix(filepath.Base(gz), ".gz"))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if err := os.WriteFile(path, Gunzip(tb, gz), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// openCopy decompresses gz into a temp dir and opens the copy.
func openCopy(tb testing.TB, gz string) (string, *sql.DB) {
	tb.Helper()
	path := Decompress(tb, gz, tb.TempDir())
	db, err := sql.Open("sqlite", path)
	if err != nil {
		tb.Fatal(err)
	}
	return path, db
}

// Broken decompresses gz into a temp dir, runs query on the copy (which
// must change some rows) and returns the copy's path.
func Broken(tb testing.TB, gz, query string) string {
	tb.Helper()
	path, db := openCopy(tb, gz)
	defer db.Close()
	res, err := db.Exec(query)
	if err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		tb.Fatalf("%s changed no rows of %s", query, gz)
	}
	return path
}

// Minimal writes into dir a small copy of the export gz for fuzzing: only
// the tables gate reads, every 400th kernel and every 20th memcpy with the
// runtime calls that launched them, the strings they name cut to 40 bytes
// (long demangled names make the component regexes the cost of a run), in
// 512-byte pages. Each fuzz run then parses a few dozen rows, not thousands, and the
// mutator works on tens of kilobytes, not megabytes.
func Minimal(tb testing.TB, gz, dir string) string {
	tb.Helper()
	path, db := openCopy(tb, gz)
	defer db.Close()
	keep := map[string]bool{"CUPTI_ACTIVITY_KIND_KERNEL": true, "CUPTI_ACTIVITY_KIND_MEMCPY": true, "CUPTI_ACTIVITY_KIND_MEMSET": true,
		"CUPTI_ACTIVITY_KIND_GRAPH_TRACE": true, "CUPTI_ACTIVITY_KIND_RUNTIME": true, "NVTX_EVENTS": true, "StringIds": true,
		"META_DATA_EXPORT": true, "TARGET_INFO_GPU": true, "TARGET_INFO_SYSTEM_ENV": true, "ENUM_CUDA_MEMCPY_OPER": true}
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		tb.Fatal(err)
	}
	var drop []string
	for rows.Next() {
		var name string
		rows.Scan(&name)
		if !keep[name] {
			drop = append(drop, name)
		}
	}
	rows.Close()
	var stmts []string
	for _, t := range drop {
		stmts = append(stmts, `DROP TABLE "`+t+`"`)
	}
	stmts = append(stmts,
		`DELETE FROM CUPTI_ACTIVITY_KIND_KERNEL WHERE rowid % 400 != 0`,
		`DELETE FROM CUPTI_ACTIVITY_KIND_MEMCPY WHERE rowid % 20 != 0`,
		`UPDATE StringIds SET value = substr(value, 1, 40)`,
		`DELETE FROM CUPTI_ACTIVITY_KIND_RUNTIME WHERE correlationId NOT IN (SELECT correlationId FROM CUPTI_ACTIVITY_KIND_KERNEL UNION SELECT correlationId FROM CUPTI_ACTIVITY_KIND_MEMCPY UNION SELECT correlationId FROM CUPTI_ACTIVITY_KIND_MEMSET)`,
		`UPDATE CUPTI_ACTIVITY_KIND_KERNEL SET mangledName = NULL`,
		`DELETE FROM StringIds WHERE id NOT IN (SELECT shortName FROM CUPTI_ACTIVITY_KIND_KERNEL UNION SELECT demangledName FROM CUPTI_ACTIVITY_KIND_KERNEL UNION SELECT nameId FROM CUPTI_ACTIVITY_KIND_RUNTIME UNION SELECT textId FROM NVTX_EVENTS WHERE textId IS NOT NULL)`,
		`PRAGMA page_size = 512`,
		`VACUUM`)
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			tb.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	out := filepath.Join(dir, "minimal-"+strings.TrimSuffix(filepath.Base(gz), ".gz"))
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(out, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return out
}
