package parse

import (
	"fmt"
	"regexp"
	"strings"
)

// Component names.
const (
	CompAttention     = "attention"
	CompGEMM          = "gemm"
	CompMoE           = "moe"
	CompCommunication = "communication"
	CompNorm          = "norm"
	CompActivation    = "activation"
	CompMemory        = "memory"
	CompSampling      = "sampling"
	CompOther         = "other"
)

// defaultComponentRules returns the rules that classify kernel names
// (demangled where the export has them) into components. Order matters, first match wins: communication
// first (NCCL names contain "reduce"), sampling before attention (FlashInfer
// sampling kernels contain "flash"), attention before memory (KV-cache writes
// count as attention) and before gemm (fused attention kernels contain
// "gemm"-like tile names), MoE before gemm (grouped GEMMs), and the PyTorch
// elementwise pieces of an eager RMSNorm (mean, pow, rsqrt) as norm.
// Sources: vLLM's vllm_engine_model.json, TraceLens classify_kernels.py, HTA
// kernel types (see the project's research notes, §5).
func defaultComponentRules() []ComponentRule {
	return []ComponentRule{
		{CompCommunication, commPattern},
		{CompSampling, `sampling|topk_topp|top_k_top_p|top_p|top_k_renorm|gumbel|argmax`},
		{CompAttention, `flash|fmha|sdpa|attention|_attn|attn_|mha_|mla_|paged_?attention|BatchPrefillWith|BatchDecodeWith|reshape_and_cache|rotary|rope_`},
		{CompMoE, `moe|GroupProblemShape|group_gemm|grouped_gemm|topkGating|expert|matmul_ogs|_combined_routing`},
		{CompMemory, `copy_kernel|direct_copy|CatArrayBatchedCopy|FillFunctor|memcpy|memset|index_copy|copy_page_indices|^dma|_copy_`},
		{CompGEMM, `gemm|gemv|matmul|nvjet|cublas|cutlass|xmma|splitKreduce|Cijk_|bmm|wgmma|s16816|s1688`},
		{CompNorm, `norm|MeanOps|rsqrt|pow_tensor_scalar`},
		{CompActivation, `silu|gelu|swiglu|act_and_mul|swish|relu|tanh|sigmoid|softplus`},
	}
}

// commPattern is the default communication rule: NCCL and RCCL (every
// kernel name contains "nccl" or "rccl"), and the custom all-reduce and
// all-to-all kernels that inference engines use beside NCCL (vLLM's
// cross_device_reduce_*stage, TensorRT-LLM's and FlashInfer's one-shot and
// two-shot all-reduce, all2all dispatchers). It is the first default rule,
// so isCommunication, built from it, says exactly what the default rules
// classify as communication.
const commPattern = `nccl|rccl|cross_device_reduce|custom_?all_?reduce|all_?reduce|all_?gather|reduce_?scatter|send_?recv|all_?to_?all|all2all`

// classifier maps kernel names to components with ordered rules.
type classifier struct {
	rules []compiledRule
}

type compiledRule struct {
	name string
	re   *regexp.Regexp
}

// newClassifier compiles user rules (tried first) and the defaults. Rules
// match case-insensitively.
func newClassifier(user []ComponentRule) (*classifier, error) {
	c := &classifier{}
	for i, r := range user {
		if strings.TrimSpace(r.Name) == "" {
			return nil, fmt.Errorf("components[%d].name: empty", i)
		}
		if r.Match == "" {
			return nil, fmt.Errorf("components[%d].match: empty", i)
		}
		re, err := regexp.Compile("(?i)" + r.Match)
		if err != nil {
			return nil, fmt.Errorf("components[%d].match: %w", i, err)
		}
		c.rules = append(c.rules, compiledRule{r.Name, re})
	}
	for _, r := range defaultComponentRules() {
		c.rules = append(c.rules, compiledRule{r.Name, regexp.MustCompile("(?i)" + r.Match)})
	}
	return c, nil
}

// component returns the component of a kernel name; "other" if no rule matches.
func (c *classifier) component(name string) string {
	for _, r := range c.rules {
		if r.re.MatchString(name) {
			return r.name
		}
	}
	return CompOther
}
