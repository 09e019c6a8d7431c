package parse

import (
	"context"
	"os"
	"testing"
)

// BenchmarkExport times a full Export of the largest fixture and of the
// 420k-kernel capture the README's benchmark uses (--steps 1500 --requests
// 1 --graphs none, recorded on the GPU machine), named by GATE_BENCH_EXPORT;
// that one skips when the variable is unset or the file absent:
//
//	GATE_BENCH_EXPORT=long.sqlite go test ./parse -run '^$' -bench Export/long -benchmem
//
// testdata/parse/bench.sh compares a whole `gate parse` with the sqlite3
// CLI scanning the same columns.
func BenchmarkExport(b *testing.B) {
	b.Run("regress_no_graphs", func(b *testing.B) {
		benchExport(b, export(b, "regress_no_graphs"))
	})
	b.Run("long", func(b *testing.B) {
		path := os.Getenv("GATE_BENCH_EXPORT")
		if path == "" {
			b.Skip("GATE_BENCH_EXPORT names no export")
		}
		if _, err := os.Stat(path); err != nil {
			b.Skip(err)
		}
		benchExport(b, path)
	})
}

func benchExport(b *testing.B, path string) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Export(context.Background(), path, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
