package compare_test

import (
	"fmt"

	"github.com/nsys-gate/gate/compare"
	"github.com/nsys-gate/gate/parse"
)

// decodeSteps builds a summary whose decode steps take the given spans.
func decodeSteps(spans ...int64) *parse.Summary {
	p := &parse.Phase{Steps: len(spans)}
	for _, ns := range spans {
		p.Samples = append(p.Samples, parse.Step{Name: "decode", SpanNs: ns, BusyNs: ns, KernelNs: ns, Kernels: 12})
	}
	return &parse.Summary{
		Schema: parse.SummarySchema,
		Source: parse.Source{TraceMode: parse.TraceNode, NsysVersion: "2025.3.2"},
		GPU:    parse.GPU{Name: "NVIDIA H200", Devices: 1},
		Phases: map[string]*parse.Phase{parse.PhaseDecode: p},
	}
}

func ExampleCompare() {
	var base, head []int64
	for i := int64(0); i < 32; i++ {
		base = append(base, 1_000_000+i*500) // ~1.0 ms decode steps
		head = append(head, 1_150_000+i*500) // ~1.15 ms: 15% slower
	}
	r := compare.Compare(decodeSteps(base...), decodeSteps(head...), compare.Options{})
	fmt.Println("verdict:", r.Verdict)
	for _, m := range r.Metrics {
		if m.Name == "phases.decode.span.p50" {
			fmt.Printf("%s: %+.1f%%, p<0.001: %v, CI [%+.1f%%, %+.1f%%] at >= %.0f%%, %s\n",
				m.Name, m.DeltaPct, m.P < 0.001, m.CI.Lo, m.CI.Hi, m.CI.Confidence*100, m.Verdict)
		}
	}
	// Output:
	// verdict: fail
	// phases.decode.span.p50: +14.9%, p<0.001: true, CI [+14.2%, +15.6%] at >= 96%, fail
}

func ExampleSegment() {
	name := "void at::native::kernel<1.5f>(float*)"
	metric := "kernels." + compare.Segment(name) + ".total"
	fmt.Println(metric)
	fmt.Println(compare.Match("kernels.*.total", metric))
	// Output:
	// kernels.void%20at::native::kernel<1%2E5f>(float%2A).total
	// true
}

func ExampleParseThreshold() {
	for _, s := range []string{"5%", "1pp", "10us", "1MiB", "3"} {
		t, _ := compare.ParseThreshold(s)
		fmt.Printf("%s: %s %g", s, t.Kind, t.Value)
		if t.Unit != "" {
			fmt.Print(" ", t.Unit)
		}
		fmt.Println()
	}
	// Output:
	// 5%: relative 5
	// 1pp: points 1
	// 10us: absolute 10000 ns
	// 1MiB: absolute 1.048576e+06 bytes
	// 3: absolute 3
}
