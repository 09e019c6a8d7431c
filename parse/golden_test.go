package parse

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in ../testdata/parse")

// TestGoldenSummaries pins the whole summary of every shipped export (see
// shippedExports): any change in what gate reports shows up as a diff of
// ../testdata/parse/<name>.summary.golden.json. Run with -update to accept
// it, and read the diff: the parser's rewrites for speed must leave these
// byte for byte as they are.
func TestGoldenSummaries(t *testing.T) {
	for name, e := range shippedExports(t) {
		t.Run(name, func(t *testing.T) {
			s := mustExport(t, e.path, e.opts)
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			if err := enc.Encode(s); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("..", "testdata", "parse", name+".summary.golden.json")
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./parse -run Golden -update)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("summary differs from %s; rerun with -update and review the diff", golden)
			}
			// The golden file is a summary gate can read back.
			back, err := DecodeSummary(bytes.NewReader(want))
			if err != nil || back.Source.File != filepath.Base(e.path) {
				t.Errorf("golden does not decode: %v", err)
			}
		})
	}
}
