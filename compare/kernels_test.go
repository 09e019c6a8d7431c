package compare

import (
	"testing"

	"github.com/nsys-gate/gate/parse"
)

func TestNormalizeKernel(t *testing.T) {
	tests := []struct{ a, b string }{
		// nvjet/cuBLAS GEMMs that picked another tile configuration.
		{"nvjet_sm90_tst_256x128_64x4_1x2_h_bz_coopA_NNT", "nvjet_sm90_tst_128x256_64x3_2x1_h_bz_coopA_NNT"},
		{"nvjet_sm90_tst_64x16_64x16_4x1_v_bz_NNT", "nvjet_sm90_tst_128x16_64x11_4x1_v_bz_NNT"},
		// cuDNN SDPA: knob number and tile shape.
		{"cudnn_generated_fort_native_sdpa_sm80_flash_fprop_wmma_f16_knob_35_16x128x128_1x4x1_cga1x1x1_kernel0_0",
			"cudnn_generated_fort_native_sdpa_sm80_flash_fprop_wmma_f16_knob_7_64x128x128_4x1x1_cga1x1x1_kernel0_0"},
		// Template arguments and parameter lists.
		{"void at::native::vectorized_elementwise_kernel<(int)4, at::native::FillFunctor<float>>(int, T2, T3)",
			"void at::native::vectorized_elementwise_kernel<(int)8, at::native::FillFunctor<c10::BFloat16>>(int, T2, T3)"},
		{"cutlass_80_tensorop_s16816gemm_64x64_32x6_tn_align8", "cutlass_90_tensorop_s16816gemm_128x64_32x6_tn_align8"},
		{"ampere_bf16_s16816gemm_bf16_128x64_ldg8_f2f_stages_64x4_tn", "ampere_bf16_s16816gemm_bf16_256x128_ldg8_f2f_stages_32x3_tn"},
	}
	for _, tt := range tests {
		na, nb := normalizeKernel(tt.a), normalizeKernel(tt.b)
		if na != nb || na == "" {
			t.Errorf("NormalizeKernel:\n %q -> %q\n %q -> %q\nwant equal", tt.a, na, tt.b, nb)
		}
	}
	different := []struct{ a, b string }{
		// sm80 and sm90 kernels are different code, not a different size.
		{"cudnn_generated_fort_native_sdpa_sm80_flash_fprop_wmma_f16_knob_35_16x128x128_1x4x1_cga1x1x1_kernel0_0",
			"cudnn_generated_fort_native_sdpa_sm90_flash_fprop_wgmma_f16_knob_7_64x128x128_4x1x1_cga1x1x1_kernel0_0"},
		{"nvjet_sm90_tst_64x16_64x16_2x1_v_bz_splitK_NNT", "nvjet_sm90_tst_64x16_64x16_4x1_v_bz_NNT"},
		{"vectorized_elementwise_kernel", "unrolled_elementwise_kernel"},
	}
	for _, tt := range different {
		if normalizeKernel(tt.a) == normalizeKernel(tt.b) {
			t.Errorf("NormalizeKernel(%q) == NormalizeKernel(%q) = %q", tt.a, tt.b, normalizeKernel(tt.a))
		}
	}
	for name, fam := range map[string]string{
		"nvjet_sm90_tst_64x16_64x16_4x1_v_bz_NNT":                          "nvjet",
		"void at::native::vectorized_elementwise_kernel<(int)4>(int)":      "vectorized",
		"cutlass::Kernel2<cutlass_80_tensorop_bf16_s16816gemm_relu_64x64>": "kernel2",
		"sm90_xmma_gemm_bf16bf16_bf16f32_f32_tn_n_tilesize128x128x64":      "sm90",
	} {
		if got := kernelFamily(name); got != fam {
			t.Errorf("KernelFamily(%q) = %q, want %q", name, got, fam)
		}
	}
}

func TestDiffKernels(t *testing.T) {
	k := func(name, comp string, ns int64, perStep float64) parse.Kernel {
		return parse.Kernel{Name: name, Component: comp, TotalNs: ns, Count: int64(perStep * 100), PerDecodeStep: perStep, Share: 0.1}
	}
	base := []parse.Kernel{
		k("elementwise_kernel", "other", 5000, 50),
		k("nvjet_sm90_tst_256x128_64x4_1x2_h_bz_coopA_NNT", "gemm", 9000, 8),
		k("cutlass_80_tensorop_s16816gemm_64x64_32x6_tn_align8", "gemm", 4000, 8),
		k("flash_fwd_kernel", "attention", 3000, 8),
		k("old_norm_kernel", "norm", 1000, 8),
	}
	head := []parse.Kernel{
		k("elementwise_kernel", "other", 5100, 52),
		k("nvjet_sm90_tst_128x256_64x3_2x1_h_bz_coopA_NNT", "gemm", 8000, 8),                    // another tile: normalized
		k("cutlass_80_wmma_tensorop_f16_s161616gemm_f16_32x32_64x1_tn_align8", "gemm", 3900, 8), // same family
		k("fmha_cutlassF_bf16_aligned", "attention", 2800, 8),                                   // same component only
		k("new_rope_kernel", "activation", 700, 8),
	}
	d, pairs := diffKernels(base, head)
	match := map[string]string{}
	for _, p := range pairs {
		match[p.base.Name] = p.match + " " + p.head.Name
	}
	want := map[string]string{
		"elementwise_kernel":                                  "exact elementwise_kernel",
		"nvjet_sm90_tst_256x128_64x4_1x2_h_bz_coopA_NNT":      "normalized nvjet_sm90_tst_128x256_64x3_2x1_h_bz_coopA_NNT",
		"cutlass_80_tensorop_s16816gemm_64x64_32x6_tn_align8": "family cutlass_80_wmma_tensorop_f16_s161616gemm_f16_32x32_64x1_tn_align8",
		"flash_fwd_kernel":                                    "component fmha_cutlassF_bf16_aligned",
	}
	for b, w := range want {
		if match[b] != w {
			t.Errorf("%s matched %q, want %q", b, match[b], w)
		}
	}
	if len(d.Added) != 1 || d.Added[0].Head != "new_rope_kernel" || d.Added[0].Match != "" {
		t.Errorf("added %+v", d.Added)
	}
	if len(d.Removed) != 1 || d.Removed[0].Base != "old_norm_kernel" {
		t.Errorf("removed %+v", d.Removed)
	}
	if len(d.Variant) != 3 || d.Variant[0].Base != "nvjet_sm90_tst_256x128_64x4_1x2_h_bz_coopA_NNT" {
		t.Errorf("variants %+v", d.Variant)
	}
	// Largest time change first: the nvjet GEMM (-1000 ns).
	if len(d.TopTime) == 0 || d.TopTime[0].Head != "nvjet_sm90_tst_128x256_64x3_2x1_h_bz_coopA_NNT" {
		t.Errorf("top time %+v", d.TopTime)
	}
	// Only the elementwise kernel changed its count per step.
	if len(d.TopCount) != 1 || d.TopCount[0].Base != "elementwise_kernel" || d.TopCount[0].HeadPerStep != 52 {
		t.Errorf("top count %+v", d.TopCount)
	}

	// The kernel_set metrics count only changes above the kernel share.
	bs := &parse.Summary{Kernels: base}
	hs := &parse.Summary{Kernels: head}
	for _, e := range kernelSetEntries(d, bs, hs, 0.2, true) {
		if e.value != 0 {
			t.Errorf("%s = %g with every kernel below a 20%% share", e.name, e.value)
		}
	}
	got := map[string]float64{}
	for _, e := range kernelSetEntries(d, bs, hs, 0.05, true) {
		got[e.name] = e.value
		if e.name == "kernel_set.added" && e.note != "new_rope_kernel" {
			t.Errorf("added note %q, want the kernel's name", e.note)
		}
	}
	if got["kernel_set.added"] != 1 || got["kernel_set.removed"] != 1 || got["kernel_set.variants"] != 3 {
		t.Errorf("kernel_set = %v", got)
	}
}

// On the real fixtures the kernel set is stable between two runs and the
// double-attention regression only changes counts and times.
func TestDiffKernelsFixtures(t *testing.T) {
	a, b := fixtureSummary(t, "base_a"), fixtureSummary(t, "base_b")
	d, pairs := diffKernels(a.Kernels, b.Kernels)
	if len(d.Added)+len(d.Removed)+len(d.Variant) != 0 || len(pairs) != len(a.Kernels) {
		t.Errorf("base_a vs base_b: %d added, %d removed, %d variants, %d of %d paired", len(d.Added), len(d.Removed), len(d.Variant), len(pairs), len(a.Kernels))
	}
	d, _ = diffKernels(a.Kernels, fixtureSummary(t, "regress_double_attn").Kernels)
	if len(d.TopTime) == 0 || d.TopTime[0].Component != "attention" {
		t.Errorf("double attention: top time change %+v, want the attention kernel", d.TopTime)
	}
	if len(d.TopCount) == 0 || d.TopCount[0].HeadPerStep-d.TopCount[0].BasePerStep < 8 {
		t.Errorf("double attention: top count change %+v", d.TopCount)
	}
}
