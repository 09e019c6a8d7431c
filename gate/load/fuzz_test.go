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

// FuzzReportVersion feeds mutated report heads and trailers to the reader of
// an .nsys-rep's release (the shipped report's first and last bytes as the
// seed): it finds a release string or nothing, never panics.
func FuzzReportVersion(f *testing.F) {
	data, err := os.ReadFile(fixturePath("nsys/base_a.nsys-rep"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data[:64], data[len(data)-1024:])
	f.Add([]byte("NVIDIA Tegra Profiler Report 1."), []byte("2025.3:1"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, head, tail []byte) {
		path := filepath.Join(dir, "report.nsys-rep")
		if err := os.WriteFile(path, append(append([]byte{}, head...), tail...), 0o644); err != nil {
			t.Fatal(err)
		}
		v := reportVersion(path)
		if v != "" && nsysVersion.FindString(v) != v {
			t.Fatalf("version %q is not a release string", v)
		}
	})
}
