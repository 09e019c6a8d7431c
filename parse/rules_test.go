package parse

import (
	"slices"
	"testing"
)

func TestDefaultPhase(t *testing.T) {
	tests := []struct{ name, want string }{
		{"prefill", PhasePrefill},
		{"decode", PhaseDecode},
		{"Decode step 3", PhaseDecode},
		{"benchmark", ""},
		{"execute_context_16(8192)_generation_0(0)", PhasePrefill},
		{"execute_context_0(0)_generation_16(16)", PhaseDecode},
		{"execute_context_2(1024)_generation_14(14)", PhaseMixed},
		{"execute_context_0(0)_generation_0(0)", ""},
		{"execute_context_1(x)_generation_0(0)", ""}, // not vLLM's shape, no keyword
		{"gpu_model_runner: forward", ""},
		{"execute_new_8_cached_0", PhasePrefill},
		{"execute_new_0_cached_8", PhaseDecode},
		{"execute_new_2_cached_6", PhaseMixed},
	}
	p, err := newPhaser(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		if got, _ := p.step(tt.name); got != tt.want {
			t.Errorf("phase(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestUserPhase(t *testing.T) {
	p, err := newPhaser(map[string][]string{PhasePrefill: {`^ctx`}, PhaseMixed: {`both`}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, want string }{
		{"ctx 12", PhasePrefill},
		{"prefill", ""}, // the default prefill rule is replaced
		{"decode", PhaseDecode},
		{"ctx both", PhaseMixed}, // mixed is tried first
		{"execute_context_0(0)_generation_16(16)", PhaseDecode},
		{"execute_context_16(8192)_generation_0(0)", ""},
	}
	for _, tt := range tests {
		if got, _ := p.step(tt.name); got != tt.want {
			t.Errorf("phase(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
	if _, err := newPhaser(map[string][]string{PhaseDecode: {"("}}); err == nil {
		t.Error("bad regex accepted")
	}
}

// componentExamples are real kernel names (from the fixtures and from the
// engines the research notes list) and their components: examples of every
// default rule.
var componentExamples = []struct{ name, want string }{
	{"cudnn_generated_fort_native_sdpa_sm80_flash_fprop_wmma_f16_knob_35_16x128x128_1x4x1_cga1x1x1_kernel0_0", CompAttention},
	{"nvjet_sm90_tst_256x128_64x4_1x2_h_bz_coopA_NNT", CompGEMM},
	{"void cublasLt::splitKreduce_kernel<(int)32, (int)16, int, float>(cublasLt::cublasSplitKParams<T6>)", CompGEMM},
	{"sm80_xmma_gemm_f32f32_f32f32_f32_tn_n_tilesize64x256x8_stage3_warpsize1x4x1_ffma_aligna4_alignc4_execute_kernel__5x_cublas", CompGEMM},
	{"void at::native::reduce_kernel<(int)512, (int)1, at::native::ReduceOp<float, at::native::MeanOps<float, float, float, float>, unsigned int, float, (int)4, (int)4>>(T3)", CompNorm},
	{"void at::native::reduce_kernel<(int)512, (int)1, at::native::ReduceOp<float, at::native::ArgMaxOps<float>, unsigned int, long, (int)4, (int)4>>(T3)", CompSampling},
	{"void at::native::vectorized_elementwise_kernel<(int)4, at::native::rsqrt_kernel_cuda(at::TensorIteratorBase &)>", CompNorm},
	{"void at::native::elementwise_kernel<(int)128, (int)4, void at::native::gpu_kernel_impl_nocast<at::native::<unnamed>::silu_kernel(at::TensorIteratorBase &)>", CompActivation},
	{"void at::native::unrolled_elementwise_kernel<at::native::direct_copy_kernel_cuda(at::TensorIteratorBase &)>", CompMemory},
	{"void at::native::vectorized_elementwise_kernel<(int)8, at::native::FillFunctor<c10::BFloat16>, std::array<char *, (unsigned long)1>>(int, T2, T3)", CompMemory},
	{"void at::native::index_elementwise_kernel<(int)128, (int)4, void at::native::index_copy_kernel_impl<at::native::OpaqueType<(int)2>>>", CompMemory},
	{"ncclDevKernel_AllReduce_Sum_bf16_RING_LL(ncclDevKernelArgsStorage<(unsigned long)4096>)", CompCommunication},
	{"ncclKernel_SendRecv_RING_SIMPLE_Sum_int8_t", CompCommunication},
	{"void vllm::cross_device_reduce_1stage<__nv_bfloat16, (int)2>", CompCommunication},
	{"void flash::flash_fwd_splitkv_kernel<Flash_fwd_kernel_traits<128, 64, 128, 4>>", CompAttention},
	{"BatchDecodeWithPagedKVCacheKernel", CompAttention},
	{"void vllm::reshape_and_cache_flash_kernel<__nv_bfloat16>", CompAttention},
	{"void vllm::rotary_embedding_kernel<c10::BFloat16, true>", CompAttention},
	{"fused_moe_kernel", CompMoE},
	{"void vllm::moe::topkGatingSoftmax<float>", CompMoE},
	{"void vllm::rms_norm_kernel<c10::BFloat16>", CompNorm},
	{"void vllm::fused_add_rms_norm_kernel<c10::BFloat16, 8>", CompNorm},
	{"void vllm::act_and_mul_kernel<c10::BFloat16, &vllm::silu_kernel<c10::BFloat16>>", CompActivation},
	{"void flashinfer::sampling::TopKTopPSamplingFromProbKernel<1024>", CompSampling},
	{"void cutlass::Kernel2<cutlass_80_tensorop_bf16_s16816gemm_relu_bf16_64x64_64x4_tn_align8>", CompGEMM},
	{"triton_poi_fused_add_mul_0", CompOther},
	{"void at::native::elementwise_kernel<(int)128, (int)4, void at::native::gpu_kernel_impl_nocast<at::native::BinaryFunctor<c10::BFloat16, c10::BFloat16, c10::BFloat16, at::native::binary_internal::MulFunctor<float>>>>", CompOther},
	// Communication beside NCCL's own names, spelt as engines spell them.
	{"allgather_kernel", CompCommunication},
	{"send_recv_kernel", CompCommunication},
	{"reducescatter_fused_kernel", CompCommunication},
	{"all2all_dispatch_kernel", CompCommunication},
	{"moe_all_to_all_combine", CompCommunication},
	{"rcclKernel_AllReduce_RING_LL_Sum_float", CompCommunication},
	{"void flashinfer::trtllm_allreduce_fusion::allreduce_fusion_kernel_oneshot_lamport", CompCommunication},
	{"ncclDevKernel_Generic_4", CompCommunication},
}

// TestComponents classifies the examples with the default rules, and a
// user rule before them.
func TestComponents(t *testing.T) {
	c, err := newClassifier(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range componentExamples {
		if got := c.component(tt.name); got != tt.want {
			t.Errorf("component(%.70q) = %q, want %q", tt.name, got, tt.want)
		}
	}
	u, err := newClassifier([]ComponentRule{{Name: "gemm", Match: "^triton_poi"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := u.component("triton_poi_fused_add_mul_0"); got != "gemm" {
		t.Errorf("user rule not first: %q", got)
	}
}

// TestCommunicationPredicate: isCommunication (and so collectiveOf) says
// communication exactly where the default component rules do, on the
// examples of every default rule.
func TestCommunicationPredicate(t *testing.T) {
	c, err := newClassifier(nil)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, tt := range componentExamples {
		comp := c.component(tt.name)
		seen[comp] = true
		if isCommunication(tt.name) != (comp == CompCommunication) {
			t.Errorf("%.70q: isCommunication %v, component %q", tt.name, isCommunication(tt.name), comp)
		}
		if (collectiveOf(tt.name) != "") != (comp == CompCommunication) {
			t.Errorf("%.70q: collective %q, component %q", tt.name, collectiveOf(tt.name), comp)
		}
	}
	for _, r := range defaultComponentRules() {
		if !seen[r.Name] {
			t.Errorf("default rule %s has no example", r.Name)
		}
	}
}

func TestStats(t *testing.T) {
	if got := statOf([]int64{5, 1, 3, 2, 4}); got != (Stat{P50: 3, P90: 4.6, Mean: 3, Min: 1, Max: 5}) {
		t.Errorf("statOf odd = %+v", got)
	}
	if got := statOf([]int64{10, 1, 3, 2}); got.P50 != 2.5 {
		t.Errorf("statOf even: median %v, want 2.5", got.P50)
	}
	if got := statOf([]int64(nil)); got != (Stat{}) {
		t.Errorf("statOf(nil) = %+v", got)
	}
	if g := longestGaps([]Gap{{0, 1}, {5, 3}, {9, 3}}, 2); !slices.Equal(g, []Gap{{5, 3}, {9, 3}}) {
		t.Errorf("longestGaps = %v", g)
	}
}

func TestCopyDirection(t *testing.T) {
	for in, want := range map[string]string{
		"CUDA_MEMCPY_KIND_HTOD":     "HtoD",
		"CUDA_MEMCPY_KIND_PTOP":     "PtoP",
		"CUDA_MEMCPY_KIND_UVM_DTOH": "UVM DtoH",
		"CUDA_MEMCPY_KIND_UNKNOWN":  "Unknown",
		"":                          "Unknown",
	} {
		if got := copyDirection(in); got != want {
			t.Errorf("copyDirection(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAPIKinds(t *testing.T) {
	for name, want := range map[string]string{
		"cudaStreamSynchronize_v3020":  "sync",
		"cudaDeviceSynchronize_v3020":  "sync",
		"cudaEventSynchronize_v3020":   "sync",
		"cudaMemcpy_v3020":             "sync",
		"cuStreamSynchronize":          "sync",
		"cudaMemcpyAsync_v3020":        "",
		"cudaLaunchKernel_v7000":       "",
		"cudaGraphLaunch_v10000":       "graph",
		"cuGraphLaunch":                "graph",
		"cuKernelGetName":              "nowork",
		"cudaStreamIsCapturing_v10000": "nowork",
		"cudaMalloc_v3020":             "nowork",
		"cuLaunchKernelEx":             "",
		"cudaMemsetAsync_v3020":        "",
	} {
		got := ""
		switch {
		case syncAPI.MatchString(name):
			got = "sync"
		case graphLaunchAPI.MatchString(name):
			got = "graph"
		case noWorkAPI.MatchString(name):
			got = "nowork"
		}
		if got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}
