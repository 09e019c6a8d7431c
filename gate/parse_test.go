package gate

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nsys-gate/gate/parse"
)

func fixturePath(name string) string { return filepath.Join("..", "testdata", name) }

func runGate(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	c := &Command{Stdout: &out, Stderr: &errb}
	code = c.Main(append([]string{"gate"}, args...))
	return code, out.String(), errb.String()
}

func TestParseCommand(t *testing.T) {
	probe := fixturePath("nsys/probe.sqlite.gz")
	code, out, errs := runGate("parse", probe)
	if code != exitOK || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	var s parse.Summary
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	if s.Schema != parse.SummarySchema || s.Source.GateVersion == "" || s.Phases[parse.PhaseDecode].Steps != 4 {
		t.Errorf("summary source %+v", s.Source)
	}
	if strings.Contains(out, `\u003c`) {
		t.Error("kernel names HTML-escaped in JSON")
	}

	// Flags after the profile, -o, and a config whose scope --scope overrides.
	dir := t.TempDir()
	cfg := filepath.Join(dir, "gate.yml")
	os.WriteFile(cfg, []byte("scope: nope\nphases:\n  decode: ['^decode$']\ncomponents:\n  - name: mul\n    match: MulFunctor\n"), 0o644)
	dst := filepath.Join(dir, "s.json")
	code, out, errs = runGate("parse", probe, "-o", dst, "--config", cfg, "--scope", "benchmark")
	if code != exitOK || out != "" {
		t.Fatalf("exit %d stdout %q stderr %q", code, out, errs)
	}
	data, _ := os.ReadFile(dst)
	if err := json.Unmarshal(data, &s); err != nil || s.Source.Scope != "benchmark" || !strings.Contains(string(data), `"name": "mul"`) {
		t.Errorf("-o output: scope %q, err %v", s.Source.Scope, err)
	}
	// The config's scope applies when --scope is absent.
	code, _, errs = runGate("parse", "--config", cfg, probe)
	if code != exitError || !strings.Contains(errs, `"nope"`) {
		t.Errorf("config scope: exit %d stderr %q", code, errs)
	}

	// --extra adds user metrics; a missing file is an input error.
	extra := filepath.Join(dir, "extra.json")
	os.WriteFile(extra, []byte(`{"metrics": [{"name": "tokens_per_s", "value": 1234, "unit": "tok/s", "better": "higher"}]}`), 0o644)
	code, out, errs = runGate("parse", probe, "--extra", extra)
	if code != exitOK || json.Unmarshal([]byte(out), &s) != nil || len(s.Extra) != 1 || s.Extra[0].Name != "tokens_per_s" {
		t.Errorf("--extra: exit %d extra %+v stderr %q", code, s.Extra, errs)
	}
	if code, _, errs = runGate("parse", probe, "--extra", filepath.Join(dir, "none.json")); code != exitError || strings.Count(errs, "\n") != 1 {
		t.Errorf("--extra missing file: exit %d stderr %q", code, errs)
	}

	code, out, _ = runGate("parse", "--format", "table", probe)
	for _, want := range []string{"probe.sqlite.gz", "decode", "CUDA graphs (node mode)", "Top 15", "memcpy DtoH"} {
		if code != exitOK || !strings.Contains(out, want) {
			t.Errorf("table view (exit %d) lacks %q:\n%s", code, want, out)
		}
	}
}

func TestParseCommandErrors(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.sqlite")
	os.WriteFile(junk, []byte("not a database"), 0o644)
	tests := []struct {
		args    []string
		code    int
		want    string
		oneLine bool // an input error: exactly one line on stderr
	}{
		{[]string{"parse", "-h"}, exitOK, "", false},
		{[]string{"parse"}, exitError, "want one PROFILE", false},
		{[]string{"parse", "--bogus", "x"}, exitError, "flag provided but not defined", false},
		{[]string{"parse", "--format", "xml", junk}, exitError, "want json or table", true},
		{[]string{"parse", junk}, exitError, junk + ": not an SQLite database", true},
		{[]string{"parse", filepath.Join(dir, "none.sqlite")}, exitError, "no such file", true},
		{[]string{"parse", "--config", filepath.Join(dir, "none.yml"), junk}, exitError, "reading config", true},
	}
	for _, tt := range tests {
		code, out, errs := runGate(tt.args...)
		if code != tt.code || !strings.Contains(errs, tt.want) {
			t.Errorf("%v: exit %d stderr %q, want %d and %q", tt.args, code, errs, tt.code, tt.want)
		}
		if tt.oneLine && (!strings.HasPrefix(errs, "gate parse: ") || strings.Count(errs, "\n") != 1) {
			t.Errorf("%v: error is not one line: %q", tt.args, errs)
		}
		if tt.code == exitOK && (!strings.Contains(out, "usage: gate parse") || strings.Count(out, "usage: gate parse") != 1 || errs != "") {
			t.Errorf("-h printed %q to stdout and %q to stderr, want the help once, on stdout", out, errs)
		}
	}
}
