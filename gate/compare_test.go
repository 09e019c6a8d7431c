package gate

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nsys-gate/gate/compare"
	"github.com/nsys-gate/gate/gate/config"
	"github.com/nsys-gate/gate/render"
)

// cmpRun runs gate in-process and returns its exit code and streams.
func cmpRun(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	c := &Command{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}
	code := c.Main(append([]string{"gate"}, args...))
	return code, out.String(), errb.String()
}

func cmpExport(name string) string {
	return filepath.Join("..", "testdata", "nsys", name+".sqlite.gz")
}

func TestCompareExitCodes(t *testing.T) {
	tests := []struct {
		base, head string
		code       int
		verdict    compare.Verdict
	}{
		{"base_a", "base_b", exitOK, compare.Pass},
		{"base_a", "regress_double_attn", exitFail, compare.Fail},
		{"base_a", "regress_host_sync", exitFail, compare.Fail},
		{"base_a", "base_graphmode", exitNotComparable, compare.NotComparable},
	}
	for _, tt := range tests {
		code, out, stderr := cmpRun("compare", cmpExport(tt.base), cmpExport(tt.head), "--format", "json")
		if code != tt.code {
			t.Errorf("%s vs %s: exit %d, want %d (stderr %q)", tt.base, tt.head, code, tt.code, stderr)
		}
		var r compare.Result
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Errorf("%s vs %s: output is not a JSON result: %v", tt.base, tt.head, err)
			continue
		}
		if r.Verdict != tt.verdict || r.Schema != compare.ResultSchema {
			t.Errorf("%s vs %s: verdict %s schema %s", tt.base, tt.head, r.Verdict, r.Schema)
		}
		if tt.code == exitOK {
			continue
		}
		// One line naming the verdict in the report's words, and why.
		want := "gate compare: " + render.VerdictWords(tt.verdict)
		if len(r.Reasons) > 0 {
			want += ": " + r.Reasons[0]
		}
		if !strings.HasPrefix(stderr, want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%s vs %s: stderr %q, want one line starting %q", tt.base, tt.head, stderr, want)
		}
	}
}

func TestCompareFormatsAndOutputFile(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"markdown", "html", "text", "json"} {
		out := filepath.Join(dir, "report."+f)
		code, stdout, stderr := cmpRun("compare", "--format", f, "-o", out, cmpExport("base_a"), cmpExport("regress_double_attn"))
		if code != exitFail || stdout != "" {
			t.Errorf("%s: exit %d stdout %d bytes stderr %q", f, code, len(stdout), stderr)
		}
		data, err := os.ReadFile(out)
		if err != nil || len(data) == 0 {
			t.Errorf("%s: report not written: %v", f, err)
		}
		if !bytes.Contains(data, []byte("phases.decode.span.p50")) && !bytes.Contains(data, []byte("decode")) {
			t.Errorf("%s: report does not mention the decode regression", f)
		}
	}
}

// A stored summary (gate parse output, or the legacy layout) is a baseline.
func TestCompareSummaryBaselines(t *testing.T) {
	dir := t.TempDir()
	sum := filepath.Join(dir, "base_a.json")
	if code, _, stderr := cmpRun("parse", cmpExport("base_a"), "-o", sum); code != exitOK {
		t.Fatalf("gate parse: exit %d: %s", code, stderr)
	}
	if code, _, stderr := cmpRun("compare", sum, cmpExport("base_b")); code != exitOK {
		t.Errorf("summary vs export: exit %d: %s", code, stderr)
	}
	legacy := filepath.Join("..", "testdata", "legacy", "base_a.summary.json")
	if code, _, stderr := cmpRun("compare", legacy, cmpExport("base_b")); code != exitOK {
		t.Errorf("legacy vs export: exit %d: %s", code, stderr)
	}
	if code, _, _ := cmpRun("compare", legacy, cmpExport("regress_double_attn")); code != exitFail {
		t.Errorf("legacy vs double attention: exit %d, want %d", code, exitFail)
	}
}

func TestCompareConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "gate.yml")
	// Ignoring everything that fails, and not-comparable mapped to 0.
	yml := "id: t\nexit:\n  not-comparable: 0\n  no-baseline: 0\nrules:\n  - metric: '**'\n    ignore: true\n"
	if err := os.WriteFile(cfg, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := cmpRun("compare", "--config", cfg, cmpExport("base_a"), cmpExport("regress_double_attn")); code != exitOK {
		t.Errorf("all ignored: exit %d: %s", code, stderr)
	}
	if code, _, stderr := cmpRun("compare", "--config", cfg, cmpExport("base_a"), cmpExport("base_graphmode")); code != exitOK {
		t.Errorf("not-comparable: 0: exit %d: %s", code, stderr)
	}
	missing := filepath.Join(dir, "none.json")
	if code, out, _ := cmpRun("compare", "--base-optional", "--format", "json", missing, cmpExport("base_b")); code != exitNotComparable || !strings.Contains(out, `"no_baseline"`) {
		t.Errorf("missing optional base: exit %d", code)
	}
	if code, _, _ := cmpRun("compare", "--config", cfg, "--base-optional", missing, cmpExport("base_b")); code != exitOK {
		t.Errorf("no-baseline: 0: exit %d", code)
	}
	bad := filepath.Join(dir, "bad.yml")
	os.WriteFile(bad, []byte("rules:\n  - metric: x\n    warn: five\n"), 0o644)
	code, _, stderr := cmpRun("compare", "--config", bad, cmpExport("base_a"), cmpExport("base_b"))
	if code != exitError || !strings.Contains(stderr, "bad.yml: rules[0].warn") {
		t.Errorf("bad config: exit %d stderr %q", code, stderr)
	}
}

func TestCompareUsageErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.sqlite")
	tests := []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"compare"}, exitError, "want BASE and HEAD"},
		{[]string{"compare", cmpExport("base_a")}, exitError, "want BASE and HEAD"},
		{[]string{"compare", "--format", "pdf", cmpExport("base_a"), cmpExport("base_b")}, exitError, `--format "pdf"`},
		{[]string{"compare", "--bogus", cmpExport("base_a"), cmpExport("base_b")}, exitError, "bogus"},
		{[]string{"compare", missing, cmpExport("base_b")}, exitError, "nope.sqlite"},
		{[]string{"compare", cmpExport("base_a"), missing}, exitError, "nope.sqlite"},
		{[]string{"compare", "-h"}, exitOK, ""},
	}
	for _, tt := range tests {
		code, _, stderr := cmpRun(tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.stderr) {
			t.Errorf("gate %v: exit %d stderr %q; want %d and %q", tt.args, code, stderr, tt.code, tt.stderr)
		}
	}
}

func TestRulesCommand(t *testing.T) {
	code, out, stderr := cmpRun("rules")
	if code != exitOK || !strings.Contains(out, "phases.*.span.p50") || !strings.Contains(out, "kernel-share: 2%") {
		t.Fatalf("gate rules: exit %d stderr %q out %q", code, stderr, out)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "gate.yml")
	os.WriteFile(cfg, []byte("kernel-share: 5%\nrules:\n  - metric: phases.decode.span.p50\n    fail: 3%\n"), 0o644)
	code, out, _ = cmpRun("rules", "--config", cfg)
	lines := strings.Split(out, "\n")
	if code != exitOK || len(lines) < 4 || !strings.Contains(lines[3], "phases.decode.span.p50") || !strings.Contains(lines[3], cfg) {
		t.Errorf("user rule not first:\n%s", out)
	}

	// The YAML form reads back as a gate.yml with the same effective rules.
	code, out, _ = cmpRun("rules", "--config", cfg, "--format", "yaml")
	if code != exitOK {
		t.Fatalf("yaml: exit %d", code)
	}
	back, err := config.Parse("rules.yml", []byte(out))
	if err != nil {
		t.Fatalf("yaml output does not parse as gate.yml: %v\n%s", err, out)
	}
	want := compare.EffectiveRules([]compare.Rule{{Metric: "phases.decode.span.p50", Fail: "3%"}})
	if len(back.Rules) != len(want) {
		t.Fatalf("%d rules back, want %d", len(back.Rules), len(want))
	}
	for i := range want {
		if back.Rules[i] != want[i] {
			t.Errorf("rule %d: %+v, want %+v", i, back.Rules[i], want[i])
		}
	}
	if back.KernelShare != "5%" {
		t.Errorf("kernel-share %q", back.KernelShare)
	}

	if code, _, _ := cmpRun("rules", "--format", "xml"); code != exitError {
		t.Errorf("bad format: exit %d", code)
	}
	if code, _, _ := cmpRun("rules", "extra"); code != exitError {
		t.Errorf("extra argument: exit %d", code)
	}
}

// Without --format a person at a terminal reads text, CI and pipes get the
// PR comment's markdown, and -o FILE picks the format from the extension.
func TestCompareDefaultFormat(t *testing.T) {
	dir := t.TempDir()
	kinds := map[string]func(string) bool{
		"text":     func(s string) bool { return strings.HasPrefix(s, "❌ gate: fail") },
		"markdown": func(s string) bool { return strings.HasPrefix(s, "<!-- gate:report id=") },
		"html":     func(s string) bool { return strings.HasPrefix(s, "<!DOCTYPE html>") },
		"json":     func(s string) bool { return strings.HasPrefix(s, "{\n  \"schema\": \"gate.result/v1\"") },
	}
	for _, c := range []struct {
		name     string
		terminal bool
		ci       string
		out      string
		want     string
	}{
		{"terminal", true, "", "", "text"},
		{"pipe", false, "", "", "markdown"},
		{"terminal in CI", true, "true", "", "markdown"},
		{"report.html", true, "", "report.html", "html"},
		{"report.json", false, "true", "report.json", "json"},
		{"report.txt", false, "", "report.txt", "text"},
		{"comment.md", true, "", "comment.md", "markdown"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			cmd := &Command{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
				Getenv:     func(k string) string { return map[string]string{"CI": c.ci}[k] },
				isTerminal: func(io.Writer) bool { return c.terminal }}
			args := []string{"gate", "compare", cmpExport("base_a"), cmpExport("regress_double_attn")}
			if c.out != "" {
				args = append(args, "-o", filepath.Join(dir, c.out))
			}
			if code := cmd.Main(args); code != exitFail {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			got := out.String()
			if c.out != "" {
				b, err := os.ReadFile(filepath.Join(dir, c.out))
				if err != nil {
					t.Fatal(err)
				}
				got = string(b)
			}
			if !kinds[c.want](got) {
				t.Errorf("report is not %s: %.60q", c.want, got)
			}
		})
	}
}
