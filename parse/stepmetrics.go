package parse

// The per-step figures of a phase that its samples determine beyond the
// times and counts: its shape (tokens and requests per step, time per
// token, tokens per second) and its CUDA-graph use.

// fillShape sets the phase's tokens and requests per step from the steps
// that name them, and for prefill and mixed steps (whose tokens are the
// prompts') the span per token; nil where no step names its tokens.
func (ph *Phase) fillShape(name string) {
	var tokens, requests, perToken []int64
	var tokenSum, spanSum int64
	for _, x := range ph.Samples {
		if x.Requests > 0 {
			requests = append(requests, int64(x.Requests))
		}
		if x.Tokens <= 0 {
			continue
		}
		tokens = append(tokens, int64(x.Tokens))
		perToken = append(perToken, (x.SpanNs+int64(x.Tokens)/2)/int64(x.Tokens))
		tokenSum += int64(x.Tokens)
		spanSum += x.SpanNs
	}
	if len(requests) > 0 {
		r := statOf(requests)
		ph.Requests = &r
	}
	if len(tokens) == 0 {
		return
	}
	t := statOf(tokens)
	ph.Tokens = &t
	if spanSum > 0 {
		ph.TokensPerS = float64(tokenSum) / float64(spanSum) * 1e9
	}
	if name == PhasePrefill || name == PhaseMixed {
		n := statOf(perToken)
		ph.NsPerToken = &n
	}
}

// fillGraphs sets the phase's CUDA-graph use: graph launches and kernels
// inside graphs per step, the share of its kernels inside graphs by count
// (in graph-level traces, of its launches: replays against eager kernels)
// and by time, and the mode these say it ran in.
func (ph *Phase) fillGraphs(mode string) {
	var launches, kernels []int64
	var graphKernels, allKernels, graphNs, kernelNs, replays int64
	for _, x := range ph.Samples {
		launches = append(launches, int64(x.GraphLaunches))
		kernels = append(kernels, int64(x.GraphKernels))
		graphKernels += int64(x.GraphKernels)
		allKernels += int64(x.Kernels)
		graphNs += x.GraphNs
		kernelNs += x.KernelNs
		replays += int64(x.GraphLaunches)
	}
	g := &PhaseGraphs{Launches: statOf(launches), Kernels: statOf(kernels)}
	if mode == TraceGraph {
		g.CoverageCount = 100 * ratio(float64(replays), float64(replays+allKernels))
	} else {
		g.CoverageCount = 100 * ratio(float64(graphKernels), float64(allKernels))
	}
	g.CoverageTime = 100 * ratio(float64(graphNs), float64(kernelNs))
	g.Mode = GraphMode(g.Launches.P50, g.CoverageTime)
	ph.Graphs = g
}
