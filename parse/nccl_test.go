package parse

import (
	"context"
	"database/sql"
	"testing"
)

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
		got := collectiveOf(tt.kernel)
		if got != tt.want {
			t.Errorf("collectiveOf(%q) = %q, want %q", tt.kernel, got, tt.want)
		}
		if isCommunication(tt.kernel) != (tt.want != "") {
			t.Errorf("isCommunication(%q) = %v, want %v", tt.kernel, !(tt.want != ""), tt.want != "")
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
		if collectiveOf(k) == "" {
			t.Errorf("collectiveOf(%q) is empty for a communication kernel", k)
		}
	}
}

// FuzzCollectiveOf checks, on any name, that a collective is named exactly
// for communication kernels and that it is one of the known names. Seeds:
// the names of the third-party two-H100 capture and NCCL's own.
func FuzzCollectiveOf(f *testing.F) {
	for _, k := range mustExport(f, fixture(f, "third-party/h100_2gpu_1s.sqlite"), Options{}).Kernels {
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
		c := collectiveOf(name)
		if (c != "") != isCommunication(name) {
			t.Fatalf("collectiveOf(%q) = %q but isCommunication = %v", name, c, isCommunication(name))
		}
		if c != "" && !known[c] {
			t.Fatalf("collectiveOf(%q) = %q, not a known collective", name, c)
		}
	})
}

// TestResolveGeneric: generic NCCL kernels launched inside an ncclAllReduce
// NVTX range count as all-reduces; those launched inside ncclGroupEnd only
// stay Generic.
func TestResolveGeneric(t *testing.T) {
	path := mgAssembleTP(t, 1)
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	const generic = "ncclDevKernel_Generic"
	mgExec(t, db, `UPDATE StringIds SET value = ? WHERE value = 'nvjet_sm90_tst_256x128_64x4_1x2_h_bz_coopA_NNT'`, generic)
	launches := `SELECT correlationId FROM CUPTI_ACTIVITY_KIND_KERNEL WHERE shortName IN (SELECT id FROM StringIds WHERE value = '` + generic + `')`
	// Every launch inside ncclGroupEnd; the even ones also inside ncclAllReduce within it.
	mgExec(t, db, `INSERT INTO NVTX_EVENTS (start, end, eventType, text, globalTid)
		SELECT start - 100, end + 100, 59, 'ncclGroupEnd', globalTid FROM CUPTI_ACTIVITY_KIND_RUNTIME WHERE correlationId IN (`+launches+`)`)
	mgExec(t, db, `INSERT INTO NVTX_EVENTS (start, end, eventType, text, globalTid)
		SELECT start - 10, end + 10, 59, 'ncclAllReduce', globalTid FROM CUPTI_ACTIVITY_KIND_RUNTIME WHERE correlationId IN (`+launches+`) AND correlationId % 2 = 0`)
	var even, odd, evenNs, oddNs int64
	if err := db.QueryRow(`SELECT SUM(correlationId % 2 = 0), SUM(correlationId % 2 = 1),
		SUM(CASE WHEN correlationId % 2 = 0 THEN end - start END), SUM(CASE WHEN correlationId % 2 = 1 THEN end - start END)
		FROM CUPTI_ACTIVITY_KIND_KERNEL WHERE correlationId IN (`+launches+`)`).Scan(&even, &odd, &evenNs, &oddNs); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if even == 0 || odd == 0 {
		t.Fatalf("%d even and %d odd launches: want some of each", even, odd)
	}

	_, s := mgExportAndFill(t, path, Options{})
	var allReduce Kernel
	for _, k := range s.Kernels {
		if k.Name == tpRenames["nvjet_sm90_tst_64x16_64x16_4x1_v_bz_NNT"] {
			allReduce = k
		}
	}
	got := map[string]Collective{}
	for _, c := range s.Communication.Collectives {
		got[c.Name] = c
	}
	if c := got[CollAllReduce]; c.Count != allReduce.Count+even || c.TimeNs != allReduce.TotalNs+evenNs {
		t.Errorf("AllReduce %+v, want %d kernels in %d ns (%d named so, %d generic ones in ncclAllReduce)", c, allReduce.Count+even, allReduce.TotalNs+evenNs, allReduce.Count, even)
	}
	if c := got[CollGeneric]; c.Count != odd || c.TimeNs != oddNs {
		t.Errorf("Generic %+v, want the %d launched in ncclGroupEnd alone, %d ns", c, odd, oddNs)
	}
	var share float64
	for _, c := range s.Communication.Collectives {
		share += c.Share
	}
	var total, commNs int64
	for _, k := range s.Kernels {
		total += k.TotalNs
		if collectiveOf(k.Name) != "" {
			commNs += k.TotalNs
		}
	}
	if !mgNear(share, float64(commNs)/float64(total)) || s.Communication.TimeNs != commNs {
		t.Errorf("collective shares add up to %v, time %d ns; want %v, %d ns", share, s.Communication.TimeNs, float64(commNs)/float64(total), commNs)
	}
}

// TestExportResolvesGenericTwoRanks is issue 10's must-hold: on an
// assembled two-rank export, parse.Export alone (what gate runs) names the
// generic NCCL kernels launched inside ncclAllReduce ranges AllReduce, on
// both ranks; without the ranges they stay Generic.
func TestExportResolvesGenericTwoRanks(t *testing.T) {
	const generic = "ncclDevKernel_Generic_4"
	assemble := func(ranges bool) string {
		path := mgAssembleTP(t, 2)
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		// NCCL 2.19+ runs the all-reduce as its Generic kernel.
		mgExec(t, db, `UPDATE StringIds SET value = ? WHERE value = ?`, generic, tpRenames["nvjet_sm90_tst_64x16_64x16_4x1_v_bz_NNT"])
		if ranges {
			mgExec(t, db, `INSERT INTO NVTX_EVENTS (start, end, eventType, text, globalTid)
				SELECT r.start - 10, r.end + 10, 59, 'ncclAllReduce', r.globalTid FROM CUPTI_ACTIVITY_KIND_RUNTIME r
				WHERE r.correlationId IN (SELECT correlationId FROM CUPTI_ACTIVITY_KIND_KERNEL WHERE shortName IN (SELECT id FROM StringIds WHERE value = ?))`, generic)
		}
		return path
	}
	collectives := func(s *Summary) map[string]Collective {
		out := map[string]Collective{}
		for _, c := range s.Communication.Collectives {
			out[c.Name] = c
		}
		return out
	}
	s, err := Export(context.Background(), assemble(true), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var gen Kernel
	for _, k := range s.Kernels {
		if k.Name == generic {
			gen = k
		}
	}
	got := collectives(s)
	if _, ok := got[CollGeneric]; ok || gen.Count == 0 || len(s.Devices) != 2 {
		t.Fatalf("collectives %+v (%d devices), want the %d generic kernels named", s.Communication.Collectives, len(s.Devices), gen.Count)
	}
	if c := got[CollAllReduce]; c.Count != gen.Count || c.TimeNs != gen.TotalNs {
		t.Errorf("AllReduce %+v, want the generic kernels' %d launches in %d ns", c, gen.Count, gen.TotalNs)
	}
	plain, err := Export(context.Background(), assemble(false), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c := collectives(plain)[CollGeneric]; c.Count != gen.Count {
		t.Errorf("without NCCL ranges: Generic %+v, want %d launches", c, gen.Count)
	}
}

func TestInnermostCollective(t *testing.T) {
	rs := []ncclRange{
		{0, 100, "", 0},              // ncclCommInitRank, say
		{10, 20, CollAllReduce, 0},   // inside it
		{30, 40, CollAllGather, 0},   // inside it
		{200, 300, CollSendRecv, 0},  // alone
		{250, 260, CollBroadcast, 0}, // nested in the previous
		// A group of two all-reduces, launched in ncclGroupEnd.
		{400, 401, "", +1},
		{402, 410, CollAllReduce, 0},
		{411, 420, CollAllReduce, 0},
		{421, 500, "", -1},
		// A group of an all-gather and a reduce-scatter.
		{600, 601, "", +1},
		{602, 610, CollAllGather, 0},
		{611, 620, CollReduceScatter, 0},
		{621, 700, "", -1},
		// A group end with no group start before it.
		{800, 810, CollBroadcast, 0},
		{811, 900, "", -1},
	}
	tests := []struct {
		t    int64
		want string
	}{
		{-1, ""}, {0, ""}, {15, CollAllReduce}, {25, ""}, {35, CollAllGather}, {100, ""},
		{150, ""}, {210, CollSendRecv}, {255, CollBroadcast}, {270, CollSendRecv}, {301, ""},
		{405, CollAllReduce}, {450, CollAllReduce}, {650, ""}, {850, ""},
	}
	for _, tt := range tests {
		if got := innermostCollective(rs, tt.t); got != tt.want {
			t.Errorf("innermostCollective(%d) = %q, want %q", tt.t, got, tt.want)
		}
	}
}
