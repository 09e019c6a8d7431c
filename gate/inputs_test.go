package gate

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Hostile or odd inputs to the command line: each is one line naming the
// file, exit 2, and nothing written over a good file.

func TestParseOutputIsAtomicAndNoSymlinks(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "s.json")
	os.WriteFile(out, []byte(`{"previous":"good"}`), 0o644)
	// A failing parse leaves -o alone.
	if code, _, _ := runGate("parse", filepath.Join(dir, "missing.sqlite"), "-o", out); code != exitError {
		t.Fatalf("exit %d", code)
	}
	if b, _ := os.ReadFile(out); string(b) != `{"previous":"good"}` {
		t.Errorf("-o changed by a failed parse: %q", b)
	}
	// -o through a symlink is refused; the link's target is untouched.
	victim := filepath.Join(dir, "victim.txt")
	os.WriteFile(victim, []byte("mine"), 0o644)
	link := filepath.Join(dir, "link.json")
	os.Symlink(victim, link)
	code, _, stderr := runGate("parse", fixturePath("nsys/probe.sqlite.gz"), "-o", link)
	if code != exitError || !strings.Contains(stderr, "symbolic link") {
		t.Errorf("-o a symlink: exit %d, %q", code, stderr)
	}
	if b, _ := os.ReadFile(victim); string(b) != "mine" {
		t.Errorf("wrote through the symlink: %q", b)
	}
	// A good parse replaces -o whole, leaving no temporary file.
	if code, _, stderr := runGate("parse", fixturePath("nsys/probe.sqlite.gz"), "-o", out); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	es, _ := os.ReadDir(dir)
	if len(es) != 3 {
		t.Errorf("folder holds %d entries, want s.json, victim.txt, link.json", len(es))
	}
}

func TestParseHostileInputs(t *testing.T) {
	dir := t.TempDir()
	newline := filepath.Join(dir, "bad\nname.sqlite")
	os.WriteFile(newline, []byte("hello"), 0o644)
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write([]byte("SQLite format 3\x00"))
	zw.Write(make([]byte, 4<<20))
	zw.Close()
	bomb := filepath.Join(dir, "bomb.sqlite.gz")
	os.WriteFile(bomb, z.Bytes(), 0o644)
	probe := fixturePath("nsys/probe.sqlite.gz")
	for _, tt := range []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{"newline in the path", nil, []string{newline}, []string{"bad name.sqlite", "not an SQLite database"}},
		{"gzip bomb over GATE_MAX_GUNZIP", map[string]string{"GATE_MAX_GUNZIP": "1MiB"}, []string{bomb}, []string{bomb, "expands to more than 1 MiB"}},
		{"bad GATE_MAX_GUNZIP", map[string]string{"GATE_MAX_GUNZIP": "lots"}, []string{probe}, []string{"GATE_MAX_GUNZIP", `"lots"`}},
		{"a rank twice", nil, []string{probe + "," + probe}, []string{"listed twice"}},
		{"an empty rank", nil, []string{probe + ","}, []string{"is empty"}},
		{"a device", nil, []string{"/dev/zero"}, []string{"/dev/zero", "not a regular file"}},
	} {
		var stdout, stderr bytes.Buffer
		c := &Command{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return tt.env[k] }}
		code := c.Main(append([]string{"gate", "parse"}, tt.args...))
		msg := stderr.String()
		if code != exitError || strings.Count(msg, "\n") != 1 {
			t.Errorf("%s: exit %d, stderr %q: want exit 2 and one line", tt.name, code, msg)
		}
		for _, w := range tt.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: stderr %q lacks %q", tt.name, msg, w)
			}
		}
	}
	// A large enough cap lets the same file through to SQLite.
	var stdout, stderr bytes.Buffer
	c := &Command{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return map[string]string{"GATE_MAX_GUNZIP": "64MiB"}[k] }}
	if code := c.Main([]string{"gate", "parse", bomb}); code != exitError || strings.Contains(stderr.String(), "expands") {
		t.Errorf("under a 64MiB cap: exit %d %q", code, stderr.String())
	}
}

// The action's output directory lies in the PR's checkout: a symlink
// planted there is refused, not followed.
func TestActionRefusesSymlinksInOutputDir(t *testing.T) {
	t.Parallel()
	e := newActionEnv(t, nil, "pull_request", map[string]string{"profile": fixture("base_b"), "baseline": fixture("base_a"), "github-token": ""})
	out := filepath.Join(e.dir, "gate-report")
	os.Mkdir(out, 0o755)
	victim := filepath.Join(e.dir, "victim.txt")
	os.WriteFile(victim, []byte("mine"), 0o644)
	os.Symlink(victim, filepath.Join(out, "summary.json"))
	if code := e.run(); code != exitError {
		e.logf(t)
		t.Fatalf("exit %d, want %d", code, exitError)
	}
	if b, _ := os.ReadFile(victim); string(b) != "mine" {
		t.Errorf("wrote through the symlink: %q", b)
	}
	if !strings.Contains(e.stdout.String(), "symbolic link") {
		t.Errorf("the error does not say why:\n%s", e.stdout.String())
	}
}
