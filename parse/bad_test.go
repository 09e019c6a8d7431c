package parse

import (
	"context"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nsys-gate/gate/internal/exporttest"
)

// copyFile copies src to dst, keeping at most n bytes when n >= 0.
func copyFile(t testing.TB, src, dst string, n int64) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	var r io.Reader = in
	if n >= 0 {
		r = io.LimitReader(in, n)
	}
	if _, err := io.Copy(out, r); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

func execSQL(t testing.TB, path string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// TestBadInputs: each bad input is one error line that names the file and
// the problem, and nothing panics.
func TestBadInputs(t *testing.T) {
	dir := t.TempDir()
	probe := export(t, "probe")
	fi, err := os.Stat(probe)
	if err != nil {
		t.Fatal(err)
	}

	text := filepath.Join(dir, "notes.sqlite")
	os.WriteFile(text, []byte("this is not a database\n"), 0o644)

	half := filepath.Join(dir, "half.sqlite")
	copyFile(t, probe, half, fi.Size()/2)

	tiny := filepath.Join(dir, "tiny.sqlite")
	copyFile(t, probe, tiny, 50)

	other := filepath.Join(dir, "other.sqlite")
	execSQL(t, other, `CREATE TABLE people (name TEXT)`, `INSERT INTO people VALUES ('x')`)

	empty := filepath.Join(dir, "empty.sqlite")
	os.WriteFile(empty, nil, 0o644)

	nowork := filepath.Join(dir, "nowork.sqlite")
	copyFile(t, probe, nowork, -1)
	execSQL(t, nowork, `DELETE FROM CUPTI_ACTIVITY_KIND_KERNEL`, `DELETE FROM CUPTI_ACTIVITY_KIND_MEMCPY`, `DELETE FROM CUPTI_ACTIVITY_KIND_MEMSET`)

	tests := []struct{ name, path, want string }{
		{"not sqlite", text, "not an SQLite database"},
		{"truncated", half, "truncated"},
		{"cut in the header", tiny, "truncated"},
		{"no nsys tables", other, "not an Nsight Systems export"},
		{"empty file", empty, "not an SQLite database"},
		{"no GPU work", nowork, "no GPU work"},
		{"missing", filepath.Join(dir, "missing.sqlite"), "no such file"},
		{"directory", dir, "directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Export(context.Background(), tt.path, Options{})
			if err == nil {
				t.Fatalf("no error; summary %+v", s.Source)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, tt.path+": ") || !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") {
				t.Errorf("error %q: want one line starting with the path and saying %q", msg, tt.want)
			}
		})
	}
}

// The fuzz seed is a real export in small: it parses, with its steps.
func TestMinimalExport(t *testing.T) {
	s, err := Export(context.Background(), exporttest.Minimal(t, "../testdata/nsys/probe.sqlite.gz", t.TempDir()), Options{Scope: "benchmark"})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Kernels) == 0 || s.Phases[PhaseDecode] == nil || s.Phases[PhaseDecode].Steps != 4 {
		t.Errorf("minimal export read as %d kernels, phases %v", len(s.Kernels), s.Phases)
	}
}

// FuzzExport feeds mutated exports to the parser: it may fail, never panic.
// The seed is a minimal copy of the probe export made with SQL (a few
// dozen rows of the tables gate reads, 512-byte pages): small enough that
// each run is quick and the mutator reaches the parser, not just SQLite's
// header checks.
func FuzzExport(f *testing.F) {
	data, err := os.ReadFile(exporttest.Minimal(f, "../testdata/nsys/probe.sqlite.gz", f.TempDir()))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte("SQLite format 3\x00"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "fuzz.sqlite")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := Export(context.Background(), path, Options{Scope: "benchmark"})
		if err == nil && s.Schema != SummarySchema {
			t.Fatalf("summary without schema")
		}
	})
}

// TestOddPath: a path with spaces and URL metacharacters still opens (the
// driver takes a file: URI).
func TestOddPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run #1 & co?x=y%20")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "pro be.sqlite")
	copyFile(t, export(t, "probe"), path, -1)
	s, err := Export(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Source.File != "pro be.sqlite" || s.Phases[PhaseDecode].Steps != 4 {
		t.Errorf("source %+v", s.Source)
	}
}
