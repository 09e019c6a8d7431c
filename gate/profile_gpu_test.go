package gate

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/nsys-gate/gate/gate/load"
	"github.com/nsys-gate/gate/parse"
)

// The summaries `gate profile` wrote on the H200 (testdata/gpu/README.md says
// how): what the real run must show, checked on every CI run once they are in.
const (
	gpuBase       = "gpu/base.summary.json.gz"
	gpuDoubleAttn = "gpu/double_attn.summary.json.gz"
	gpuNCU        = "gpu/ncu.summary.json.gz"
)

func loadGPUFixture(t *testing.T, name string) *parse.Summary {
	t.Helper()
	if _, err := os.Stat(fixturePath(name)); err != nil {
		t.Skipf("%s not recorded yet: run testdata/gpu/e2e.sh on a GPU machine", name)
	}
	s, err := load.Summary(context.Background(), fixturePath(name), parse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The fingerprint names the H200 and its driver, and the peak NVML derives
// is the H200's ~4.8 TB/s.
func TestGPUFixtureFingerprint(t *testing.T) {
	for _, name := range []string{gpuBase, gpuDoubleAttn, gpuNCU} {
		s := loadGPUFixture(t, name)
		n := s.GPU.NVML
		if n == nil || !n.Available || !strings.Contains(n.Name, "H200") || n.Driver == "" || n.UUID == "" {
			t.Errorf("%s: NVML fingerprint %+v, want an available H200 with driver and UUID", name, n)
			continue
		}
		if n.PeakBandwidth < 4.6e12 || n.PeakBandwidth > 5.0e12 {
			t.Errorf("%s: NVML peak %.4g B/s, want about 4.8e12", name, n.PeakBandwidth)
		}
		if s.GPU.PeakBandwidth < 4.7e12 || s.GPU.PeakBandwidth > 4.9e12 {
			t.Errorf("%s: export peak %.4g B/s, want about 4.814e12", name, s.GPU.PeakBandwidth)
		}
		if d := s.Phases[parse.PhaseDecode]; d == nil || d.Steps == 0 {
			t.Errorf("%s: no decode steps", name)
		}
	}
}

// gate compare of the real baseline and the double-attention run fails and
// names decode and attention.
func TestGPUFixtureCompare(t *testing.T) {
	loadGPUFixture(t, gpuBase)
	loadGPUFixture(t, gpuDoubleAttn)
	var stdout, stderr bytes.Buffer
	c := &Command{Stdout: &stdout, Stderr: &stderr}
	code := c.Main([]string{"gate", "compare", fixturePath(gpuBase), fixturePath(gpuDoubleAttn)})
	if code != exitFail {
		t.Fatalf("exit %d, want %d (regression): %s", code, exitFail, stderr.String())
	}
	for _, want := range []string{"decode · step p50", "attention"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("report does not name %q", want)
		}
	}
}

// The bandwidth section holds plausible H200 numbers: below peak, the
// attention and GEMM kernels memory-bound at a good fraction of it.
func TestGPUFixtureBandwidth(t *testing.T) {
	s := loadGPUFixture(t, gpuNCU)
	bw := s.Bandwidth
	if bw == nil || len(bw.Kernels) == 0 {
		t.Fatalf("no bandwidth section; warnings %v", s.Warnings)
	}
	if bw.PeakBandwidth < 4.7e12 || bw.PeakBandwidth > 4.9e12 {
		t.Errorf("peak %.4g B/s, want about 4.814e12", bw.PeakBandwidth)
	}
	best := 0.0
	for _, k := range bw.Kernels {
		if k.Launches <= 0 || k.DurationNs <= 0 || k.PctPeak < 0 || k.PctPeak > 100 || k.GBps*1e9 > bw.PeakBandwidth*1.05 {
			t.Errorf("implausible kernel %+v", k)
		}
		if k.Bound != "memory" && k.Bound != "compute" {
			t.Errorf("kernel %s: bound %q", k.Name, k.Bound)
		}
		if k.PctPeak > best {
			best = k.PctPeak
		}
	}
	if best < 20 {
		t.Errorf("no kernel reaches 20%% of peak DRAM bandwidth (best %.1f%%): decode GEMMs should", best)
	}
}

// gate profile --server on the H200 (testdata/gpu/server.sh): the PyTorch
// stand-in with CUDA-graph decode (base) against the same server decoding
// eagerly (head). The serving metrics are in both summaries and the
// comparison fails on them and on the decode step the profile shows.
func TestGPUFixtureServer(t *testing.T) {
	base := loadGPUFixture(t, "gpu/server-base.summary.json.gz")
	head := loadGPUFixture(t, "gpu/server-head.summary.json.gz")
	for _, s := range []*parse.Summary{base, head} {
		names := map[string]bool{}
		for _, x := range s.Extra {
			names[x.Name] = true
		}
		for _, want := range []string{"load.ttft.p50_ms", "load.itl.p50_ms", "load.output_throughput"} {
			if !names[want] {
				t.Errorf("%s: no serving metric %s", s.Source.File, want)
			}
		}
		if d := s.Phases[parse.PhaseDecode]; d == nil || d.Steps == 0 {
			t.Errorf("%s: no decode steps under load", s.Source.File)
		}
	}
	if base.CUDAGraphs.CoverageCount < 50 || head.CUDAGraphs.CoverageCount != 0 {
		t.Errorf("graph coverage %.1f%% -> %.1f%%, want graphs in base only", base.CUDAGraphs.CoverageCount, head.CUDAGraphs.CoverageCount)
	}
	var stdout, stderr bytes.Buffer
	c := &Command{Stdout: &stdout, Stderr: &stderr}
	code := c.Main([]string{"gate", "compare", "--format", "json",
		fixturePath("gpu/server-base.summary.json.gz"), fixturePath("gpu/server-head.summary.json.gz")})
	if code != exitFail {
		t.Fatalf("exit %d, want %d: %s", code, exitFail, stderr.String())
	}
	for _, want := range []string{`"phases.decode.span.p50"`, `"group": "extra"`} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("result JSON lacks %s", want)
		}
	}
}

// The summaries `gate profile` wrote on the H200 with GPU-metrics sampling
// (testdata/gpu/gpumetrics.sh, log in gpumetrics-log.txt.gz): two runs of the
// same code and one with the KV cache in fp32.
const (
	gpuGMBase1 = "gpu/gm-base1.summary.json.gz"
	gpuGMBase2 = "gpu/gm-base2.summary.json.gz"
	gpuGMKV    = "gpu/gm-kv.summary.json.gz"
)

// gate profile sampled the counters by default, the fp32 KV cache writes
// several times the DRAM bytes per decode step, and gate compare passes the
// same code and fails the KV cache on decode memory traffic.
func TestGPUMetricsRunOnH200(t *testing.T) {
	decode := func(name string) *parse.PhaseGPUMetrics {
		s := loadGPUFixture(t, name)
		if s.GPUMetrics == nil || s.GPUMetrics.FrequencyHz != 5000 {
			t.Fatalf("%s: not sampled at gate's default 5 kHz: %+v", name, s.GPUMetrics)
		}
		d := s.GPUMetrics.Phase(parse.PhaseDecode)
		if d == nil || d.Steps != 128 {
			t.Fatalf("%s: decode GPU metrics %+v, want 128 sampled steps", name, d)
		}
		return d
	}
	b1, b2, kv := decode(gpuGMBase1), decode(gpuGMBase2), decode(gpuGMKV)
	if r := kv.DRAMWriteBytes.P50 / b1.DRAMWriteBytes.P50; r < 3 {
		t.Errorf("fp32 KV writes %.1fx the base's DRAM bytes per decode step, want >= 3x", r)
	}
	if kv.DRAMReadBytes.P50 <= b1.DRAMReadBytes.P50 {
		t.Errorf("fp32 KV reads %.3g B per decode step, base %.3g: want more", kv.DRAMReadBytes.P50, b1.DRAMReadBytes.P50)
	}
	if d := b2.DRAMReadBytes.P50/b1.DRAMReadBytes.P50 - 1; d > 0.02 || d < -0.02 {
		t.Errorf("two runs of the same code differ by %.1f%% in DRAM read bytes per decode step", 100*d)
	}
	for _, tc := range []struct {
		head string
		code int
		want string
	}{
		{gpuGMBase2, exitOK, "gate: pass"},
		{gpuGMKV, exitFail, "DRAM write/step"},
	} {
		var stdout, stderr bytes.Buffer
		c := &Command{Stdout: &stdout, Stderr: &stderr}
		if code := c.Main([]string{"gate", "compare", fixturePath(gpuGMBase1), fixturePath(tc.head)}); code != tc.code {
			t.Errorf("compare base1 %s: exit %d, want %d: %s", tc.head, code, tc.code, stderr.String())
		}
		if !strings.Contains(stdout.String(), tc.want) {
			t.Errorf("compare base1 %s: report does not say %q:\n%s", tc.head, tc.want, stdout.String())
		}
	}
}
