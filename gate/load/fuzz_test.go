package load

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/nsys-gate/gate/internal/exporttest"
	"github.com/nsys-gate/gate/parse"
)

// FuzzLoadSummary feeds mutated inputs to the loader that `gate parse` and
// `gate compare` use: a minimal export made with SQL from the probe, gzipped,
// and a small summary JSON as seeds. It may fail, never panic.
func FuzzLoadSummary(f *testing.F) {
	minimal, err := os.ReadFile(exporttest.Minimal(f, fixturePath("nsys/probe.sqlite.gz"), f.TempDir()))
	if err != nil {
		f.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(minimal)
	zw.Close()
	f.Add(gz.Bytes())
	f.Add([]byte(`{"schema": "gate.summary/v1", "phases": {"decode": {"steps": 1, "samples": [{"span_ns": 5}]}}, "kernels": [{"name": "k", "count": 1, "total_ns": 5}], "warnings": []}`))
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
