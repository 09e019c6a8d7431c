package safefile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "s.json")
	if err := Write(p, []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := Write(p, []byte("two")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "two" {
		t.Errorf("content %q", b)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", fi.Mode())
	}
	// A link planted where gate writes is refused, and its target untouched.
	victim := filepath.Join(dir, "victim.txt")
	os.WriteFile(victim, []byte("mine"), 0o600)
	link := filepath.Join(dir, "summary.json")
	os.Symlink(victim, link)
	if err := Write(link, []byte("x")); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("wrote through a symlink: %v", err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "mine" {
		t.Errorf("victim now %q", b)
	}
	if err := Dir(link); err == nil {
		t.Error("a symlinked output folder was accepted")
	}
	if err := Write(dir, []byte("x")); err == nil {
		t.Error("wrote over a directory")
	}
	// A device is written in place.
	if err := Write(os.DevNull, []byte("x")); err != nil {
		t.Errorf("/dev/null: %v", err)
	}
	// No temporary file is left behind.
	es, _ := os.ReadDir(dir)
	for _, e := range es {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("left %s", e.Name())
		}
	}
}

// The old file is replaced, never truncated in place: a second name for it
// keeps the old content, so a write that fails halfway (ENOSPC) cannot have
// cut it.
func TestWriteReplacesNotTruncates(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "s.json")
	os.WriteFile(p, []byte(`{"previous":"good"}`), 0o644)
	old := filepath.Join(dir, "old.json")
	if err := os.Link(p, old); err != nil {
		t.Skip(err)
	}
	if err := Write(p, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(old); string(b) != `{"previous":"good"}` {
		t.Errorf("the old file was written in place: %q", b)
	}
	if b, _ := os.ReadFile(p); string(b) != "new" {
		t.Errorf("new content %q", b)
	}
}
