package parse

import (
	"fmt"
	"slices"
)

// findSteps picks the scope range and the step ranges inside it.
func (p *profile) findSteps(ph *phaser) error {
	if p.opts.Scope != "" {
		p.scopes = map[int64]int32{}
		for i := range p.ranges {
			r := &p.ranges[i]
			if r.name != p.opts.Scope {
				continue
			}
			pid := processOf(r.tid)
			if j, ok := p.scopes[pid]; !ok || r.start < p.ranges[j].start {
				p.scopes[pid] = int32(i)
			}
			if p.scope < 0 || r.start < p.ranges[p.scope].start {
				p.scope = int32(i)
			}
		}
		if p.scope < 0 {
			if p.unended[p.opts.Scope] > 0 {
				return fmt.Errorf("scope: the NVTX push/pop range %q never ended (the capture stopped inside it?): it bounds nothing", p.opts.Scope)
			}
			return fmt.Errorf("scope: no NVTX push/pop range named %q", p.opts.Scope)
		}
	}
	// Sorted order puts parents first: a range nested in a step belongs to
	// it (vLLM's "gpu_model_runner: forward" inside its step) and is never
	// a step of its own, whatever its name.
	for i := range p.ranges {
		r := &p.ranges[i]
		if r.parent >= 0 && p.ranges[r.parent].step >= 0 {
			r.step = p.ranges[r.parent].step
			continue
		}
		if p.scope >= 0 {
			j, ok := p.scopes[processOf(r.tid)]
			if !ok {
				continue // a process without a scope range measured nothing
			}
			sc := &p.ranges[j]
			if int32(i) == j || r.start < sc.start || r.end > sc.end {
				continue
			}
		}
		if p.opts.Domain != "" && r.domain != p.opts.Domain {
			continue
		}
		phase, sh := ph.step(r.name)
		if phase == "" {
			continue
		}
		r.step = int32(len(p.steps))
		p.steps = append(p.steps, &stepAgg{rng: int32(i), phase: phase, shape: sh})
	}
	if len(p.steps) > 0 {
		p.stepSource = StepsNVTX
	}
	p.isScope = make([]bool, len(p.ranges))
	for _, j := range p.scopes {
		p.isScope[j] = true
	}
	return nil
}

// processOf is the process id within a globalTid or globalPid.
func processOf(global int64) int64 { return (global >> 24) & 0xFFFFFF }

// resetProjection clears what projecting the GPU ops adds to the ranges,
// before a pass over them.
func (p *profile) resetProjection() {
	for i := range p.ranges {
		r := &p.ranges[i]
		r.projStart, r.projEnd, r.spanStart, r.spanEnd = -1, -1, -1, -1
		r.projOps, r.spanOps = 0, 0
	}
	p.calls.resetCounted()
}

// project attributes a GPU op to the ranges that contain its launching call,
// as nsys's nvtxgpuproj does: it returns the op's step (-1 for none),
// whether the op counts toward the window, and the innermost range of its
// launch (-1 when no range call launched it). With count set it also extends
// each range's projection by the op; ops of one (process, correlationId)
// share their ranges, so a flag per key is enough to count distinct
// correlation ids per range. Where steps were inferred, an in-scope op's
// step is the inferred step that holds its correlation id.
func (p *profile) project(op *gpuOp, count bool) (step int32, inScope bool, launch int32) {
	step, inScope, launch = p.projectRanges(op, count)
	if p.inferred != nil && inScope {
		step = p.inferred.find(op.key)
	}
	return step, inScope, launch
}

// projectRanges is project by the NVTX ranges alone.
func (p *profile) projectRanges(op *gpuOp, count bool) (step int32, inScope bool, launch int32) {
	step, inScope = -1, p.scope < 0
	rng, slot := p.calls.find(op.key)
	if rng < 0 {
		return step, inScope, -1
	}
	inner := p.single[:1]
	inner[0] = rng
	if m, ok := p.calls.multi[op.key]; ok {
		inner = m
	}
	var newProj, newSpan bool
	if count {
		newProj, newSpan = slot.count(op.kind == opGraph)
	}
	chain := p.chain[:0]
	for _, r0 := range inner {
		for r := r0; r >= 0; r = p.ranges[r].parent {
			if len(inner) > 1 && slices.Contains(chain, r) {
				break // a shared ancestor: already on the chain
			}
			chain = append(chain, r)
		}
	}
	p.chain = chain
	for _, r := range chain {
		rg := &p.ranges[r]
		if p.isScope[r] {
			inScope = true
		}
		if step < 0 && rg.step >= 0 {
			step, inScope = rg.step, true
		}
		if !count {
			continue
		}
		if op.kind != opGraph {
			if rg.projStart < 0 || op.start < rg.projStart {
				rg.projStart = op.start
			}
			rg.projEnd = max(rg.projEnd, op.end)
			if newProj {
				rg.projOps++
			}
		}
		if rg.spanStart < 0 || op.start < rg.spanStart {
			rg.spanStart = op.start
		}
		rg.spanEnd = max(rg.spanEnd, op.end)
		if newSpan {
			rg.spanOps++
		}
	}
	return step, inScope, rng
}

// window is the measured window: the scope range's projected GPU span, or
// first to last in-scope GPU op.
func (p *profile) window() (lo, hi int64) {
	if p.scope < 0 {
		return max(p.acc.lo, 0), max(p.acc.hi, 0)
	}
	// The union of the processes' scope ranges (one per rank).
	lo, hi = -1, -1
	for _, j := range p.scopes {
		r := &p.ranges[j]
		a, b := r.start, r.end
		if r.spanStart >= 0 {
			a, b = r.spanStart, r.spanEnd
		}
		if lo < 0 || a < lo {
			lo = a
		}
		hi = max(hi, b)
	}
	return lo, hi
}
