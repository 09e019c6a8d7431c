package parse

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"sync"
	"testing"

	_ "modernc.org/sqlite" // database/sql driver "sqlite", for the tests' SQL edits

	"github.com/nsys-gate/gate/internal/exporttest"
)

var (
	fixtureMu  sync.Mutex
	fixtureDir string
	fixtures   = map[string]string{}
)

// TestMain removes the decompressed fixtures shared by the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if fixtureDir != "" {
		os.RemoveAll(fixtureDir)
	}
	os.Exit(code)
}

// fixture decompresses ../testdata/<rel>.gz once per test binary and returns
// the path of the plain file.
func fixture(tb testing.TB, rel string) string {
	tb.Helper()
	fixtureMu.Lock()
	defer fixtureMu.Unlock()
	if p, ok := fixtures[rel]; ok {
		return p
	}
	if fixtureDir == "" {
		d, err := os.MkdirTemp("", "gate-parse-test-")
		if err != nil {
			tb.Fatal(err)
		}
		fixtureDir = d
	}
	out := exporttest.Decompress(tb, filepath.Join("..", "testdata", rel+".gz"), fixtureDir)
	fixtures[rel] = out
	return out
}

// export is the path of testdata/nsys/<name>.sqlite, decompressed.
func export(tb testing.TB, name string) string {
	return fixture(tb, "nsys/"+name+".sqlite")
}

// edited returns a copy of testdata/nsys/<name>.sqlite, decompressed,
// with stmts run on it, in a temp dir of t.
func edited(t *testing.T, name string, stmts ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name+".sqlite")
	copyFile(t, export(t, name), path, -1)
	execSQL(t, path, stmts...)
	return path
}

// readCSV reads a gzipped nsys stats CSV: header row, then records.
func readCSV(tb testing.TB, rel string) []map[string]string {
	tb.Helper()
	recs, err := csv.NewReader(bytes.NewReader(exporttest.Gunzip(tb, filepath.Join("..", "testdata", rel)))).ReadAll()
	if err != nil {
		tb.Fatal(err)
	}
	var out []map[string]string
	for _, rec := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = rec[i]
		}
		out = append(out, m)
	}
	return out
}
