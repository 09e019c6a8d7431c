package parse

import (
	"context"
	"os"
	"testing"
)

// BenchmarkExport times a full Export of the largest fixture and, when
// GATE_BENCH_EXPORT names an export (e.g. the 420k-kernel one made on the
// GPU machine), of that file too. Compare with
// testdata/parse/bench.sh, which times the sqlite3 CLI scanning the same
// columns.
func BenchmarkExport(b *testing.B) {
	files := map[string]string{"regress_no_graphs": export(b, "regress_no_graphs")}
	if p := os.Getenv("GATE_BENCH_EXPORT"); p != "" {
		files["GATE_BENCH_EXPORT"] = p
	}
	for _, name := range []string{"regress_no_graphs", "GATE_BENCH_EXPORT"} {
		path, ok := files[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Export(context.Background(), path, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
