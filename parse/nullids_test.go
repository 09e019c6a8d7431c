package parse

import (
	"context"
	"strings"
	"testing"

	"github.com/nsys-gate/gate/internal/exporttest"
)

// nullable rebuilds the kernel table without its NOT NULL constraints, as
// other nsys versions declare it, so that a test can set ids to NULL.
const nullable = `CREATE TABLE k2 AS SELECT * FROM CUPTI_ACTIVITY_KIND_KERNEL ORDER BY start;
DROP TABLE CUPTI_ACTIVITY_KIND_KERNEL;
ALTER TABLE k2 RENAME TO CUPTI_ACTIVITY_KIND_KERNEL;
`

// NULL and dangling ids are named and counted as well as can be, with a
// warning, never a driver error, an empty name or StringIds' id 0.
func TestNullAndDanglingIds(t *testing.T) {
	gz := "../testdata/nsys/probe.sqlite.gz"
	clean, err := Export(context.Background(), exporttest.Decompress(t, gz, t.TempDir()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, sql string
		warn      string                     // in the null_ids warning
		check     func(*testing.T, *Summary) // what else must hold
	}{
		{"shortName ids missing from StringIds", `UPDATE CUPTI_ACTIVITY_KIND_KERNEL SET shortName = shortName + 1000000`,
			"kernel name ids are missing from StringIds", func(t *testing.T, s *Summary) {
				for _, k := range s.Kernels {
					if !strings.HasPrefix(k.Name, "unknown kernel (StringIds ") {
						t.Errorf("kernel %q", k.Name)
					}
				}
			}},
		{"no StringIds rows", `DELETE FROM StringIds`,
			"kernel name ids are missing from StringIds", func(t *testing.T, s *Summary) {
				for _, k := range s.Kernels {
					if k.Name == "" {
						t.Error("a kernel named \"\"")
					}
				}
			}},
		{"NULL shortName", nullable + `UPDATE CUPTI_ACTIVITY_KIND_KERNEL SET shortName = NULL WHERE rowid % 2 = 0`,
			"CUPTI_ACTIVITY_KIND_KERNEL rows have no shortName", func(t *testing.T, s *Summary) {
				if len(s.Kernels) == 0 {
					t.Fatal("no kernels")
				}
				for _, k := range s.Kernels {
					if k.Name == "GpuMetrics" || k.Name == "" {
						t.Errorf("kernel named %q", k.Name)
					}
				}
			}},
		{"NULL shortName and demangledName", nullable + `UPDATE CUPTI_ACTIVITY_KIND_KERNEL SET shortName = NULL, demangledName = NULL`,
			"rows have no shortName", func(t *testing.T, s *Summary) {
				if len(s.Kernels) != 1 || s.Kernels[0].Name != "unnamed kernel" || s.Kernels[0].Count != totalCount(clean) {
					t.Errorf("kernels %+v, want one \"unnamed kernel\" with every launch", s.Kernels)
				}
			}},
		{"NULL correlationId in the memcpy table", `UPDATE CUPTI_ACTIVITY_KIND_MEMCPY SET correlationId = NULL`,
			"have no correlationId and cannot be attributed to NVTX ranges: CUPTI_ACTIVITY_KIND_MEMCPY 42", func(t *testing.T, s *Summary) {
				if got, want := memcpyCount(s), memcpyCount(clean); got != want || want == 0 {
					t.Errorf("memcpys %d, want %d: they still count", got, want)
				}
			}},
		{"NULL correlationId in the kernel table", nullable + `UPDATE CUPTI_ACTIVITY_KIND_KERNEL SET correlationId = NULL WHERE rowid % 3 = 0`,
			"CUPTI_ACTIVITY_KIND_KERNEL 823", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Export(context.Background(), exporttest.Broken(t, gz, tt.sql), Options{})
			if err != nil {
				t.Fatalf("%v", err)
			}
			var found bool
			for _, w := range s.Warnings {
				found = found || w.Code == WarnNullIds && strings.Contains(w.Message, tt.warn)
			}
			if !found {
				t.Errorf("no %s warning with %q: %+v", WarnNullIds, tt.warn, s.Warnings)
			}
			if tt.check != nil {
				tt.check(t, s)
			}
		})
	}
	for _, w := range clean.Warnings {
		if w.Code == WarnNullIds {
			t.Errorf("the clean export warns %q", w.Message)
		}
	}
}

func totalCount(s *Summary) int64 {
	var n int64
	for _, k := range s.Kernels {
		n += k.Count
	}
	return n
}

func memcpyCount(s *Summary) int64 {
	var n int64
	for _, op := range s.Memory.Ops {
		if op.Kind == "memcpy" {
			n += op.Count
		}
	}
	return n
}

// A scope range that never ended (the capture stopped inside it) is
// reported as such, not as missing.
func TestUnendedScope(t *testing.T) {
	path := exporttest.Broken(t, "../testdata/nsys/probe.sqlite.gz", `UPDATE NVTX_EVENTS SET end = NULL WHERE text = 'benchmark' OR textId IN (SELECT id FROM StringIds WHERE value = 'benchmark')`)
	_, err := Export(context.Background(), path, Options{Scope: "benchmark"})
	if err == nil || !strings.Contains(err.Error(), `the NVTX push/pop range "benchmark" never ended`) {
		t.Errorf("err = %v", err)
	}
	if _, err := Export(context.Background(), path, Options{Scope: "no-such-range"}); err == nil || !strings.Contains(err.Error(), `no NVTX push/pop range named "no-such-range"`) {
		t.Errorf("a missing scope: %v", err)
	}
}
