package render

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nsys-gate/gate/parse"
)

// TestSummaryTextGolden renders the probe summary (the parse package's
// golden) as the table view and compares with
// ../testdata/parse/probe.summary.golden.txt (-update rewrites it).
func TestSummaryTextGolden(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "testdata", "parse", "probe.summary.golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := parse.DecodeSummary(f)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := SummaryText(&buf, s); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("..", "testdata", "parse", "probe.summary.golden.txt")
	if *update {
		os.WriteFile(golden, buf.Bytes(), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("table view differs from %s (rerun with -update and review):\n%s", golden, buf.String())
	}
}

// TestSummaryTextUntrusted: names from a profile cannot inject terminal
// escapes or break the table layout.
func TestSummaryTextUntrusted(t *testing.T) {
	s := &parse.Summary{
		Source:   parse.Source{File: "a\x1b[31mred.sqlite", TraceMode: parse.TraceNode},
		Kernels:  []parse.Kernel{{Name: "evil\nkernel\x07", Component: "other", Count: 1, TotalNs: 5}},
		Warnings: []parse.Warning{{Code: "x", Message: "line1\nline2"}},
		Extra:    []parse.ExtraMetric{{Name: "tok\x1b[2Js", Value: 1, Unit: "tok/s", Better: "higher", Source: "bench.json"}},
	}
	var buf bytes.Buffer
	if err := SummaryText(&buf, s); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "Extra metrics") {
		t.Errorf("no extra metrics section:\n%s", out)
	}
	if strings.ContainsAny(out, "\x1b\x07") || strings.Contains(out, "evil\n") || strings.Contains(out, "line1\n") {
		t.Errorf("control characters passed through:\n%q", out)
	}
}
