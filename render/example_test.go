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
	// ⚪ gate: no baseline — nothing was judged: there is no baseline to compare with
	// Head (unnamed), no baseline
	//   - no baseline artifact on main
	//
	// Details: fingerprints, method, rules
	// ------------------------------------
	// How measured: step times are compared step sample against step sample (Mann-Whitney U; CI is the 95%
	// interval of the median's relative change), counts per step value to value. Shares, coverage by time
	// and rates explain a change and never fail alone; a new kernel fails through what it costs.
}
