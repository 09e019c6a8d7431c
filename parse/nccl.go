package parse

import "regexp"

// Collective names, as NCCL spells its collectives. They key
// Communication.Collectives and the metrics communication.<name>.*.
const (
	CollAllReduce     = "AllReduce"
	CollAllGather     = "AllGather"
	CollReduceScatter = "ReduceScatter"
	CollBroadcast     = "Broadcast"
	CollReduce        = "Reduce"
	CollSendRecv      = "SendRecv"
	CollAllToAll      = "AllToAll"
	// CollGeneric is NCCL's ncclDevKernel_Generic (NCCL 2.19 and later): one
	// kernel that runs whatever work it is handed, so its name does not say
	// which collective it served.
	CollGeneric = "Generic"
	// CollOther is a communication kernel whose name names no collective.
	CollOther = "Other"
)

// commKernel says whether a kernel name is a communication kernel: NCCL and
// RCCL (every kernel name contains "nccl"), and the custom all-reduce and
// all-to-all kernels that inference engines use beside NCCL (vLLM's
// cross_device_reduce_*stage, TensorRT-LLM's and FlashInfer's one-shot and
// two-shot all-reduce, all2all dispatchers). It agrees with the
// communication rule of DefaultComponentRules, plus the all-to-all names.
var commKernel = regexp.MustCompile(`(?i)nccl|rccl|cross_device_reduce|custom_?all_?reduce|all_?reduce|all_?gather|reduce_?scatter|send_?recv|all_?to_?all|all2all`)

// collectiveRules name the collective of a communication kernel. Order
// matters, first match wins: ReduceScatter and AllReduce before Reduce (both
// contain it), the generic kernel before the rest. They cover the names of
// NCCL 2.19+ (ncclDevKernel_AllReduce_Sum_bf16_RING_LL,
// ncclDevKernel_SendRecv, ncclDevKernel_Generic_4), NCCL 2.8-2.18
// (ncclKernel_AllGather_RING_LL_Sum_int8_t) and older
// (ncclAllReduceRingLLKernel_sum_f32, ncclSendRecvKernel_copy_i8).
var collectiveRules = []struct {
	name string
	re   *regexp.Regexp
}{
	{CollGeneric, regexp.MustCompile(`(?i)nccl\w*Kernel_Generic`)},
	{CollReduceScatter, regexp.MustCompile(`(?i)reduce_?scatter`)},
	{CollAllReduce, regexp.MustCompile(`(?i)all_?reduce|cross_device_reduce`)},
	{CollAllGather, regexp.MustCompile(`(?i)all_?gather`)},
	{CollAllToAll, regexp.MustCompile(`(?i)all_?to_?all|all2all`)},
	{CollBroadcast, regexp.MustCompile(`(?i)broadcast|bcast`)},
	{CollSendRecv, regexp.MustCompile(`(?i)send_?recv|send|recv`)},
	{CollReduce, regexp.MustCompile(`(?i)reduce`)},
}

// CollectiveOf returns the collective a kernel serves, from its (short or
// demangled) name, or "" when the kernel is not a communication kernel.
func CollectiveOf(kernel string) string {
	if !commKernel.MatchString(kernel) {
		return ""
	}
	for _, r := range collectiveRules {
		if r.re.MatchString(kernel) {
			return r.name
		}
	}
	return CollOther
}

// IsCommunication says whether a kernel name is a communication kernel.
func IsCommunication(kernel string) bool {
	return commKernel.MatchString(kernel)
}
