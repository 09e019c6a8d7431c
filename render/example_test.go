package render_test

import (
	"fmt"
	"os"

	"github.com/nsys-gate/gate/compare"
	"github.com/nsys-gate/gate/render"
)

// The action finds its previous comment by the marker line and edits it.
func ExampleMarker() {
	fmt.Println(render.Marker("llama-8b/h200"))
	// Output: <!-- gate:report id=llama_8b/h200 -->
}

// A result with nothing to compare renders as a neutral report that says why.
func ExampleText() {
	r := &compare.Result{
		Schema:  compare.ResultSchema,
		Verdict: compare.NoBaseline,
		Reasons: []string{"no baseline artifact on main"},
	}
	if err := render.Text(os.Stdout, r, render.Options{}); err != nil {
		fmt.Println(err)
	}
	// Output:
	// ⚪ gate: no baseline — not gated: there is no baseline to compare with
	// Head (unnamed); no baseline
	//   - no baseline artifact on main
	//
	// Details: fingerprints, method, rules, warnings
	// ----------------------------------------------
	// How measured: times are per-step samples (one per NVTX step range, projected onto the GPU). Base and head samples are compared with a Mann-Whitney U test; CI is the confidence interval of the relative change of the median. A time regresses only when the change is significant and larger than its threshold. Exact metrics (kernels and copies per step, bytes, CUDA-graph coverage) are compared value to value. Single kernels are gated only above a share of kernel time; smaller ones are listed, not gated.
	//
	// What can fail: a change that makes the workload cost more: step time, kernels, copies, bytes or syncs per step, launches outside CUDA graphs, a kernel's or component's time. Shares of a phase's kernel time, coverage by time, busy shares and rates are compositional: they move when anything else moves, so they explain and at most warn beside a failure of what they stand for, never fail alone. Added, removed and changed kernels are news, not failures: a new kernel fails through what it costs. A head that lost what the base measured (steps, devices, communication, bandwidth) is not comparable: it cannot be judged.
}
