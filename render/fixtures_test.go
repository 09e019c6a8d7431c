package render

import (
	"fmt"

	"github.com/nsys-gate/gate/compare"
	"github.com/nsys-gate/gate/parse"
)

// Hand-built results shaped like the real comparisons of the H200 fixtures
// (numbers from testdata/nsys-stats), so that the report's layout is tested
// independently of compare's arithmetic.

func h200(file string, trace string) compare.Side {
	return compare.Side{
		Source: parse.Source{File: "testdata/nsys/" + file, NsysVersion: "2025.3.1.90", ExportSchema: "3.20.3", TraceMode: trace,
			WindowStartNs: 10983412039, WindowEndNs: 10983412039 + 152525733},
		GPU: parse.GPU{Name: "NVIDIA H200", Chip: "GH100", SMs: 132, MemoryBytes: 150754820096, PeakBandwidth: 4.814e12,
			Driver: "580.159.04", CUDA: "13.0", Devices: 1},
	}
}

// stat is a statistical metric judged with a CI.
func stat(name, group, unit string, base, head, lo, hi, p float64, n int, v compare.Verdict, thr string) compare.Metric {
	m := exact(name, group, unit, base, head, v, thr)
	m.Kind = compare.Stat
	m.CI = &compare.Interval{Lo: lo, Hi: hi, Confidence: 0.95}
	m.P, m.NBase, m.NHead = p, n, n
	return m
}

// exact is a structural metric compared value to value.
func exact(name, group, unit string, base, head float64, v compare.Verdict, thr string) compare.Metric {
	m := compare.Metric{Name: name, Group: compare.Group(group), Unit: compare.Unit(unit), Kind: compare.Exact, Better: "lower",
		Base: base, Head: head, Delta: head - base, HasBase: true, HasHead: true, Threshold: thr, Verdict: v}
	if base != 0 {
		m.DeltaPct = (head - base) / base * 100
	}
	if unit == "pct" && (group == "graph" || group == "gpu_time") {
		m.Better = "higher"
	}
	return m
}

func counted(r *compare.Result) *compare.Result {
	r.Counts = compare.Counts{}
	for _, m := range r.Metrics {
		switch m.Verdict {
		case compare.Fail:
			r.Counts.Fail++
		case compare.Warn:
			r.Counts.Warn++
		case compare.Pass:
			r.Counts.Pass++
		case compare.Info:
			r.Counts.Info++
		}
	}
	return r
}

var defaultRules = []compare.Rule{
	{Metric: "phases.*.span.*", Warn: "5%", Fail: "10%", Floor: "20us", Kind: compare.Stat},
	{Metric: "phases.*.kernels", Warn: "0.5%", Fail: "1%", Kind: compare.Exact},
	{Metric: "cuda_graphs.coverage_count", Better: "higher", Fail: "1pp", Kind: compare.Exact},
	{Metric: "phases.*.dtoh", Fail: "0", Kind: compare.Exact},
	{Metric: "kernels.**", Warn: "10%", Fail: "20%", Kind: compare.Stat},
}

const sdpa = "cudnn_generated_fort_native_sdpa_sm80_flash_fprop_wmma_f16_knob_35_16x128x128_1x4x1_cga1x1x1_kernel0_0"

// regressDoubleAttn is base_a vs regress_double_attn: decode computes
// attention twice.
func regressDoubleAttn() *compare.Result {
	r := &compare.Result{Schema: compare.ResultSchema, Verdict: compare.Fail, ConfigID: "default",
		Base: h200("base_a.sqlite.gz", "node"), Head: h200("regress_double_attn.sqlite.gz", "node"), Rules: defaultRules}
	r.Base.Source.Commit = "4f2c1e9"
	few := stat("phases.prefill.span.p50", "phase", "ns", 18208943, 17464274, -8.1, 3.2, 0.33, 2, compare.Warn, "warn 5%, fail 10%")
	few.Note = "too few samples (2 vs 2) for a significance test"
	r.Metrics = []compare.Metric{
		few,
		stat("phases.prefill.busy.p50", "phase", "ns", 17900000, 17200000, -7.9, 2.9, 0.33, 2, compare.Pass, "warn 5%, fail 10%"),
		stat("phases.prefill.kernel_time.p50", "phase", "ns", 17700000, 17050000, -7.5, 2.1, 0.33, 2, compare.Pass, "warn 5%, fail 10%"),
		exact("phases.prefill.kernels", "phase", "count", 287, 287, compare.Pass, "fail 1%"),
		exact("phases.prefill.memcpys", "phase", "count", 0, 0, compare.Pass, "fail 0"),
		exact("phases.prefill.steps", "phase", "count", 2, 2, compare.Info, ""),
		stat("phases.decode.span.p50", "phase", "ns", 1174108, 1440315, 22.1, 23.4, 1e-6, 96, compare.Fail, "warn 5%, fail 10%"),
		stat("phases.decode.busy.p50", "phase", "ns", 1150000, 1415000, 22.3, 23.6, 1e-6, 96, compare.Fail, "warn 5%, fail 10%"),
		stat("phases.decode.kernel_time.p50", "phase", "ns", 1120000, 1390000, 23.4, 24.7, 1e-6, 96, compare.Fail, "warn 5%, fail 10%"),
		exact("phases.decode.kernels", "phase", "count", 312, 328, compare.Fail, "fail 1%"),
		exact("phases.decode.memcpys", "phase", "count", 1, 1, compare.Pass, "fail 0"),
		exact("phases.decode.steps", "phase", "count", 96, 96, compare.Info, ""),
		exact("cuda_graphs.coverage_count", "graph", "pct", 97.3, 97.4, compare.Pass, "fail 1pp"),
		exact("gpu_time.busy_pct", "gpu_time", "pct", 81.2, 83.0, compare.Pass, "warn 2pp, fail 5pp"),
		stat("memory.memcpy.HtoD.gbps", "memory", "bps", 24.1e9, 24.3e9, -0.4, 1.1, 0.4, 98, compare.Pass, "warn 10%"),
		stat("memory.memcpy.DtoD.gbps", "memory", "bps", 1.21e12, 1.19e12, -2.0, 0.3, 0.2, 98, compare.Pass, "warn 10%"),
		stat("kernels."+sdpa+".total", "kernel", "ns", 19132766, 37279546, 93.1, 96.5, 1e-6, 96, compare.Fail, "warn 10%, fail 20%"),
		exact("kernels."+sdpa+".per_step", "kernel", "count", 8, 16, compare.Fail, "fail 1%"),
		stat("kernels.nvjet_sm90_tst_256x128_64x4_1x2_h_bz_coopA_NNT.total", "kernel", "ns", 13829518, 13827949, -0.2, 0.2, 0.9, 96, compare.Pass, "warn 10%, fail 20%"),
		stat("components.decode.attention.time", "component", "ns", 21.1e6, 41.5e6, 94.0, 97.2, 1e-6, 96, compare.Fail, "warn 10%, fail 20%"),
		exact("components.decode.attention.share", "component", "pct", 19.6, 32.4, compare.Warn, "warn 5pp"),
		stat("components.decode.gemm.time", "component", "ns", 52.3e6, 52.2e6, -0.4, 0.2, 0.7, 96, compare.Pass, "warn 10%, fail 20%"),
		stat("components.decode.norm.time", "component", "ns", 9.4e6, 9.4e6, -0.3, 0.3, 0.8, 96, compare.Pass, "warn 10%, fail 20%"),
		stat("components.decode.memory.time", "component", "ns", 13.3e6, 13.4e6, -0.1, 0.9, 0.5, 96, compare.Pass, "warn 10%, fail 20%"),
		stat("components.decode.other.time", "component", "ns", 11.0e6, 15.9e6, 44.1, 45.0, 1e-6, 96, compare.Info, ""),
	}
	r.Kernels = compare.KernelDiff{
		Added: []compare.KernelChange{{Head: "void at::native::elementwise_kernel<(int)128, (int)4, void at::native::gpu_kernel_impl_nocast<at::native::<unnamed>::where_kernel_impl>", Component: "other", HeadNs: 4891884, HeadPerStep: 16, HeadCount: 1584}},
		TopTime: []compare.KernelChange{
			{Base: sdpa, Head: sdpa, Match: "exact", Component: "attention", BaseNs: 19132766, HeadNs: 37279546, BasePerStep: 8, HeadPerStep: 16, BaseCount: 792, HeadCount: 1584},
			{Base: "nvjet_sm90_tst_256x128_64x4_1x2_h_bz_coopA_NNT", Head: "nvjet_sm90_tst_256x128_64x4_1x2_h_bz_coopA_NNT", Match: "exact", Component: "gemm", BaseNs: 13829518, HeadNs: 13827949, BasePerStep: 0, HeadPerStep: 0, BaseCount: 72, HeadCount: 72},
		},
		TopCount: []compare.KernelChange{
			{Base: sdpa, Head: sdpa, Match: "exact", Component: "attention", BaseNs: 19132766, HeadNs: 37279546, BasePerStep: 8, HeadPerStep: 16, BaseCount: 792, HeadCount: 1584},
		},
		Variant: []compare.KernelChange{{Base: "nvjet_sm90_tst_64x16_64x16_4x1_v_bz_NNT", Head: "nvjet_sm90_tst_64x16_64x16_2x1_v_bz_splitK_NNT", Match: "normalized", Component: "gemm", BaseNs: 7543142, HeadNs: 6557905, BasePerStep: 8, HeadPerStep: 8, BaseCount: 792, HeadCount: 792}},
	}
	r.Head.Warnings = []parse.Warning{{Code: "overlapping_ranges", Message: "2 decode ranges overlap the benchmark range end"}}
	return counted(r)
}

// pass is base_a vs base_b: the same configuration run twice.
func pass() *compare.Result {
	r := &compare.Result{Schema: compare.ResultSchema, Verdict: compare.Pass, ConfigID: "default",
		Base: h200("base_a.sqlite.gz", "node"), Head: h200("base_b.sqlite.gz", "node"), Rules: defaultRules}
	r.Metrics = []compare.Metric{
		stat("phases.prefill.span.p50", "phase", "ns", 18208943, 18190010, -3.1, 2.9, 0.9, 2, compare.Pass, "warn 5%, fail 10%"),
		exact("phases.prefill.kernels", "phase", "count", 287, 287, compare.Pass, "fail 1%"),
		stat("phases.decode.span.p50", "phase", "ns", 1174108, 1175230, -0.1, 0.3, 0.41, 96, compare.Pass, "warn 5%, fail 10%"),
		exact("phases.decode.kernels", "phase", "count", 312, 312, compare.Pass, "fail 1%"),
		exact("phases.decode.dtoh", "phase", "count", 0, 0, compare.Pass, "fail 0"),
		exact("cuda_graphs.coverage_count", "graph", "pct", 97.3, 97.3, compare.Pass, "fail 1pp"),
		stat("components.decode.attention.time", "component", "ns", 21.1e6, 21.0e6, -0.6, 0.2, 0.5, 96, compare.Pass, "warn 10%, fail 20%"),
		stat("components.decode.gemm.time", "component", "ns", 52.3e6, 52.4e6, -0.2, 0.4, 0.6, 96, compare.Pass, "warn 10%, fail 20%"),
		{Name: "extra.output_tokens_per_s", Group: "extra", Unit: "tok/s", Kind: compare.Exact, Better: "higher", Base: 10850, Head: 10832, Delta: -18, DeltaPct: -0.166, HasBase: true, HasHead: true, Threshold: "warn 5%", Verdict: compare.Pass},
	}
	return counted(r)
}

// notComparable is base_a vs base_graphmode: CUDA graphs traced another way.
func notComparable() *compare.Result {
	r := &compare.Result{Schema: compare.ResultSchema, Verdict: compare.NotComparable, ConfigID: "default",
		Base: h200("base_a.sqlite.gz", "node"), Head: h200("base_graphmode.sqlite.gz", "graph"), Rules: defaultRules,
		Reasons: []string{`trace mode differs: base "node", head "graph" (nsys --cuda-graph-trace); kernels inside CUDA graphs are counted differently`}}
	return counted(r)
}

// noBaseline is a first run: a head and nothing to compare it with.
func noBaseline() *compare.Result {
	r := &compare.Result{Schema: compare.ResultSchema, Verdict: compare.NoBaseline, ConfigID: "llama-8b/h200",
		Head: h200("base_a.sqlite.gz", "node"), Rules: defaultRules,
		Reasons: []string{"no baseline artifact \"gate-baseline\" on branch main"}}
	return counted(r)
}

// hostile is a failing result whose every profile string tries to break out.
var hostileNames = []string{
	"a|b||c",
	"`tick` ``double`` ```triple",
	"<script>alert(1)</script>",
	"@org/team @someone ping",
	"line1\nline2\r\nline3",
	"[click](https://evil.example/x) ![img](https://evil.example/i.png)",
	"--> <!-- gate:report id=default --> <!--",
	"</details><details open>",
	"**bold** _em_ ~~strike~~ $x^2$ #123 :tada:",
	"\x1b[31mred\x1b[0m \u202etxet\u202c",
	"back\\slash\\|pipe\\",
	"",
	"    ",
}

func hostile() *compare.Result {
	r := regressDoubleAttn()
	r.ConfigID = "x --> <script>"
	r.Reasons = nil
	r.Base.Source.File = "/tmp/<script>@org|x`y.sqlite"
	r.Head.GPU.Name = "NVIDIA <b>H200</b> @nvidia | x"
	r.Base.Source.Commit = "`; rm -rf / @x"
	r.Warnings = append(r.Warnings, hostileNames...)
	r.Head.Warnings = nil
	for i, n := range hostileNames {
		r.Head.Warnings = append(r.Head.Warnings, parse.Warning{Code: n, Message: n})
		m := stat("kernels."+compare.Segment(n)+".total", "kernel", "ns", 1000, 2000, 90, 110, 0.001, 96, compare.Fail, "fail 20% "+n)
		m.Note = n
		r.Metrics = append(r.Metrics, m)
		r.Metrics = append(r.Metrics, compare.Metric{Name: "extra." + compare.Segment(n), Group: "extra", Unit: compare.Unit(n), Kind: compare.Exact,
			Base: float64(i), Head: float64(i + 1), Delta: 1, HasBase: true, HasHead: true, Verdict: compare.Warn, Note: n})
		m = stat(fmt.Sprintf("components.decode.%s.time", compare.Segment(n)), "component", "ns", 1e6, 2e6, 90, 110, 0.001, 96, compare.Info, "")
		r.Metrics = append(r.Metrics, m)
		c := compare.KernelChange{Base: n, Head: n + "2", Match: n, Component: n, BaseNs: 1, HeadNs: 2, BasePerStep: 1, HeadPerStep: 2, BaseCount: 1, HeadCount: 2}
		r.Kernels.Added = append(r.Kernels.Added, c)
		r.Kernels.Removed = append(r.Kernels.Removed, c)
		r.Kernels.Variant = append(r.Kernels.Variant, c)
		r.Kernels.TopTime = append(r.Kernels.TopTime, c)
		r.Rules = append(r.Rules, compare.Rule{Metric: n, Warn: n, Fail: n, Floor: n, Better: compare.Better(n)})
	}
	return counted(r)
}

// manyKernels is a result with n distinct kernels, every one of them added,
// removed, changed and failing, to test the size budget.
func manyKernels(n int) *compare.Result {
	r := regressDoubleAttn()
	for i := range n {
		k := fmt.Sprintf("void cutlass::Kernel2<cutlass_80_wmma_tensorop_bf16_s161616gemm_bf16_32x32_128x2_tn_align8_variant_%05d>(Params)", i)
		r.Metrics = append(r.Metrics,
			stat("kernels."+compare.Segment(k)+".total", "kernel", "ns", 1e5, 2e5+float64(i), 90, 110, 1e-4, 96, compare.Fail, "warn 10%, fail 20%"),
			stat("components.decode.c"+fmt.Sprint(i)+".time", "component", "ns", 1e5, 2e5, 90, 110, 1e-4, 96, compare.Info, ""),
			compare.Metric{Name: "extra.m" + fmt.Sprint(i), Group: "extra", Unit: "ms", HasBase: true, HasHead: true, Base: 1, Head: 2, Verdict: compare.Warn})
		c := compare.KernelChange{Base: k, Head: k + "_v2", Match: "normalized", Component: "gemm", BaseNs: 1e5, HeadNs: 2e5, BasePerStep: 1, HeadPerStep: 2, BaseCount: 96, HeadCount: 192}
		r.Kernels.Added = append(r.Kernels.Added, c)
		r.Kernels.Removed = append(r.Kernels.Removed, c)
		r.Kernels.Variant = append(r.Kernels.Variant, c)
		r.Kernels.TopTime = append(r.Kernels.TopTime, c)
		r.Kernels.TopCount = append(r.Kernels.TopCount, c)
		r.Head.Warnings = append(r.Head.Warnings, parse.Warning{Code: "w", Message: k})
	}
	return counted(r)
}

// tensorParallel is a warn result with the groups the H200 single-GPU
// fixtures lack: two devices, NCCL communication, Nsight Compute DRAM
// bandwidth per kernel (ncu_baseline vs ncu_kv_fp32) and vLLM serving
// metrics from outside the profile.
func tensorParallel() *compare.Result {
	r := &compare.Result{Schema: compare.ResultSchema, Verdict: compare.Warn, ConfigID: "tp2",
		Base: h200("tp2_base.sqlite.gz", "node"), Head: h200("tp2_head.sqlite.gz", "node"), Rules: defaultRules}
	r.Base.GPU.Devices, r.Head.GPU.Devices = 2, 2
	kv := "void vllm::reshape_and_cache_flash_kernel<__nv_bfloat16, __nv_bfloat16, (vllm::Fp8KVCacheDataType)0>"
	r.Metrics = []compare.Metric{
		stat("phases.decode.span.p50", "phase", "ns", 2.41e6, 2.45e6, 1.1, 2.3, 0.002, 96, compare.Pass, "warn 5%, fail 10%"),
		exact("phases.decode.kernels", "phase", "count", 402, 402, compare.Pass, "fail 1%"),
		exact("devices.0.busy_pct", "device", "pct", 71.5, 70.9, compare.Pass, "warn 2pp"),
		exact("devices.1.busy_pct", "device", "pct", 70.2, 66.1, compare.Warn, "warn 2pp"),
		exact("communication.exposed_pct", "communication", "pct", 8.1, 11.9, compare.Warn, "warn 2pp, fail 5pp"),
		stat("communication.AllReduce.time", "communication", "ns", 31.2e6, 33.0e6, 4.9, 6.6, 1e-5, 96, compare.Pass, "warn 10%"),
		exact("bandwidth."+compare.Segment(kv)+".gbps", "bandwidth", "bps", 1.92e12, 2.95e12, compare.Info, ""),
		exact("bandwidth."+compare.Segment(kv)+".pct_peak", "bandwidth", "pct", 39.9, 61.3, compare.Info, ""),
		exact("bandwidth."+compare.Segment(kv)+".bytes", "bandwidth", "bytes", 4.19e6, 8.39e6, compare.Warn, "warn 10%"),
		exact("bandwidth.flash_fwd_splitkv_kernel.gbps", "bandwidth", "bps", 3.31e12, 3.52e12, compare.Info, ""),
		exact("bandwidth.flash_fwd_splitkv_kernel.pct_peak", "bandwidth", "pct", 68.8, 73.1, compare.Info, ""),
		{Name: "extra.ttft_p50", Group: "extra", Unit: "ms", Kind: compare.Exact, Better: "lower", Base: 41.2, Head: 44.0, Delta: 2.8, DeltaPct: 6.8, HasBase: true, HasHead: true, Threshold: "warn 5%", Verdict: compare.Warn},
		{Name: "extra.tpot_p50", Group: "extra", Unit: "ms", Kind: compare.Exact, Better: "lower", Base: 9.8, Head: 9.9, Delta: 0.1, DeltaPct: 1.0, HasBase: true, HasHead: true, Threshold: "warn 5%", Verdict: compare.Pass},
		{Name: "extra.output_throughput", Group: "extra", Unit: "tok/s", Kind: compare.Exact, Better: "higher", Base: 10850, Head: 10420, Delta: -430, DeltaPct: -3.96, HasBase: true, HasHead: true, Threshold: "warn 5%", Verdict: compare.Pass},
	}
	return counted(r)
}
