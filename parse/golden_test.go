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

// TestGoldenProbe pins the whole summary of the probe export (scope
// "benchmark"): any change in what gate reports shows up as a diff of
// ../testdata/parse/probe.summary.golden.json. Run with -update to accept it.
func TestGoldenProbe(t *testing.T) {
	s, err := Export(export(t, "probe"), Options{Scope: "benchmark"})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("..", "testdata", "parse", "probe.summary.golden.json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
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
	if err != nil || back.Source.File != "probe.sqlite" {
		t.Errorf("golden does not decode: %v", err)
	}
}
