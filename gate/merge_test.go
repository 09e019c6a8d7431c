package gate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// entryDirs writes base/ and head/ as a matrix's legs leave them: one
// summary per entry, as ID.json or as ID/summary.json (a downloaded
// artifact). llama passes, qwen regresses, mistral is new (no baseline)
// and gone has no head.
func entryDirs(t *testing.T) (base, head string) {
	dir := t.TempDir()
	base, head = filepath.Join(dir, "base"), filepath.Join(dir, "head")
	write := func(p string, data []byte) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a := fixtureSummary(t, "base_a")
	write(filepath.Join(base, "llama.json"), a)
	write(filepath.Join(base, "qwen.summary.json"), a)
	write(filepath.Join(base, "gone.json"), a)
	write(filepath.Join(base, "notes.txt"), []byte("not a profile"))
	write(filepath.Join(head, "llama.json"), fixtureSummary(t, "base_b"))
	write(filepath.Join(head, "qwen", "summary.json"), fixtureSummary(t, "regress_double_attn"))
	write(filepath.Join(head, "mistral.json"), fixtureSummary(t, "base_b"))
	return base, head
}

func TestCompareDirectories(t *testing.T) {
	t.Parallel()
	base, head := entryDirs(t)
	code, out, errs := runGate("compare", base, head, "--format", "markdown")
	if code != exitFail {
		t.Fatalf("exit %d, want 1 (qwen regressed); stderr %q", code, errs)
	}
	for _, w := range []string{
		"<!-- gate:report id=default -->\n❌ **gate: fail** — 1 of 4 entries failed: `qwen` decode · step p50",
		"| `qwen` | H200 | ❌ fail |",
		"| `gone` | — | ⛔ missing | " + head,
		"| `mistral` | H200 | ⚪ no baseline | no baseline: " + base,
		"| `llama` | H200 | ✅ pass |",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("the merged report lacks %q:\n%.1500s", w, out)
		}
	}
	if errs != "gate compare: gone missing, mistral no baseline, qwen fail\n" {
		t.Errorf("stderr %q", errs)
	}
	// --id picks one entry.
	if code, out, _ := runGate("compare", "--id", "llama", base, head, "--format", "markdown"); code != exitOK || !strings.Contains(out, "| `llama` |") || strings.Contains(out, "| `qwen` |") {
		t.Errorf("--id llama: exit %d:\n%.600s", code, out)
	}
	if code, _, errs := runGate("compare", "--id", "nope", base, head); code != exitError || !strings.Contains(errs, "--id nope: neither") || !strings.Contains(errs, "gone, llama, mistral, qwen") {
		t.Errorf("--id of no entry: exit %d, %q", code, errs)
	}
	if code, _, errs := runGate("compare", base, filepath.Join(head, "llama.json")); code != exitError || !strings.Contains(errs, "both be files or both be directories") {
		t.Errorf("a directory and a file: exit %d, %q", code, errs)
	}
	os.WriteFile(filepath.Join(head, "bad name.json"), []byte("{}"), 0o644)
	if code, _, errs := runGate("compare", base, head); code != exitError || !strings.Contains(errs, "bad name.json: its name is not an entry id") || strings.Count(errs, "\n") != 1 {
		t.Errorf("a file named like no entry: exit %d, %q", code, errs)
	}
}

func TestMergeCommand(t *testing.T) {
	t.Parallel()
	base, head := entryDirs(t)
	dir := t.TempDir()
	// Each leg's result.json, as gate compare --format json writes it.
	var results []string
	for _, id := range []string{"llama", "qwen"} {
		p := filepath.Join(dir, id+".result.json")
		hp := filepath.Join(head, id+".json")
		bp := filepath.Join(base, id+".json")
		if id == "qwen" {
			hp, bp = filepath.Join(head, "qwen", "summary.json"), filepath.Join(base, "qwen.summary.json")
		}
		if code, _, errs := runGate("compare", "--id", id, bp, hp, "--format", "json", "-o", p); code != exitOK && code != exitFail {
			t.Fatalf("%s: exit %d: %s", id, code, errs)
		}
		results = append(results, p)
	}
	code, out, errs := runGate(append([]string{"merge", "--entries", "llama,qwen,tp8", "--format", "markdown"}, results...)...)
	if code != exitFail {
		t.Fatalf("exit %d, want 1; stderr %q", code, errs)
	}
	for _, w := range []string{"| `qwen` | H200 | ❌ fail |", "| `tp8` | — | ⛔ missing | no result names this entry |", "| `llama` | H200 | ✅ pass |"} {
		if !strings.Contains(out, w) {
			t.Errorf("gate merge lacks %q:\n%.1200s", w, out)
		}
	}
	if code, out, _ := runGate(append([]string{"merge", "--format", "text"}, results[0])...); code != exitOK || !strings.HasPrefix(out, "✅ gate: pass — ") {
		t.Errorf("one passing entry as text: exit %d:\n%.300s", code, out)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"the same entry twice", []string{results[0], results[0]}, `entry "llama" again`},
		{"a summary, not a result", []string{filepath.Join(base, "llama.json")}, "llama.json: not a gate result"},
		{"a directory without result.json", []string{dir}, "result.json"},
		{"a bad entry id", []string{"--entries", "a b/c", results[0]}, "--entries"},
		{"nothing", nil, "want at least one RESULT"},
	} {
		code, _, errs := runGate(append([]string{"merge"}, tc.args...)...)
		if code != exitError || !strings.Contains(errs, tc.want) {
			t.Errorf("%s: exit %d, %q; want 2 and %q", tc.name, code, errs, tc.want)
		}
	}
	// A merged report is not a leg's result.
	merged := filepath.Join(dir, "merged.json")
	runGate(append([]string{"merge", "--format", "json", "-o", merged}, results...)...)
	if code, _, errs := runGate("merge", merged); code != exitError || !strings.Contains(errs, "a merged report already") {
		t.Errorf("merging a merged report: exit %d, %q", code, errs)
	}
}
