package ncu

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nsys-gate/gate/internal/exporttest"
	"github.com/nsys-gate/gate/parse"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ncu")

// fixture returns the decompressed bytes of testdata/ncu/<name>.csv.gz.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	return exporttest.Gunzip(t, filepath.Join("..", "..", "testdata", "ncu", name+".csv.gz"))
}

func parseFixture(t testing.TB, name string) *Report {
	t.Helper()
	rep, err := Parse(bytes.NewReader(fixture(t, name)))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return rep
}

func TestParseFixtures(t *testing.T) {
	for _, name := range []string{"ncu_baseline", "ncu_kv_fp32"} {
		t.Run(name, func(t *testing.T) {
			rep := parseFixture(t, name)
			if len(rep.Launches) != 60 {
				t.Errorf("launches = %d, want 60", len(rep.Launches))
			}
			if len(rep.Warnings) != 0 {
				t.Errorf("warnings on a clean file: %v", rep.Warnings)
			}
			if rep.Device.Name != "NVIDIA H200" || rep.Device.SMs != 132 {
				t.Errorf("device = %+v, want NVIDIA H200 with 132 SMs", rep.Device)
			}
			// 2 × 3,201,000 kHz × 6,016 bits / 8: the TARGET_INFO_GPU figure.
			if got := rep.Device.PeakBandwidth; math.Abs(got-4.814304e12) > 1e6 {
				t.Errorf("peak = %g B/s, want 4.814304e12", got)
			}
			for i, l := range rep.Launches {
				if l.ID != i {
					t.Errorf("launch %d has ID %d", i, l.ID)
				}
				if l.DurationNs <= 0 || math.IsNaN(l.BytesRead) || math.IsNaN(l.DRAMPct) || math.IsNaN(l.SMPct) {
					t.Errorf("launch %d incomplete: %+v", i, l)
				}
			}
			// Lines 1-3 are ==PROF== and the program's JSON; the header is
			// line 4, the units line 5.
			if rep.Launches[0].Line != 6 {
				t.Errorf("first launch at line %d, want 6", rep.Launches[0].Line)
			}
		})
	}
}

// The first rows of the baseline, as ncu printed them: thousands separators
// removed, no rescaling (the units are byte, ns and %).
func TestParseValues(t *testing.T) {
	rep := parseFixture(t, "ncu_baseline")
	want := []Launch{
		{Line: 6, ID: 0, DurationNs: 5344, BytesRead: 206080, BytesWritten: 0, DRAMPct: 0.80, SMPct: 4.51},
		{Line: 8, ID: 2, DurationNs: 10016, BytesRead: 23264512, BytesWritten: 1280, DRAMPct: 48.43, SMPct: 11.85},
	}
	got := []Launch{rep.Launches[0], rep.Launches[2]}
	for i := range want {
		got[i].Kernel, got[i].Device = "", 0
		if got[i] != want[i] {
			t.Errorf("launch %d:\n got %+v\nwant %+v", want[i].ID, got[i], want[i])
		}
	}
	if k := rep.Launches[2].Kernel; k != "nvjet_sm90_tst_64x16_64x16_2x1_v_bz_splitK_NNT" {
		t.Errorf("kernel 2 = %q", k)
	}
}

// Golden bandwidth sections of both fixtures: go test ./parse/ncu -update.
func TestBandwidthGolden(t *testing.T) {
	for _, name := range []string{"ncu_baseline", "ncu_kv_fp32"} {
		t.Run(name, func(t *testing.T) {
			bw := Bandwidth(parseFixture(t, name), name+".csv", 0)
			got, err := json.MarshalIndent(bw, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := filepath.Join("..", "..", "testdata", "ncu", name+".bandwidth.golden.json")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("bandwidth of %s differs from %s:\n%s", name, golden, got)
			}
		})
	}
}

func kernelByName(bw *parse.Bandwidth, name string) *parse.KernelBandwidth {
	for i := range bw.Kernels {
		if bw.Kernels[i].Name == name {
			return &bw.Kernels[i]
		}
	}
	return nil
}

// Keeping the KV cache in fp32 shows up as DRAM traffic: the cache-copy
// kernels (the bf16<->fp32 conversions and the index_copy into the cache) move
// more bytes per launch; the GEMMs and attention do not get cheaper.
func TestKVFP32MoreBytes(t *testing.T) {
	base := Bandwidth(parseFixture(t, "ncu_baseline"), "base", 0)
	kv := Bandwidth(parseFixture(t, "ncu_kv_fp32"), "kv", 0)
	bytesOf := func(k *parse.KernelBandwidth) float64 { return k.BytesRead + k.BytesWritten }
	for _, name := range []string{"vectorized_elementwise_kernel", "index_elementwise_kernel"} {
		b, h := kernelByName(base, name), kernelByName(kv, name)
		if b == nil || h == nil {
			t.Fatalf("%s missing: base %v, kv %v", name, b, h)
		}
		if bytesOf(h) < 1.5*bytesOf(b) {
			t.Errorf("%s: %0.f bytes/launch with fp32 KV, %0.f in base; want at least 1.5x", name, bytesOf(h), bytesOf(b))
		}
	}
	attn := "cudnn_generated_fort_native_sdpa_sm80_flash_fprop_wmma_f16_knob_35_16x128x128_1x4x1_cga1x1x1_kernel0_0"
	b, h := kernelByName(base, attn), kernelByName(kv, attn)
	if b == nil || h == nil {
		t.Fatalf("attention kernel missing")
	}
	if bytesOf(h) < bytesOf(b) {
		t.Errorf("attention moved fewer bytes with fp32 KV: %0.f < %0.f", bytesOf(h), bytesOf(b))
	}
	if b.Bound != "memory" || b.PctPeak < 40 || b.GBps < 2000 || b.GBps > 4814 {
		t.Errorf("attention in base: %+v, want memory-bound, 2-4.8 TB/s", b)
	}
}

func TestAggregate(t *testing.T) {
	nan := math.NaN()
	launches := []Launch{
		{Kernel: "void ns::k<1>(int)", DurationNs: 1000, BytesRead: 3000, BytesWritten: 1000, DRAMPct: nan, SMPct: 10},
		{Kernel: "void ns::k<2>(int)", DurationNs: 3000, BytesRead: 5000, BytesWritten: 3000, DRAMPct: nan, SMPct: 30},
		{Kernel: "gemm", DurationNs: 500, BytesRead: 100, BytesWritten: 0, DRAMPct: 1, SMPct: 90},
	}
	got := aggregate(launches, 4e12)
	if len(got) != 2 || got[0].Name != "k" || got[1].Name != "gemm" {
		t.Fatalf("got %+v", got)
	}
	k := got[0]
	// 12,000 bytes in 4,000 ns = 3 GB/s; no dram pct, so 3e9/4e12 = 0.075%.
	want := parse.KernelBandwidth{Name: "k", Launches: 2, DurationNs: 2000, BytesRead: 4000, BytesWritten: 2000,
		GBps: 3, PctPeak: 0.075, SMPct: 25, Bound: "compute"}
	if k != want {
		t.Errorf("k:\n got %+v\nwant %+v", k, want)
	}
	if got[1].PctPeak != 1 || got[1].Bound != "compute" {
		t.Errorf("gemm: %+v", got[1])
	}
}

func TestShortName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"nvjet_sm90_tst_64x16_64x16_2x1_v_bz_splitK_NNT", "nvjet_sm90_tst_64x16_64x16_2x1_v_bz_splitK_NNT"},
		{"void at::elementwise_kernel<128, 4, void at::gpu_kernel_impl_nocast<X>(at::TensorIteratorBase &)>(int, T3)", "elementwise_kernel"},
		{"void at::native::vectorized_elementwise_kernel<(int)8, at::native::FillFunctor<c10::BFloat16>>(int, T2, T3)", "vectorized_elementwise_kernel"},
		{"void cublasLt::splitKreduce_kernel<32, 16, int>(cublasLt::cublasSplitKParams<T6>, const T4 *)", "splitKreduce_kernel"},
		{"void at::<unnamed>::distribution_elementwise_grid_stride_kernel<unsigned int, 4>(long, T3)", "distribution_elementwise_grid_stride_kernel"},
		{"void (anonymous namespace)::softmax_warp_forward<float>(float *)", "softmax_warp_forward"},
		{"flash_fwd_splitkv_kernel", "flash_fwd_splitkv_kernel"},
		{"  my_kernel(int)  ", "my_kernel"},
		{"", ""},
	} {
		if got := shortName(tc.in); got != tc.want {
			t.Errorf("shortName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

const header = `"ID","Process ID","Kernel Name","Device","gpu__time_duration.sum","dram__bytes_read.sum","dram__bytes_write.sum","dram__throughput.avg.pct_of_peak_sustained_elapsed","sm__throughput.avg.pct_of_peak_sustained_elapsed"`

func TestParseUnitsAndBadRows(t *testing.T) {
	in := strings.Join([]string{
		"==PROF== Connected to process 1 (/usr/bin/python3)",
		`{"program": "output, with \"quotes\""}`,
		"==WARNING== something ncu says",
		header,
		`"","","","","usecond","Kbyte","Mbyte","%","%"`,
		`"0","1","void a::k<1>(int)","0","1.50","2,000","0.5","10.00","20.00"`,
		`"1","1","k","0","x","2","0","1","1"`,          // bad number: line 7
		`"2","1","k","0"`,                              // short row: line 8
		`"3","1","k","0","0","1","1","1","1"`,          // no duration: line 9
		`"4","1","k","0","2","1,000","1","n/a","30.5"`, // dram pct missing
		"",
	}, "\n")
	rep, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Launches) != 2 {
		t.Fatalf("launches = %+v, want 2", rep.Launches)
	}
	l := rep.Launches[0]
	if l.Line != 6 || l.DurationNs != 1500 || l.BytesRead != 2e6 || l.BytesWritten != 5e5 || l.DRAMPct != 10 || l.SMPct != 20 {
		t.Errorf("units not applied: %+v", l)
	}
	if l := rep.Launches[1]; l.ID != 4 || l.BytesRead != 1e6 || !math.IsNaN(l.DRAMPct) || l.SMPct != 30.5 {
		t.Errorf("launch 4: %+v", l)
	}
	var lines []string
	for _, w := range rep.Warnings {
		lines = append(lines, w.Code+" "+strings.SplitN(w.Message, ":", 2)[0])
	}
	want := []string{"ncu_log line 3", "ncu_bad_row line 7", "ncu_bad_row line 8", "ncu_bad_row line 9"}
	if strings.Join(lines, "|") != strings.Join(want, "|") {
		t.Errorf("warnings = %q, want %q", lines, want)
	}
}

func TestParseErrors(t *testing.T) {
	_, err := Parse(strings.NewReader("==PROF== Connected\nhello\n==PROF== Disconnected\n"))
	if !errors.Is(err, ErrNoHeader) {
		t.Errorf("no header: err = %v, want ErrNoHeader", err)
	}
	_, err = Parse(strings.NewReader("x\n\"ID\",\"Kernel Name\"\n"))
	var se *SyntaxError
	if !errors.As(err, &se) || se.Line != 2 || !strings.Contains(se.Msg, MetricDuration) {
		t.Errorf("missing duration column: err = %v, want a SyntaxError at line 2 naming it", err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "empty.csv")
	os.WriteFile(path, nil, 0o644)
	if _, err := ParseFile(path); err == nil || !strings.HasPrefix(err.Error(), path+": ") {
		t.Errorf("ParseFile error %v does not name the file", err)
	}
}

func TestJoin(t *testing.T) {
	s := &parse.Summary{
		GPU: parse.GPU{PeakBandwidth: 4.8e12},
		Kernels: []parse.Kernel{
			{Name: "elementwise_kernel", Demangled: "void at::native::elementwise_kernel<(int)128>(int, T3)"},
			{Name: "sdpa kernel", Demangled: "void fmha::sdpa_fwd<64>(Params)"},
		},
	}
	bw := &parse.Bandwidth{Kernels: []parse.KernelBandwidth{{Name: "elementwise_kernel"}, {Name: "sdpa_fwd"}, {Name: "stranger"}}}
	Join(s, bw)
	if s.Bandwidth != bw || bw.PeakBandwidth != 4.8e12 {
		t.Fatalf("bandwidth not attached with the summary's peak: %+v", s.Bandwidth)
	}
	if bw.Kernels[0].Name != "elementwise_kernel" || bw.Kernels[1].Name != "sdpa kernel" || bw.Kernels[2].Name != "stranger" {
		t.Errorf("names after join: %+v", bw.Kernels)
	}
	if len(s.Warnings) != 1 || s.Warnings[0].Code != "ncu_unmatched_kernels" || !strings.Contains(s.Warnings[0].Message, "stranger") {
		t.Errorf("warnings = %+v", s.Warnings)
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"ncu_baseline", "ncu_kv_fp32"} {
		// The first rows alone, not the whole page (289 columns, 60
		// launches): small inputs mutate and run faster.
		lines := bytes.SplitAfter(fixture(f, name), []byte("\n"))
		f.Add(bytes.Join(lines[:8], nil))
	}
	f.Add([]byte(header + "\n\"\",\"\",\"\",\"\",\"msecond\",\"Gbyte\",\"byte\",\"%\",\"%\"\n\"0\",\"1\",\"k\",\"0\",\"1\",\"2\",\"3\",\"4\",\"5\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := Parse(bytes.NewReader(data))
		if err != nil {
			if rep != nil {
				t.Fatal("report and error both returned")
			}
			return
		}
		for _, l := range rep.Launches {
			if l.Line < 1 || !(l.DurationNs > 0) || l.Kernel == "" {
				t.Fatalf("bad launch kept: %+v", l)
			}
		}
		bw := Bandwidth(rep, "fuzz", 0)
		n := 0
		for _, k := range bw.Kernels {
			n += k.Launches
		}
		if n != len(rep.Launches) {
			t.Fatalf("aggregate lost launches: %d of %d", n, len(rep.Launches))
		}
		if _, err := json.Marshal(bw); err != nil {
			t.Fatalf("bandwidth does not encode: %v", err)
		}
	})
}

// BenchmarkParse reads a 60-launch raw page (289 columns), the size of a
// --ncu-top 5 run; gate's budget for it is a few milliseconds.
func BenchmarkParse(b *testing.B) {
	data := fixture(b, "ncu_baseline")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}
