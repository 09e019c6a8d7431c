package parse

import (
	"regexp"
	"slices"
	"strings"
)

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

// commKernel is the default communication rule (commPattern), compiled as
// the classifier compiles it.
var commKernel = regexp.MustCompile("(?i)" + commPattern)

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

// collectiveOf returns the collective a kernel serves, from its (short or
// demangled) name, or "" when the default component rules do not make it a
// communication kernel.
func collectiveOf(kernel string) string {
	if !isCommunication(kernel) {
		return ""
	}
	return collectiveName(kernel)
}

// collectiveName names the collective of a communication kernel, CollOther
// when its name names none.
func collectiveName(kernel string) string {
	for _, r := range collectiveRules {
		if r.re.MatchString(kernel) {
			return r.name
		}
	}
	return CollOther
}

// isCommunication says whether the default component rules classify a
// kernel name as communication.
func isCommunication(kernel string) bool {
	return commKernel.MatchString(kernel)
}

// genericKernels returns the string ids of kernel names that are NCCL's
// Generic kernel, nil when there are none. In the grouping nsys stats uses
// (a test-only mode) op names are not string ids: none are marked.
func genericKernels(strs map[int64]string, by groupBy) map[int32]bool {
	if by != groupShort {
		return nil
	}
	var out map[int32]bool
	for id, v := range strs {
		// The regular expressions are slow on long strings (the export
		// keeps the whole environment as one): look for the word first.
		if !containsFold(v, "generic") {
			continue
		}
		if collectiveOf(v) == CollGeneric {
			if out == nil {
				out = map[int32]bool{}
			}
			out[int32(id)] = true
		}
	}
	return out
}

// genericOp is an in-scope Generic kernel op: its duration and the
// innermost range of the call that launched it.
type genericOp struct {
	dur int64
	rng int32
}

// resolveGeneric names the collective behind ncclDevKernel_Generic kernels
// from NCCL's own NVTX ranges. NCCL wraps every API call in a push/pop range
// named after it (ncclAllReduce, ncclAllGather, ncclSend, ... in the NCCL
// domain) and, outside a group, launches the kernel inside that call; so the
// innermost nccl* range around the CUDA call that launched a generic kernel
// says which collective it served; inside ncclGroupEnd, the calls made since
// ncclGroupStart say it, when they all name one collective. Generic kernels
// launched elsewhere (a group of several collectives, the replay of a CUDA
// graph that captured the collective) stay Generic. The time and count moved
// are taken off the Generic collective and added to the named one in c;
// shares are of kernelNs.
func (p *profile) resolveGeneric(c *Communication, kernelNs int64) {
	gi := slices.IndexFunc(c.Collectives, func(k Collective) bool { return k.Name == CollGeneric })
	if gi < 0 {
		return
	}
	moved := map[string]*Collective{}
	for _, g := range p.genericOps {
		name := p.ncclCollective(g.rng)
		if name == "" {
			continue
		}
		m := moved[name]
		if m == nil {
			m = &Collective{Name: name}
			moved[name] = m
		}
		m.Count++
		m.TimeNs += g.dur
	}
	moveGeneric(c, gi, moved, kernelNs)
}

// moveGeneric takes the kernels in moved (by collective) off the Generic
// collective c.Collectives[gi] and adds them to the collectives they
// served, then recomputes the shares (of kernelNs) and the order.
func moveGeneric(c *Communication, gi int, moved map[string]*Collective, kernelNs int64) {
	generic := &c.Collectives[gi]
	for _, name := range sortedKeys(moved) {
		m := moved[name]
		// Never move more than the Generic collective holds: what moved
		// may be counted over another window than the kernel rows.
		m.Count = min(m.Count, generic.Count)
		m.TimeNs = min(m.TimeNs, generic.TimeNs)
		generic.Count -= m.Count
		generic.TimeNs -= m.TimeNs
		if i := slices.IndexFunc(c.Collectives, func(k Collective) bool { return k.Name == name }); i >= 0 {
			c.Collectives[i].Count += m.Count
			c.Collectives[i].TimeNs += m.TimeNs
		} else {
			c.Collectives = append(c.Collectives, *m)
			generic = &c.Collectives[gi]
		}
	}
	out := c.Collectives[:0]
	for _, k := range c.Collectives {
		if k.Count > 0 || k.TimeNs > 0 {
			k.Share = ratio(float64(k.TimeNs), float64(kernelNs))
			out = append(out, k)
		}
	}
	c.Collectives = out
	sortCollectives(c.Collectives)
}

// ncclCollective is the collective that the NCCL call around range r (or
// around the nearest enclosing range) served, or "": the innermost nccl*
// range says it, unless it is an ncclGroupEnd, where the calls since the
// ncclGroupStart before it on the thread say it when they all name the same
// one.
func (p *profile) ncclCollective(r int32) string {
	for r >= 0 && !isNCCLRange(p.ranges[r].name) {
		r = p.ranges[r].parent
	}
	if r < 0 {
		return ""
	}
	end := &p.ranges[r]
	if ncclGroup(end.name) >= 0 {
		return rangeCollective(end.name)
	}
	coll := ""
	// Ranges are sorted by thread and start: walk back over this thread's.
	for j := r - 1; j >= 0 && p.ranges[j].tid == end.tid; j-- {
		call := &p.ranges[j]
		if !isNCCLRange(call.name) {
			continue
		}
		g := ncclGroup(call.name)
		if g > 0 {
			break
		}
		c := rangeCollective(call.name)
		switch {
		case call.end > end.start || g < 0:
			return "" // not a plain sequence of calls: do not guess
		case c == "":
		case coll == "":
			coll = c
		case coll != c:
			return "" // a group of several collectives
		}
	}
	return coll
}

// isNCCLRange says whether an NVTX range is one of NCCL's API ranges.
func isNCCLRange(name string) bool {
	return len(name) >= 4 && strings.EqualFold(name[:4], "nccl")
}

// ncclGroup is +1 for ncclGroupStart, -1 for ncclGroupEnd, else 0.
func ncclGroup(name string) int {
	switch {
	case strings.HasPrefix(name, "ncclGroupStart"):
		return +1
	case strings.HasPrefix(name, "ncclGroupEnd"):
		return -1
	}
	return 0
}

// rangeCollective is the collective an NCCL API range names, "" for calls
// that name none (ncclGroupStart, ncclCommInitRank).
func rangeCollective(name string) string {
	switch c := collectiveOf(name); c {
	case "", CollOther, CollGeneric:
		return ""
	default:
		return c
	}
}

// containsFold says whether s contains lower, an ASCII lower-case word, in
// any case.
func containsFold(s, lower string) bool {
	for i := 0; i+len(lower) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(lower)], lower) {
			return true
		}
	}
	return false
}
