package parse

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkExport times a full Export of the largest fixture and of the
// 420k-kernel capture the README's benchmark uses (--steps 1500 --requests
// 1 --graphs none, recorded on the GPU machine), named by GATE_BENCH_EXPORT;
// that one skips when the variable is unset or the file absent:
//
//	GATE_BENCH_EXPORT=long.sqlite go test ./parse -run '^$' -bench Export/long -benchmem
//
// (Export/long_inferred: the same with its step ranges deleted.)
// testdata/parse/bench.sh compares a whole `gate parse` with the sqlite3
// CLI scanning the same columns.
func BenchmarkExport(b *testing.B) {
	b.Run("regress_no_graphs", func(b *testing.B) {
		benchExport(b, export(b, "regress_no_graphs"))
	})
	b.Run("long", func(b *testing.B) {
		benchExport(b, benchLong(b))
	})
	// The same capture with its step ranges deleted: the steps are
	// inferred from the launch stream (the copy is made before the clock).
	b.Run("long_inferred", func(b *testing.B) {
		path := filepath.Join(b.TempDir(), "long.sqlite")
		copyFile(b, benchLong(b), path, -1)
		execSQL(b, path, deleteSteps)
		benchExport(b, path)
	})
	b.Run("regress_no_graphs_inferred", func(b *testing.B) {
		path := filepath.Join(b.TempDir(), "regress_no_graphs.sqlite")
		copyFile(b, export(b, "regress_no_graphs"), path, -1)
		execSQL(b, path, deleteSteps)
		benchExport(b, path)
	})
}

// benchLong is GATE_BENCH_EXPORT's path; the benchmark skips without it.
func benchLong(b *testing.B) string {
	path := os.Getenv("GATE_BENCH_EXPORT")
	if path == "" {
		b.Skip("GATE_BENCH_EXPORT names no export")
	}
	if _, err := os.Stat(path); err != nil {
		b.Skip(err)
	}
	return path
}

func benchExport(b *testing.B, path string) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Export(context.Background(), path, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
