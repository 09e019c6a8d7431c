package gate

import (
	"archive/zip"
	"bytes"
	"errors"
	"hash/crc32"
	"io/fs"
	"os"
	"strings"
	"testing"
)

// zipEntry describes one entry of a test archive. Raw entries are written
// stored, with Claimed as the size their header states.
type zipEntry struct {
	Name    string
	Data    string
	Mode    fs.FileMode
	Raw     bool
	Claimed uint64
}

func makeZip(t testing.TB, entries ...zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.Name, Method: zip.Deflate}
		if e.Mode != 0 {
			h.SetMode(e.Mode)
		}
		if e.Raw {
			h.Method = zip.Store
			h.CRC32 = crc32.ChecksumIEEE([]byte(e.Data))
			h.CompressedSize64 = uint64(len(e.Data))
			h.UncompressedSize64 = e.Claimed
			w, err := zw.CreateRaw(h)
			if err != nil {
				t.Fatal(err)
			}
			w.Write([]byte(e.Data))
			continue
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(e.Data))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestUnzip(t *testing.T) {
	summary, err := os.ReadFile("../testdata/nsys/probe.workload.json")
	if err != nil {
		t.Fatal(err)
	}
	lim := unzipLimits{Files: 4, Entry: 1 << 20, Total: 1<<20 + 10}
	tests := []struct {
		name    string
		entries []zipEntry
		want    []string // names read, sorted
		unsafe  bool     // refused as errUnsafeZip
		refused bool     // refused, by any error
	}{
		{"summary", []zipEntry{{Name: "summary.json", Data: string(summary)}}, []string{"summary.json"}, false, false},
		{"sorted with dirs", []zipEntry{{Name: "out/", Mode: fs.ModeDir | 0o755}, {Name: "out/z.md", Data: "z"}, {Name: "a.json", Data: "{}"}}, []string{"a.json", "out/z.md"}, false, false},
		{"dot segments cleaned", []zipEntry{{Name: "./a/./b.json", Data: "{}"}}, []string{"a/b.json"}, false, false},
		{"parent path", []zipEntry{{Name: "../evil.json", Data: "{}"}}, nil, true, false},
		{"parent inside", []zipEntry{{Name: "a/../../evil.json", Data: "{}"}}, nil, true, false},
		{"backslash parent", []zipEntry{{Name: `a\..\..\evil.json`, Data: "{}"}}, nil, true, false},
		{"absolute", []zipEntry{{Name: "/etc/passwd", Data: "x"}}, nil, true, false},
		{"drive letter", []zipEntry{{Name: "C:/x", Data: "x"}}, nil, true, false},
		{"symlink", []zipEntry{{Name: "link", Data: "/etc/passwd", Mode: fs.ModeSymlink | 0o777}}, nil, true, false},
		{"duplicate", []zipEntry{{Name: "a", Data: "1"}, {Name: "./a", Data: "2"}}, nil, true, false},
		{"too many files", []zipEntry{{Name: "1", Data: "x"}, {Name: "2", Data: "x"}, {Name: "3", Data: "x"}, {Name: "4", Data: "x"}, {Name: "5", Data: "x"}}, nil, true, false},
		{"oversized entry", []zipEntry{{Name: "big", Data: strings.Repeat("0", 1<<20+1)}}, nil, true, false},
		// archive/zip itself stops at the size the header claims.
		{"header lies about size", []zipEntry{{Name: "big", Data: strings.Repeat("0", 1<<20+1), Raw: true, Claimed: 10}}, nil, false, true},
		{"total too large", []zipEntry{{Name: "a", Data: strings.Repeat("0", 1<<20)}, {Name: "b", Data: strings.Repeat("0", 11)}}, nil, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files, err := unzip(makeZip(t, tt.entries...), lim)
			if tt.refused {
				if err == nil {
					t.Fatal("unzip: accepted, want an error")
				}
				return
			}
			if tt.unsafe {
				if !errors.Is(err, errUnsafeZip) {
					t.Fatalf("unzip: got %v, want errUnsafeZip", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range files {
				got = append(got, f.Name)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("names = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestUnzipNotAZip(t *testing.T) {
	_, err := unzip([]byte("PK not really"), defaultUnzipLimits)
	if err == nil || errors.Is(err, errUnsafeZip) {
		t.Fatalf("unzip of garbage: %v, want a read error", err)
	}
}

func TestFindZipFile(t *testing.T) {
	files := []zipFile{{Name: "gate/report.md"}, {Name: "gate/summary.json"}, {Name: "other/summary.json"}, {Name: "result.json"}}
	if f, ok := findZipFile(files, "report.md"); !ok || f.Name != "gate/report.md" {
		t.Errorf("report.md: %v %v", f.Name, ok)
	}
	if _, ok := findZipFile(files, "summary.json"); ok {
		t.Error("summary.json is ambiguous, want not found")
	}
	if f, ok := findZipFile(files, "result.json"); !ok || f.Name != "result.json" {
		t.Errorf("result.json: %v %v", f.Name, ok)
	}
}

// FuzzUnzip checks that no archive panics unzip or yields a path that could
// leave the extraction directory, and that limits hold.
func FuzzUnzip(f *testing.F) {
	summary, err := os.ReadFile("../testdata/nsys/probe.workload.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(makeZip(f, zipEntry{Name: "summary.json", Data: string(summary)}))
	f.Add(makeZip(f, zipEntry{Name: "../x", Data: "x"}, zipEntry{Name: "d/", Mode: fs.ModeDir}))
	f.Add(makeZip(f, zipEntry{Name: "l", Data: "/", Mode: fs.ModeSymlink}))
	lim := unzipLimits{Files: 8, Entry: 1 << 16, Total: 1 << 17}
	f.Fuzz(func(t *testing.T, data []byte) {
		files, err := unzip(data, lim)
		if err != nil {
			return
		}
		if len(files) > lim.Files {
			t.Fatalf("%d files", len(files))
		}
		var total int64
		for _, zf := range files {
			total += int64(len(zf.Data))
			if int64(len(zf.Data)) > lim.Entry {
				t.Fatalf("%q: %d bytes", zf.Name, len(zf.Data))
			}
			if _, err := safeZipName(zf.Name); err != nil || zf.Name != strings.TrimPrefix(zf.Name, "/") {
				t.Fatalf("unsafe name %q", zf.Name)
			}
		}
		if total > lim.Total {
			t.Fatalf("%d bytes in all", total)
		}
	})
}
