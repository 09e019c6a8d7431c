package parse

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
)

func atof(tb testing.TB, s string) float64 {
	tb.Helper()
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		tb.Fatalf("bad number %q: %v", s, err)
	}
	return v
}

// TestKernelStatsMatchNsysStats groups kernels the way `nsys stats -r
// cuda_gpu_kern_sum` did for the reference CSVs (demangled name, grid and
// block) and checks count, total, average, median, min and max of every row
// through the same statistics code that fills Summary.Kernels.
func TestKernelStatsMatchNsysStats(t *testing.T) {
	for _, name := range []string{"base_a", "regress_double_attn", "vllm_real", "base_graphmode"} {
		t.Run(name, func(t *testing.T) {
			p, err := load(context.Background(), export(t, name), Options{}, groupDemangledGridBlock)
			if err != nil {
				t.Fatal(err)
			}
			s := p.summary()
			got := map[string]Kernel{}
			for _, k := range s.Kernels {
				var dem int64
				var g [6]int64
				if _, err := fmt.Sscanf(k.Name, "%d|%d %d %d|%d %d %d", &dem, &g[0], &g[1], &g[2], &g[3], &g[4], &g[5]); err != nil {
					t.Fatalf("group %q: %v", k.Name, err)
				}
				key := fmt.Sprintf("%s|%d %d %d|%d %d %d", p.strs[dem], g[0], g[1], g[2], g[3], g[4], g[5])
				got[key] = k
			}
			ref := readCSV(t, "nsys-stats/"+name+"_gpukernsum.csv.gz")
			if len(ref) == 0 {
				t.Fatal("empty reference")
			}
			for _, row := range ref {
				key := row["Name"] + "|" + strings.Join(strings.Fields(row["GridXYZ"]), " ") + "|" + strings.Join(strings.Fields(row["BlockXYZ"]), " ")
				k, ok := got[key]
				if !ok {
					t.Errorf("%s: in nsys stats, not in gate", key)
					continue
				}
				delete(got, key)
				if k.Count != atoi(t, row["Instances"]) || k.TotalNs != atoi(t, row["Total Time (ns)"]) ||
					k.MinNs != atoi(t, row["Min (ns)"]) || k.MaxNs != atoi(t, row["Max (ns)"]) ||
					math.Abs(k.AvgNs-atof(t, row["Avg (ns)"])) > 0.051 || math.Abs(k.P50Ns-atof(t, row["Med (ns)"])) > 0.051 {
					t.Errorf("%.80s: gate n=%d total=%d avg=%.1f med=%.1f min=%d max=%d; nsys n=%s total=%s avg=%s med=%s min=%s max=%s",
						key, k.Count, k.TotalNs, k.AvgNs, k.P50Ns, k.MinNs, k.MaxNs,
						row["Instances"], row["Total Time (ns)"], row["Avg (ns)"], row["Med (ns)"], row["Min (ns)"], row["Max (ns)"])
				}
			}
			for key := range got {
				t.Errorf("%.80s: in gate, not in nsys stats", key)
			}
		})
	}
}

// TestMemoryMatchesNsysStats checks memcpy/memset counts, total time and
// bytes per operation against cuda_gpu_mem_time_sum and cuda_gpu_mem_size_sum
// (which prints sizes in MB = 1e6 bytes, to 3 decimals).
func TestMemoryMatchesNsysStats(t *testing.T) {
	for _, name := range []string{"base_a", "regress_double_attn", "vllm_real", "base_graphmode"} {
		t.Run(name, func(t *testing.T) {
			s, err := Export(context.Background(), export(t, name), Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]MemoryOp{}
			for _, op := range s.Memory.Ops {
				label := "[CUDA memset]"
				if op.Kind == "memcpy" {
					label = "[CUDA memcpy " + op.Direction + "]"
				}
				got[label] = op
			}
			times := readCSV(t, "nsys-stats/"+name+"_gpumemtimesum.csv.gz")
			sizes := map[string]map[string]string{}
			for _, row := range readCSV(t, "nsys-stats/"+name+"_gpumemsizesum.csv.gz") {
				sizes[row["Operation"]] = row
			}
			if len(times) != len(got) {
				t.Errorf("%d operations in gate, %d in nsys stats", len(got), len(times))
			}
			for _, row := range times {
				op, ok := got[row["Operation"]]
				if !ok {
					t.Errorf("%s: in nsys stats, not in gate", row["Operation"])
					continue
				}
				if op.Count != atoi(t, row["Count"]) || op.TimeNs != atoi(t, row["Total Time (ns)"]) {
					t.Errorf("%s: gate count %d time %d; nsys count %s time %s", row["Operation"], op.Count, op.TimeNs, row["Count"], row["Total Time (ns)"])
				}
				size := sizes[row["Operation"]]
				if size == nil {
					t.Errorf("%s: no size row", row["Operation"])
					continue
				}
				if mb := float64(op.Bytes) / 1e6; math.Abs(mb-atof(t, size["Total (MB)"])) > 0.0005 {
					t.Errorf("%s: gate %.3f MB, nsys %s MB", row["Operation"], mb, size["Total (MB)"])
				}
				if op.TimeNs > 0 && math.Abs(op.GBps-float64(op.Bytes)/float64(op.TimeNs)) > 1e-9 {
					t.Errorf("%s: GB/s %f inconsistent", row["Operation"], op.GBps)
				}
			}
		})
	}
}
