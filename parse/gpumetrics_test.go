package parse

import (
	"context"
	"database/sql"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nsys-gate/gate/internal/exporttest"
	"github.com/nsys-gate/gate/internal/stats"
)

// The GPU-metrics exports recorded on the H200 (testdata/nsys, trimmed by
// gm-trim.sh): gm_base and gm_kv_fp32 are the shared fixtures (20 kHz),
// gm_base1 and gm_base2 two more runs of the base (10 kHz).

// TestGPUMetricsFixtures: the decode figures agree with the fixtures
// README (sample medians over the decode ranges: the base reads about 28%
// and writes about 1% of the 4.81 TB/s peak, SMs active about 43%; with the
// KV cache in fp32 about 34%, 8% and 56%) and with an SQL oracle: the plain
// mean of the samples that start inside each step, medianed over steps.
func TestGPUMetricsFixtures(t *testing.T) {
	for _, c := range []struct {
		name               string
		read, write, sm    float64
		hz                 float64
		minSteps, maxTrace int
	}{
		{"gm_base", 28, 1, 43, 20000, 128, 40},
		{"gm_kv_fp32", 34, 8, 56, 20000, 128, 60},
		{"gm_base1", 28, 1, 43, 10000, 128, 20},
		{"gm_base2", 28, 1, 43, 10000, 128, 20},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := export(t, c.name)
			s := mustExport(t, path, Options{Scope: "benchmark"})
			g := s.GPUMetrics
			if g == nil {
				t.Fatal("no gpu_metrics")
			}
			if g.FrequencyHz != c.hz {
				t.Errorf("frequency %v Hz, want %v", g.FrequencyHz, c.hz)
			}
			var keys []string
			for _, m := range g.Metrics {
				keys = append(keys, m.Key)
			}
			if want := []string{"gpc_clock", "sm_active", "tensor_active", "dram_read", "dram_write", "pcie_rx", "pcie_tx"}; !slices.Equal(keys, want) {
				t.Errorf("metrics %v, want %v", keys, want)
			}
			d := g.Phase(PhaseDecode)
			if d == nil || d.Steps < c.minSteps || len(d.Samples) != len(s.Phases[PhaseDecode].Samples) {
				t.Fatalf("decode: %+v", d)
			}
			near := func(what string, got, want, tol float64) {
				t.Helper()
				if math.Abs(got-want) > tol {
					t.Errorf("decode %s %.2f, want %.0f ± %.0f", what, got, want, tol)
				}
			}
			near("DRAM read %", d.DRAMRead.P50, c.read, 2)
			near("DRAM write %", d.DRAMWrite.P50, c.write, 1)
			near("SMs active %", d.SMActive.P50, c.sm, 2)
			oracle := sampleMedians(t, path, s, "DRAM Read Bandwidth [Throughput %]")
			near("DRAM read % against the SQL oracle", d.DRAMRead.P50, oracle, 1)
			// Bytes are the share of peak integrated over the step.
			ph := s.Phases[PhaseDecode]
			for i, x := range d.Samples {
				span := float64(ph.Samples[i].SpanNs) / 1e9
				if want := x.DRAMRead / 100 * s.GPU.PeakBandwidth * span; math.Abs(x.DRAMReadBytes-want) > 1e-6*want {
					t.Fatalf("step %d: %g read bytes, want %g (%.3g%% of peak over %g s)", i, x.DRAMReadBytes, want, x.DRAMRead, span)
				}
			}
			if d.ClockMinMHz < 1000 || d.ClockMedianMHz < d.ClockMinMHz || d.ClockMedianMHz > 1980 {
				t.Errorf("decode clock min %v median %v MHz: not an H200 under load", d.ClockMinMHz, d.ClockMedianMHz)
			}
			if tr := d.Typical; tr == nil || len(tr.Samples) < 4 || len(tr.Samples) > c.maxTrace || tr.Samples[0].OffsetNs > 0 {
				t.Errorf("typical decode step trace: %+v", tr)
			}
			if g.Window.DRAMReadBytes < d.DRAMReadBytes.P50*float64(d.Steps) {
				t.Errorf("window reads %g bytes, less than its decode steps", g.Window.DRAMReadBytes)
			}
		})
	}
}

// sampleMedians is the oracle: per decode step, the mean of the samples of
// metric whose timestamps fall inside the step, medianed over the steps.
func sampleMedians(t *testing.T, path string, s *Summary, metric string) float64 {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var means []float64
	for _, st := range s.Phases[PhaseDecode].Samples {
		var mean sql.NullFloat64
		err := db.QueryRowContext(context.Background(), `SELECT avg(value) FROM GPU_METRICS g JOIN TARGET_INFO_GPU_METRICS n
			ON n.typeId = g.typeId AND n.metricId = g.metricId WHERE n.metricName = ? AND g.timestamp >= ? AND g.timestamp < ?`,
			metric, st.StartNs, st.StartNs+st.SpanNs).Scan(&mean)
		if err != nil {
			t.Fatal(err)
		}
		if mean.Valid {
			means = append(means, mean.Float64)
		}
	}
	slices.Sort(means)
	return stats.Median(means)
}

// TestGPUMetricsKVCache is the bandwidth gate's case on the parser's side:
// with the KV cache in fp32 a decode step writes at least 3x the DRAM bytes
// and reads more.
func TestGPUMetricsKVCache(t *testing.T) {
	base := mustExport(t, export(t, "gm_base"), Options{Scope: "benchmark"}).GPUMetrics.Phase(PhaseDecode)
	kv := mustExport(t, export(t, "gm_kv_fp32"), Options{Scope: "benchmark"}).GPUMetrics.Phase(PhaseDecode)
	if r := kv.DRAMWriteBytes.P50 / base.DRAMWriteBytes.P50; r < 3 {
		t.Errorf("decode DRAM write/step %.4g -> %.4g bytes: %.2fx, want >= 3x", base.DRAMWriteBytes.P50, kv.DRAMWriteBytes.P50, r)
	}
	if kv.DRAMReadBytes.P50 <= base.DRAMReadBytes.P50 {
		t.Errorf("decode DRAM read/step %.4g -> %.4g bytes: want higher", base.DRAMReadBytes.P50, kv.DRAMReadBytes.P50)
	}
}

// TestGPUMetricsAbsent: exports recorded without sampling have no
// gpu_metrics (their goldens hold them byte for byte).
func TestGPUMetricsAbsent(t *testing.T) {
	if s := mustExport(t, export(t, "probe"), Options{}); s.GPUMetrics != nil {
		t.Errorf("probe has gpu_metrics: %+v", s.GPUMetrics)
	}
}

// gmSummary is a summary with decode steps [1000,2000), [2000,3000) and
// [3050,3950) on device dev, a window [0, 10000) and a peak of 1e12 B/s.
func gmSummary(dev int) *Summary {
	steps := []Step{{StartNs: 1000, SpanNs: 1000, Device: dev}, {StartNs: 2000, SpanNs: 1000, Device: dev}, {StartNs: 3050, SpanNs: 900, Device: dev}}
	return &Summary{
		Source: Source{WindowStartNs: 0, WindowEndNs: 10000},
		GPU:    GPU{PeakBandwidth: 1e12},
		Phases: map[string]*Phase{PhaseDecode: {Steps: len(steps), Samples: steps}},
	}
}

var gmH100Names = []gmMetric{
	{1, 0, "GPC Clock Frequency [MHz]"},
	{1, 3, "SMs Active [Throughput %]"},
	{1, 18, "DRAM Read Bandwidth [Throughput %]"},
	{1, 19, "DRAM Write Bandwidth [Throughput %]"},
	{1, 7, "Compute Warps in Flight [Avg]"},
}

// TestGMPassIntegrates: samples every 100 ns, 50 ns off the step edges,
// weighted by their overlap with each step; bytes are the share of peak
// over time; the clock is read in Hz and kept in MHz.
func TestGMPassIntegrates(t *testing.T) {
	s := gmSummary(0)
	g := newGMPass(s, gmH100Names)
	for ts := int64(-50); ts < 10000; ts += 100 {
		read := 20.0
		if ts >= 950 && ts < 1950 {
			read = 50 // [950, 1950); the sample at 1950 (20%) is half in step 1, half in step 2
		}
		g.add(1, 18, ts, read)
		g.add(1, 19, ts, 10)
		g.add(1, 3, ts, 40)
		clock := 1980e6
		if ts == 2450 {
			clock = 1500e6
		}
		g.add(1, 0, ts, clock)
		g.add(1, 7, ts, 99) // a metric gate does not read
	}
	g.finish(s)
	gm := s.GPUMetrics
	d := gm.Phase(PhaseDecode)
	if d == nil || d.Steps != 3 {
		t.Fatalf("decode: %+v", d)
	}
	want := []float64{(950*50 + 50*20) / 1000.0, 20, 20}
	for i, x := range d.Samples {
		if math.Abs(x.DRAMRead-want[i]) > 1e-9 {
			t.Errorf("step %d: read %v%%, want %v", i, x.DRAMRead, want[i])
		}
		if b := want[i] / 100 * 1e12 * float64(s.Phases[PhaseDecode].Samples[i].SpanNs) / 1e9; math.Abs(x.DRAMReadBytes-b) > 1e-6 {
			t.Errorf("step %d: %v bytes read, want %v", i, x.DRAMReadBytes, b)
		}
		if x.DRAMWrite != 10 || x.SMActive != 40 || x.N < 9 || x.N > 11 {
			t.Errorf("step %d: %+v", i, x)
		}
	}
	if gm.FrequencyHz != 1e7 {
		t.Errorf("frequency %v Hz, want 1e7", gm.FrequencyHz)
	}
	if d.ClockMinMHz != 1500 || d.ClockMedianMHz != 1980 || gm.Window.ClockMinMHz != 1500 {
		t.Errorf("clock min %v median %v, window min %v: want 1500, 1980 MHz", d.ClockMinMHz, d.ClockMedianMHz, gm.Window.ClockMinMHz)
	}
	if gm.Window.SampledNs != 10000 || math.Abs(gm.Window.DRAMWrite-10) > 1e-9 {
		t.Errorf("window %+v", gm.Window)
	}
	if len(gm.Metrics) != 4 || gm.Has(SampledTensorActive) || !gm.Has(SampledDRAMRead) {
		t.Errorf("metrics %+v: want the four sampled, tensor active absent", gm.Metrics)
	}
	if tr := d.Typical; tr == nil || tr.Step != 0 || tr.Samples[0].OffsetNs != -50 || tr.Samples[0].DRAMRead != 50 {
		t.Errorf("typical step (the median span, 1000 ns): %+v", tr)
	}
	if len(s.Warnings) != 0 {
		t.Errorf("warnings %v", s.Warnings)
	}
}

// TestGMPassBadSamples: samples out of time order are dropped, a gap in
// sampling holds the last sample for one period only, a unit gate cannot
// read is left out; each is said once.
func TestGMPassBadSamples(t *testing.T) {
	s := gmSummary(0)
	g := newGMPass(s, []gmMetric{{1, 18, "DRAM Read Bandwidth [Throughput %]"}, {1, 19, "DRAM Write Bandwidth [GB/s]"}})
	for _, ts := range []int64{0, 100, 200, 150, 300, 2000, 2100} {
		g.add(1, 18, ts, 60)
		g.add(1, 19, ts, 5)
	}
	g.finish(s)
	d := s.GPUMetrics.Phase(PhaseDecode)
	// [0, 400) sampled, then nothing until 2000: only step 2 is sampled.
	if d.Samples[0].N != 0 || d.Samples[1].N != 2 || d.Samples[2].N != 0 || d.Steps != 1 {
		t.Errorf("steps %+v", d.Samples)
	}
	if len(s.Warnings) != 1 || s.Warnings[0].Code != WarnGPUMetrics ||
		!strings.Contains(s.Warnings[0].Message, "1 samples out of time order") || !strings.Contains(s.Warnings[0].Message, "[GB/s]") {
		t.Errorf("warnings %v", s.Warnings)
	}
	if s.GPUMetrics.Has(SampledDRAMWrite) {
		t.Error("DRAM write in GB/s was read as a share of peak")
	}
}

// TestGMPassDevices: with two sampled GPUs each step is measured against
// its own device's samples; the window figures are per device too.
func TestGMPassDevices(t *testing.T) {
	s := gmSummary(1)
	s.Phases[PhaseDecode].Samples[0].Device = 0
	names := []gmMetric{{7, 18, "DRAM Read Bandwidth [Throughput %]"}, {9, 18, "DRAM Read Bandwidth [Throughput %]"}}
	g := newGMPass(s, names)
	for ts := int64(0); ts < 10000; ts += 100 {
		g.add(7, 18, ts, 10) // device 0
		g.add(9, 18, ts, 30) // device 1
	}
	g.finish(s)
	d := s.GPUMetrics.Phase(PhaseDecode)
	if d.Samples[0].DRAMRead != 10 || d.Samples[1].DRAMRead != 30 || d.Samples[2].DRAMRead != 30 {
		t.Errorf("per-device steps %+v", d.Samples)
	}
	if ds := s.GPUMetrics.Devices; len(ds) != 2 || ds[0].ID != 0 || ds[1].ID != 1 || ds[1].Window.DRAMRead != 30 {
		t.Errorf("devices %+v", ds)
	}
	if w := s.GPUMetrics.Window.DRAMRead; math.Abs(w-20) > 1e-9 {
		t.Errorf("window read %v%%, want the mean of both GPUs, 20", w)
	}
}

// TestGMPassNothingToRead: an export whose metric set holds nothing gate
// reads adds no gpu_metrics.
func TestGMPassNothingToRead(t *testing.T) {
	if g := newGMPass(gmSummary(0), []gmMetric{{1, 7, "Compute Warps in Flight [Avg]"}}); g != nil {
		t.Errorf("pass over unknown metrics: %+v", g)
	}
}

// TestMergeRanksDropsGPUMetrics: merged ranks pick each step from another
// rank, which per-step samples cannot follow: the merge says so.
func TestMergeRanksDropsGPUMetrics(t *testing.T) {
	a := mustExport(t, export(t, "gm_base1"), Options{})
	b := mustExport(t, export(t, "gm_base2"), Options{})
	m, err := MergeRanks([]*Summary{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if m.GPUMetrics != nil || !hasWarning(m, WarnGPUMetrics) {
		t.Errorf("merged gpu metrics %v, warnings %v", m.GPUMetrics != nil, m.Warnings)
	}
}

// TestGPUMetricsDegraded: exports whose sampling differs from the H200's
// (another generation's names and units, metrics missing, no peak
// bandwidth, samples out of order) give what can be read and say what
// could not, never a wrong figure.
func TestGPUMetricsDegraded(t *testing.T) {
	gz := filepath.Join("..", "testdata", "nsys", "gm_base1.sqlite.gz")
	for _, c := range []struct {
		name, sql string
		check     func(*testing.T, *Summary)
	}{
		{"other names", `UPDATE TARGET_INFO_GPU_METRICS SET metricName = replace(replace(metricName, 'Tensor Active', 'Tensor Pipe Active'), 'DRAM Read Bandwidth', 'DRAM Read Throughput') WHERE metricName LIKE 'Tensor%' OR metricName LIKE 'DRAM Read%'`,
			func(t *testing.T, s *Summary) {
				if d := s.GPUMetrics.Phase(PhaseDecode); !s.GPUMetrics.Has(SampledTensorActive) || math.Abs(d.DRAMRead.P50-27.6) > 0.5 || len(s.Warnings) != 0 {
					t.Errorf("tensor %v, read %.2f, warnings %v", s.GPUMetrics.Has(SampledTensorActive), d.DRAMRead.P50, s.Warnings)
				}
			}},
		{"a unit gate cannot read", `UPDATE TARGET_INFO_GPU_METRICS SET metricName = 'DRAM Write Bandwidth [GB/s]' WHERE metricName LIKE 'DRAM Write%'`,
			func(t *testing.T, s *Summary) {
				if s.GPUMetrics.Has(SampledDRAMWrite) || !hasWarning(s, WarnGPUMetrics) || !s.GPUMetrics.Has(SampledDRAMRead) {
					t.Errorf("metrics %v, warnings %v", s.GPUMetrics.Metrics, s.Warnings)
				}
			}},
		{"metrics missing", `DELETE FROM TARGET_INFO_GPU_METRICS WHERE metricName LIKE 'Tensor%' OR metricName LIKE 'PCIe%' OR metricName LIKE 'GPC%'`,
			func(t *testing.T, s *Summary) {
				d := s.GPUMetrics.Phase(PhaseDecode)
				if len(s.GPUMetrics.Metrics) != 3 || d.TensorActive.P50 != 0 || d.ClockMedianMHz != 0 || d.DRAMWriteBytes.P50 == 0 || len(s.Warnings) != 0 {
					t.Errorf("metrics %v, decode %+v, warnings %v", s.GPUMetrics.Metrics, d.TensorActive, s.Warnings)
				}
			}},
		{"no peak bandwidth", `UPDATE TARGET_INFO_GPU SET memoryBandwidth = 0`,
			func(t *testing.T, s *Summary) {
				d := s.GPUMetrics.Phase(PhaseDecode)
				if d.DRAMReadBytes.P50 != 0 || d.DRAMRead.P50 < 20 || !hasWarning(s, WarnGPUMetrics) {
					t.Errorf("bytes %v, read %v%%, warnings %v", d.DRAMReadBytes.P50, d.DRAMRead.P50, s.Warnings)
				}
			}},
		{"samples out of order", `UPDATE GPU_METRICS SET timestamp = timestamp - 1000000 WHERE rowid % 997 = 0`,
			func(t *testing.T, s *Summary) {
				d := s.GPUMetrics.Phase(PhaseDecode)
				if !hasWarning(s, WarnGPUMetrics) || math.Abs(d.DRAMRead.P50-27.6) > 1 {
					t.Errorf("read %.2f, warnings %v", d.DRAMRead.P50, s.Warnings)
				}
			}},
		{"no samples of what gate reads", `DELETE FROM TARGET_INFO_GPU_METRICS WHERE metricName NOT LIKE 'SYS Clock%'`,
			func(t *testing.T, s *Summary) {
				if s.GPUMetrics != nil {
					t.Errorf("gpu metrics %+v", s.GPUMetrics)
				}
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := mustExport(t, exporttest.Broken(t, gz, c.sql), Options{Scope: "benchmark"})
			if c.name != "no samples of what gate reads" && s.GPUMetrics == nil {
				t.Fatal("no gpu metrics")
			}
			c.check(t, s)
		})
	}
}

// FuzzGMPass: any sequence of samples, in any order, with any values, gives
// finite figures and never a panic.
func FuzzGMPass(f *testing.F) {
	f.Add([]byte{0, 18, 10, 50, 1, 19, 20, 3, 0, 0, 30, 200})
	f.Fuzz(func(t *testing.T, data []byte) {
		s := gmSummary(0)
		g := newGMPass(s, gmH100Names)
		for i := 0; i+3 < len(data); i += 4 {
			metric := []int64{0, 3, 18, 19, 7}[int(data[i])%5]
			typ := int64(data[i+1] % 2)
			ts := int64(data[i+2])*50 - 500
			g.add(typ, metric, ts, float64(data[i+3])*1e7)
		}
		g.finish(s)
		for _, ph := range s.GPUMetrics.Phases {
			for _, x := range ph.Samples {
				for _, v := range []float64{x.DRAMRead, x.DRAMReadBytes, x.SMActive, x.DRAMWriteBytes} {
					if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
						t.Fatalf("step figure %v in %+v", v, x)
					}
				}
			}
		}
	})
}
