package parse

import "testing"

func TestCollectiveOf(t *testing.T) {
	tests := []struct {
		kernel string
		want   string
	}{
		// NCCL 2.19 and later: ncclDevKernel_<coll>_<op>_<type>_<algo>_<proto>.
		{"ncclDevKernel_AllReduce_Sum_bf16_RING_LL", CollAllReduce},
		{"ncclDevKernel_AllReduce_Sum_bf16_RING_LL(ncclDevKernelArgsStorage<4096ul>)", CollAllReduce},
		{"ncclDevKernel_AllReduce_Sum_f32_RING_SIMPLE", CollAllReduce},
		{"ncclDevKernel_AllReduce_Sum_bf16_NVLS_SIMPLE", CollAllReduce},
		{"ncclDevKernel_AllGather_RING_LL", CollAllGather},
		{"ncclDevKernel_ReduceScatter_Sum_bf16_RING_LL", CollReduceScatter},
		{"ncclDevKernel_Broadcast_RING_LL", CollBroadcast},
		{"ncclDevKernel_Reduce_Sum_f32_RING_LL", CollReduce},
		{"ncclDevKernel_SendRecv", CollSendRecv},
		{"ncclDevKernel_SendRecv(ncclDevKernelArgsStorage<4096ul>)", CollSendRecv},
		{"ncclDevKernel_Generic", CollGeneric},
		{"ncclDevKernel_Generic_4", CollGeneric},
		// NCCL 2.8 to 2.18.
		{"ncclKernel_AllReduce_RING_LL_Sum_float(ncclDevComm*, unsigned long, ncclWork*)", CollAllReduce},
		{"ncclKernel_AllGather_RING_LL_Sum_int8_t", CollAllGather},
		{"ncclKernel_ReduceScatter_RING_SIMPLE_Sum_half", CollReduceScatter},
		{"ncclKernel_SendRecv_RING_SIMPLE_Sum_int8_t", CollSendRecv},
		{"ncclKernel_Broadcast_RING_LL_Sum_int8_t", CollBroadcast},
		// NCCL 2.4 to 2.7.
		{"ncclAllReduceRingLLKernel_sum_f32(CollectiveArgs)", CollAllReduce},
		{"ncclSendRecvKernel_copy_i8", CollSendRecv},
		{"ncclReduceScatterRingLLKernel_sum_bf16", CollReduceScatter},
		// Custom all-reduce and all-to-all kernels beside NCCL.
		{"void vllm::cross_device_reduce_1stage<__nv_bfloat16, 2>(vllm::RankData*, vllm::RankSignals, vllm::Signal*, __nv_bfloat16*, int, int)", CollAllReduce},
		{"cross_device_reduce_2stage", CollAllReduce},
		{"oneshot_allreduce_kernel", CollAllReduce},
		{"void flashinfer::trtllm_allreduce_fusion::allreduce_fusion_kernel_oneshot_lamport", CollAllReduce},
		{"all2all_dispatch_kernel", CollAllToAll},
		{"ncclDevKernel_Unknown_Future", CollOther},
		// Not communication: PyTorch reductions, GEMMs, copies.
		{"reduce_kernel", ""},
		{"void at::native::reduce_kernel<512, 1, at::native::ReduceOp<float, at::native::MeanOps<float, float, float, float>, unsigned int, float, 4, 4>>(T3)", ""},
		{"splitKreduce_kernel", ""},
		{"sm80_xmma_gemm_f32f32_f32f32_f32_tn_n_tilesize64x256x8_stage3_warpsize1x4x1_ffma_aligna4_alignc4_execute_split_k_kernel__5x_cublas", ""},
		{"vectorized_gather_kernel", ""},
		{"CatArrayBatchedCopy_vectorized", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got := CollectiveOf(tt.kernel)
		if got != tt.want {
			t.Errorf("CollectiveOf(%q) = %q, want %q", tt.kernel, got, tt.want)
		}
		if IsCommunication(tt.kernel) != (tt.want != "") {
			t.Errorf("IsCommunication(%q) = %v, want %v", tt.kernel, !(tt.want != ""), tt.want != "")
		}
	}
}

// TestCollectiveOfAgreesWithComponents checks that every kernel the default
// component rules call communication has a collective, so that
// communication time and the communication component add up.
func TestCollectiveOfAgreesWithComponents(t *testing.T) {
	c, err := newClassifier(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{
		"ncclDevKernel_AllReduce_Sum_bf16_RING_LL", "ncclDevKernel_Generic",
		"cross_device_reduce_1stage", "custom_all_reduce", "all_gather_kernel",
		"reduce_scatter_kernel", "sendrecv_copy",
	} {
		if c.component(k) != CompCommunication {
			t.Errorf("component(%q) = %q, want communication", k, c.component(k))
		}
		if CollectiveOf(k) == "" {
			t.Errorf("CollectiveOf(%q) is empty for a communication kernel", k)
		}
	}
}

// FuzzCollectiveOf checks, on any name, that a collective is named exactly
// for communication kernels and that it is one of the known names. Seeds:
// the names of the third-party two-H100 capture and NCCL's own.
func FuzzCollectiveOf(f *testing.F) {
	for _, k := range mgExport(f, "third-party/h100_2gpu_1s.sqlite", Options{}).Kernels {
		f.Add(k.Name)
		f.Add(k.Demangled)
	}
	for _, name := range []string{
		"ncclDevKernel_AllReduce_Sum_bf16_RING_LL(ncclDevKernelArgsStorage<4096ul>)",
		"ncclDevKernel_Generic_4", "ncclKernel_SendRecv_RING_SIMPLE_Sum_int8_t",
		"ncclAllReduceRingLLKernel_sum_f32(CollectiveArgs)", "cross_device_reduce_1stage",
	} {
		f.Add(name)
	}
	known := map[string]bool{}
	for _, c := range []string{CollAllReduce, CollAllGather, CollReduceScatter, CollBroadcast,
		CollReduce, CollSendRecv, CollAllToAll, CollGeneric, CollOther} {
		known[c] = true
	}
	f.Fuzz(func(t *testing.T, name string) {
		c := CollectiveOf(name)
		if (c != "") != IsCommunication(name) {
			t.Fatalf("CollectiveOf(%q) = %q but IsCommunication = %v", name, c, IsCommunication(name))
		}
		if c != "" && !known[c] {
			t.Fatalf("CollectiveOf(%q) = %q, not a known collective", name, c)
		}
	})
}
