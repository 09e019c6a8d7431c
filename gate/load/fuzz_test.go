package load

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/nsys-gate/gate/parse"
)

// FuzzLoadSummary feeds mutated inputs to the loader that `gate parse` and
// `gate compare` use: the gzipped probe export and the golden summary JSON
// as seeds. It may fail, never panic.
func FuzzLoadSummary(f *testing.F) {
	for _, seed := range []string{"nsys/probe.sqlite.gz", "parse/probe.summary.golden.json"} {
		data, err := os.ReadFile(fixturePath(seed))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("{}"))
	f.Add([]byte{0x1f, 0x8b})
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "input")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if s, err := Summary(context.Background(), path, parse.Options{}); err == nil && s == nil {
			t.Fatal("nil summary without an error")
		}
	})
}
