package action

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/nsys-gate/gate/internal/ziptest"
)

func TestUnzip(t *testing.T) {
	summary, err := os.ReadFile("../../testdata/nsys/probe.workload.json")
	if err != nil {
		t.Fatal(err)
	}
	lim := unzipLimits{Files: 4, Entry: 1 << 20, Total: 1<<20 + 10}
	tests := []struct {
		name    string
		entries []ziptest.Entry
		want    []string // names read, sorted
		unsafe  bool     // refused as ErrUnsafeZip
		refused bool     // refused, by any error
	}{
		{"summary", []ziptest.Entry{{Name: "summary.json", Data: string(summary)}}, []string{"summary.json"}, false, false},
		{"sorted with dirs", []ziptest.Entry{{Name: "out/", Mode: fs.ModeDir | 0o755}, {Name: "out/z.md", Data: "z"}, {Name: "a.json", Data: "{}"}}, []string{"a.json", "out/z.md"}, false, false},
		{"dot segments cleaned", []ziptest.Entry{{Name: "./a/./b.json", Data: "{}"}}, []string{"a/b.json"}, false, false},
		{"parent path", []ziptest.Entry{{Name: "../evil.json", Data: "{}"}}, nil, true, false},
		{"parent inside", []ziptest.Entry{{Name: "a/../../evil.json", Data: "{}"}}, nil, true, false},
		{"backslash parent", []ziptest.Entry{{Name: `a\..\..\evil.json`, Data: "{}"}}, nil, true, false},
		{"absolute", []ziptest.Entry{{Name: "/etc/passwd", Data: "x"}}, nil, true, false},
		{"drive letter", []ziptest.Entry{{Name: "C:/x", Data: "x"}}, nil, true, false},
		{"symlink", []ziptest.Entry{{Name: "link", Data: "/etc/passwd", Mode: fs.ModeSymlink | 0o777}}, nil, true, false},
		{"duplicate", []ziptest.Entry{{Name: "a", Data: "1"}, {Name: "./a", Data: "2"}}, nil, true, false},
		{"too many files", []ziptest.Entry{{Name: "1", Data: "x"}, {Name: "2", Data: "x"}, {Name: "3", Data: "x"}, {Name: "4", Data: "x"}, {Name: "5", Data: "x"}}, nil, true, false},
		{"oversized entry", []ziptest.Entry{{Name: "big", Data: strings.Repeat("0", 1<<20+1)}}, nil, true, false},
		// archive/zip itself stops at the size the header claims.
		{"header lies about size", []ziptest.Entry{{Name: "big", Data: strings.Repeat("0", 1<<20+1), Raw: true, Claimed: 10}}, nil, false, true},
		{"total too large", []ziptest.Entry{{Name: "a", Data: strings.Repeat("0", 1<<20)}, {Name: "b", Data: strings.Repeat("0", 11)}}, nil, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files, err := unzip(ziptest.Make(t, tt.entries...), lim)
			if tt.refused {
				if err == nil {
					t.Fatal("unzip: accepted, want an error")
				}
				return
			}
			if tt.unsafe {
				if !errors.Is(err, ErrUnsafeZip) {
					t.Fatalf("unzip: got %v, want ErrUnsafeZip", err)
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
	_, err := unzip([]byte("PK not really"), defaultUnzipLimits())
	if err == nil || errors.Is(err, ErrUnsafeZip) {
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
	summary, err := os.ReadFile("../../testdata/nsys/probe.workload.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ziptest.Make(f, ziptest.Entry{Name: "summary.json", Data: string(summary)}))
	f.Add(ziptest.Make(f, ziptest.Entry{Name: "../x", Data: "x"}, ziptest.Entry{Name: "d/", Mode: fs.ModeDir}))
	f.Add(ziptest.Make(f, ziptest.Entry{Name: "l", Data: "/", Mode: fs.ModeSymlink}))
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
