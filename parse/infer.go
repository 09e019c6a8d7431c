package parse

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"

	"github.com/nsys-gate/gate/internal/stats"
)

// Step inference: where no NVTX step range matches, the steps are found in
// the launch stream itself. An inference engine runs a loop, and every
// iteration launches the same work again:
//
//   - in CUDA-graph decode each step replays its graph (one launch per step
//     in vLLM's FULL mode, a fixed number of piecewise launches with eager
//     attention between them in PIECEWISE mode);
//   - in eager decode each step usually ends at the host synchronisation
//     that reads the sampled tokens (vLLM, transformers' generate);
//   - an eager loop that never synchronises still repeats the same kernel
//     sequence step after step.
//
//   - an iteration may synchronise more than once, in a fixed pattern:
//     transformers' generate() reads a flag back after the forward pass and
//     again in the next iteration's input preparation (a forward of 527
//     kernels and a bookkeeping run of 7 on the recorded Llama), a
//     vLLM-like loop prepares its inputs in one run and runs the forward in
//     the next. A step of the loop is the whole iteration;
//   - but a step that replays CUDA graphs after a synchronisation begins at
//     the copies into the graph's input buffers: the eager preparation
//     before them (transformers' static-cache decode: 18 kernels before
//     the compiled forward's replay, 16 after it) runs at the host's pace,
//     so it stays between steps rather than doubling the step's span.
//
// So each process's launches, in launch (correlation) order, are cut at
// host synchronisations into runs; a run whose launches repeat (graph
// launches in a fixed pattern, or an eager token that recurs at a fixed
// stride) is cut again at each repetition; consecutive runs that repeat as
// a group (runPatterns) are joined into one piece per group. The pieces are
// clustered by their launch signature, and the cluster holding the most GPU
// work among those that repeat at least MinRepeats times is the repeating
// phase (decode; pickCluster says which kinds come first). What holds GPU
// work right before a repeating step is the large phase (prefill: the
// prompt is processed before the first token is decoded): the piece before
// it, or the light pieces back to back before it of a prefill that
// synchronises as it goes (largeBefore); where a step is a group of P runs,
// the prefill step also takes the up to P-1 whole runs before those pieces
// (its iteration's other runs: the input preparation). Each inferred step
// is an interval of correlation ids of one process, so that every GPU op
// finds its step as an NVTX-projected op finds its range.

// Launch tokens say what a launch put on the GPU: a kernel (by short-name
// id), a memcpy (by copy kind), a memset, or a CUDA-graph replay (by its
// op count, which does not change with the batch size a graph was captured
// for); a bit says whether it copied memory.
const (
	tokKernel uint32 = iota
	tokMemcpy
	tokMemset
	tokGraph
)

// tokCopies marks a launch that copied memory (a memcpy or memset, or a
// graph replay with copy nodes); tokID masks the id.
const (
	tokCopies = 1 << 29
	tokID     = tokCopies - 1
)

// launchToken packs a token: the kind in the top two bits, the copy bit,
// the id in the rest.
func launchToken(kind, id uint32) uint32 {
	t := kind<<30 | id&tokID
	if kind == tokMemcpy || kind == tokMemset {
		t |= tokCopies
	}
	return t
}

// launch is one launching call of a process and the GPU work it made, in
// 12 bytes: an eager capture has one per kernel.
type launch struct {
	corr uint32 // its correlation id
	tok  uint32
	ns   uint32 // the summed duration of its ops, at most 4.29 s
}

func (l launch) graph() bool  { return l.tok>>30 == tokGraph }
func (l launch) copies() bool { return l.tok&tokCopies != 0 }

// ops is how many GPU ops the launch made: a graph replay's op count where
// known (node-level traces), else 1.
func (l launch) ops() int64 {
	if l.graph() {
		return max(int64(l.tok&tokID), 1)
	}
	return 1
}

// addNs adds an op's duration to a launch's, saturating.
func (l *launch) addNs(ns int64) {
	l.ns = uint32(min(int64(l.ns)+max(ns, 0), 1<<32-1))
}

// merge adds o, another op of the same launch: a graph replay counts its
// ops, others keep the lower token; the copy bit is either's.
func (l *launch) merge(o launch) {
	l.addNs(int64(o.ns))
	copies := (l.tok | o.tok) & tokCopies
	if l.graph() || o.graph() {
		l.tok = launchToken(tokGraph, uint32(l.ops()+o.ops()))
	} else {
		l.tok = min(l.tok, o.tok)
	}
	l.tok |= copies
}

// procLaunches is one process's in-scope launches, in correlation order,
// and its host synchronisations (correlation ids, sorted).
type procLaunches struct {
	pid      uint64
	launches []launch
	syncs    []uint32
}

// inferredStep is one inferred step: the correlation ids [lo, hi] of one
// process, its phase and the host synchronisations it made.
type inferredStep struct {
	pid    uint64
	lo, hi uint32
	phase  string
	syncs  int
}

// inference is what step inference found: how, and the steps sorted by
// process and first correlation id.
type inference struct {
	method string
	steps  []inferredStep
}

// piece is a contiguous part [a, b) of one process's launches: a run
// between synchronisations, or a repetition cut from one.
type piece struct {
	proc int
	a, b int
}

// run is a piece between host synchronisations, and the repetitions found
// inside it (none when it does not repeat).
type run struct {
	piece
	synced bool // ended by a synchronisation
	units  []piece
	key    string // cluster of the units
	sig    string // the whole run's launch signature (runKey)
	ns     int64  // its GPU time
}

// cluster is a set of pieces with one launch signature.
type cluster struct {
	key     string
	kind    byte // 'g' graph units, 'e' eager units, 'p' groups of runs, 's' whole runs
	members []piece
	runs    []int // the runs the members come from (kind 's': themselves; 'p': each group's first)
	period  int   // kind 'p': the runs in a group
	weight  int64 // GPU ops the members hold
}

// inferSteps finds the steps of procs (see the comment at the top).
func inferSteps(procs []procLaunches, o InferOptions) inference {
	o = o.withDefaults()
	if o.Repeating == PhaseNone {
		return inference{}
	}
	var runs []run
	for pi := range procs {
		runs = append(runs, syncRuns(procs, pi)...)
	}
	clusters := map[string]*cluster{}
	add := func(key string, kind byte, members []piece, ri int) *cluster {
		c := clusters[key]
		if c == nil {
			c = &cluster{key: key, kind: kind}
			clusters[key] = c
		}
		c.members = append(c.members, members...)
		c.runs = append(c.runs, ri)
		for _, m := range members {
			c.weight += opsOf(procs, m)
		}
		return c
	}
	for ri := range runs {
		r := &runs[ri]
		l := procs[r.proc].launches
		if key, units := graphUnits(l, r.piece, o.MinRepeats); units != nil {
			r.key, r.units = key, units
		} else if key, units := repeatUnits(l, r.piece, o.MinRepeats); units != nil {
			r.key, r.units = key, units
		}
		if r.units != nil {
			add(r.key, r.key[0], r.units, ri)
		}
		r.sig, r.ns = runKey(l, r.piece), nsOfLaunches(l, r.piece)
		add(r.sig, 's', []piece{r.piece}, ri)
	}
	for _, g := range runPatterns(runs) {
		first, last := runs[g.first], runs[g.first+g.period-1]
		add(g.key, 'p', []piece{{first.proc, first.a, last.b}}, g.first).period = g.period
	}
	best := pickCluster(clusters, o.MinRepeats)
	if best == nil {
		return inference{}
	}
	inf := inference{method: methodOf(procs, best)}
	decodeRun := map[int]bool{}
	for _, ri := range best.runs {
		decodeRun[ri] = true
	}
	// Each process's segments in launch order: whole runs, or the steps
	// cut from a run of the chosen cluster with what is left around them.
	var segs []segment
	for ri := 0; ri < len(runs); ri++ {
		r := &runs[ri]
		if !decodeRun[ri] {
			segs = append(segs, segment{piece: r.piece, last: true, synced: r.synced})
			continue
		}
		if best.kind == 'p' {
			ri += best.period - 1
			end := &runs[ri]
			segs = append(segs, segment{piece: piece{r.proc, r.a, end.b}, decode: true, last: true, synced: end.synced})
			continue
		}
		if best.kind == 's' {
			// A run follows a synchronisation (but a process's first).
			step := r.piece
			if ri > 0 && runs[ri-1].proc == r.proc {
				step.a = replayStart(procs[r.proc].launches, r.piece)
			}
			if step.a > r.a {
				segs = append(segs, segment{piece: piece{r.proc, r.a, step.a}, between: true})
			}
			segs = append(segs, segment{piece: step, decode: true, last: true, synced: r.synced})
			continue
		}
		if h := (piece{r.proc, r.a, r.units[0].a}); h.b > h.a {
			segs = append(segs, segment{piece: h})
		}
		for i, u := range r.units {
			segs = append(segs, segment{piece: u, decode: true, last: i == len(r.units)-1 && u.b == r.b, synced: r.synced})
		}
		if t := (piece{r.proc, r.units[len(r.units)-1].b, r.b}); t.b > t.a {
			segs = append(segs, segment{piece: t, last: true, synced: r.synced})
		}
	}
	var decodeNs []int64
	for _, s := range segs {
		if s.decode {
			decodeNs = append(decodeNs, nsOf(procs, s.piece))
		}
	}
	slices.Sort(decodeNs)
	large := stats.Median(decodeNs) / 2
	// largeFrom[i] >= 0: segments largeFrom[i] to i are a large step.
	largeFrom := make([]int, len(segs))
	for i := range segs {
		largeFrom[i] = -1
		if o.Large == PhaseNone || !segs[i].decode {
			continue
		}
		first, last := largeBefore(procs, segs, i, large)
		if first < 0 {
			continue
		}
		// An iteration of P runs: the prefill's input preparation
		// comes in the runs before its forward.
		for j, end := first-1, first-best.period; j >= 0 && j > end && !segs[j].decode && segs[j].proc == segs[i].proc; j-- {
			first = j
		}
		largeFrom[last] = first
	}
	for i, s := range segs {
		phase := ""
		switch {
		case s.decode:
			phase = o.Repeating
		case largeFrom[i] >= 0:
			phase = o.Large
			s.a = segs[largeFrom[i]].a
		default:
			continue
		}
		pl := &procs[s.proc]
		st := inferredStep{pid: pl.pid, lo: pl.launches[s.a].corr, hi: pl.launches[s.b-1].corr, phase: phase}
		st.syncs = countIn(pl.syncs, st.lo, st.hi)
		if s.last && s.synced {
			st.syncs++ // the synchronisation that ended the run
		}
		inf.steps = append(inf.steps, st)
	}
	return inf
}

// runGroup is P consecutive runs that repeat as a group: runs[first] to
// runs[first+period-1], key naming the pattern.
type runGroup struct {
	first, period int
	key           string
}

// maxRunPeriod bounds the runs of one iteration.
const maxRunPeriod = 8

// runPatterns finds the loops whose iteration spans several runs: in each
// process, a stretch of at least two periods of P runs (2 <= P <=
// maxRunPeriod), none of them cut into repetitions of its own, whose launch
// signatures repeat with period P (each run's signature equal to the one P
// runs before). The P runs of a group must all differ (a pattern that
// repeats a run inside is a request of steps, not an iteration, and a
// smaller period would already cover it), and one of them must do the
// iteration's work: every other position holds less than half the GPU time
// of the heaviest (two alternating steps of the same size are two steps,
// not one). Groups start where the stretch starts, except that where the
// stretch's length leaves room for another start with as many whole groups,
// the one that ends each group with its heaviest run is taken (the forward,
// whose end reads the sampled tokens). The runs left over at either end of
// a stretch stay whole runs.
func runPatterns(runs []run) []runGroup {
	var out []runGroup
	for p := 2; p <= maxRunPeriod; p++ {
		for s := 0; s < len(runs); {
			e := s + 1
			for e < len(runs) && runs[e].proc == runs[s].proc && runs[e].units == nil &&
				(e < s+p || runs[e].sig == runs[e-p].sig) {
				e++
			}
			// A stretch from any start before e-p+1 would end at e too.
			next := max(s+1, e-p+1)
			if runs[s].units == nil && e-s >= 2*p {
				if gs := stretchGroups(runs, s, e, p); len(gs) > 0 {
					out = append(out, gs...)
					next = gs[len(gs)-1].first + p
				}
			}
			s = next
		}
	}
	return out
}

// stretchGroups cuts the stretch runs[s:e] of period p into groups (see
// runPatterns), none when its pattern is not an iteration's.
func stretchGroups(runs []run, s, e, p int) []runGroup {
	ns := make([]int64, p)
	for i := s; i < e; i++ {
		ns[(i-s)%p] += runs[i].ns
	}
	heavy := 0
	for k := range p {
		if ns[k] > ns[heavy] {
			heavy = k
		}
	}
	for k := range p {
		if k != heavy && 2*ns[k] >= ns[heavy] {
			return nil
		}
		for j := range k {
			if runs[s+j].sig == runs[s+k].sig {
				return nil
			}
		}
	}
	start := s
	if o := (heavy + 1) % p; o <= (e-s)%p {
		start = s + o
	}
	var key strings.Builder
	fmt.Fprintf(&key, "p%d", p)
	for k := range p {
		key.WriteString("|" + runs[start+k].sig)
	}
	var out []runGroup
	for g := start; g+p <= e; g += p {
		out = append(out, runGroup{first: g, period: p, key: key.String()})
	}
	return out
}

// segment is a piece of a process's launches in the order step inference
// lays them out: a decode step, or what lies around the steps.
type segment struct {
	piece
	decode  bool
	between bool // the bookkeeping before a step's replay (replayStart)
	last    bool // ends its run
	synced  bool
}

// largeBefore finds the large phase before the step segs[d]: the stretch of
// segments that ends right before it (past the bookkeeping before its
// replay), as first and last index, or -1, -1. Walking back, a segment
// holding at least large (half a step's GPU time) ends the stretch: it is
// the prefill's forward, with the light pieces after it (the sampling of
// the first token). A light segment is joined, since a forward that
// synchronises as it goes comes in light runs (transformers' eager prefill
// with a static cache reads a value back in each of its layers), unless it
// holds less than a tenth of the median of those joined so far: the
// request's set-up before its forward. The stretch is the large phase if
// it holds GPU work and at least large in all.
func largeBefore(procs []procLaunches, segs []segment, d int, large float64) (int, int) {
	last := d - 1
	if last >= 0 && segs[last].between {
		last--
	}
	var joined []int64
	var total int64
	first := last + 1
	for j := last; j >= 0 && !segs[j].decode && !segs[j].between && segs[j].proc == segs[d].proc; j-- {
		ns := nsOf(procs, segs[j].piece)
		if len(joined) > 0 {
			if float64(ns) < stats.Median(stats.Sorted(joined))/10 {
				break
			}
		}
		joined = append(joined, ns)
		total += ns
		first = j
		if float64(ns) >= large {
			break
		}
	}
	if first > last || float64(total) < large {
		return -1, -1
	}
	var ops int64
	for j := first; j <= last; j++ {
		ops += opsOf(procs, segs[j].piece)
	}
	if ops == 0 {
		return -1, -1
	}
	return first, last
}

// syncRuns cuts process pi's launches at its synchronisations: a launch
// made by a synchronising call itself (a blocking memcpy) ends its run.
func syncRuns(procs []procLaunches, pi int) []run {
	pl := &procs[pi]
	var runs []run
	a, s := 0, 0
	for i, l := range pl.launches {
		cut := false
		for s < len(pl.syncs) && pl.syncs[s] < l.corr {
			cut = true
			s++
		}
		if cut && i > a {
			runs = append(runs, run{piece: piece{pi, a, i}, synced: true})
			a = i
		}
	}
	if a < len(pl.launches) {
		runs = append(runs, run{piece: piece{pi, a, len(pl.launches)}, synced: s < len(pl.syncs)})
	}
	return runs
}

// graphUnits cuts a run at its CUDA-graph launches when they come in a
// fixed pattern: the smallest period P (in graph launches) such that whole
// groups of P launches, each group the same sequence of kernel counts,
// repeat at least minRepeats times, and every repetition copies memory (a
// step's inputs or sampled tokens; the pieces of one PIECEWISE step copy
// nothing between them). A FULL-graph decode step is one launch (P = 1); a
// PIECEWISE step a fixed number of pieces. Among the rotations of a period,
// a step starts after the largest eager gap (the host's work between two
// steps: sampling, input preparation). Each step takes its graph launches
// and the eager launches around them.
func graphUnits(l []launch, r piece, minRepeats int) (string, []piece) {
	var g []int
	for i := r.a; i < r.b; i++ {
		if l[i].graph() {
			g = append(g, i)
		}
	}
	n := len(g)
	copies := 0
	for _, x := range l[r.a:r.b] {
		if x.copies() {
			copies++
		}
	}
	for p := 1; p <= min(n/minRepeats, maxPieces); p++ {
		phase, bestGap := 0, -1
		for ph := 0; ph < p; ph++ {
			// Each step after the first copies: too few copies for
			// this many steps rule the period out before its cost.
			groups := (n - ph) / p
			if groups < minRepeats || copies < groups-1 {
				continue
			}
			ok := true
			for k := ph + p; k < ph+groups*p && ok; k++ {
				ok = l[g[k]].tok == l[g[k-p]].tok
			}
			if !ok {
				continue
			}
			gap := 0
			for k := ph + p; k < ph+groups*p; k += p {
				gap += g[k] - g[k-1] - 1
			}
			if gap > bestGap {
				phase, bestGap = ph, gap
			}
		}
		if bestGap < 0 {
			continue
		}
		steps := (n - phase) / p
		first, last := make([]int, steps), make([]int, steps)
		for s := range steps {
			first[s], last[s] = g[phase+s*p], g[phase+s*p+p-1]
		}
		units := cutUnits(l, r, first, last)
		if !copying(l, units) {
			continue
		}
		key := fmt.Sprintf("g%d", p)
		for k := range p {
			key += fmt.Sprintf(":%d", l[g[phase+k]].tok&(1<<30-1))
		}
		return key, units
	}
	return "", nil
}

// copying reports whether every unit but the first copies memory (a memcpy
// or memset, in a graph or not): the first step of a run may have had its
// inputs copied before the run began.
func copying(l []launch, units []piece) bool {
	for _, u := range units[1:] {
		if !slices.ContainsFunc(l[u.a:u.b], launch.copies) {
			return false
		}
	}
	return true
}

// maxPieces bounds the graph launches of one step (PIECEWISE: the layers
// plus one).
const maxPieces = 256

// repeatUnits cuts an eager run at an anchor: the launch token that recurs
// most often at one fixed stride (every gap between its occurrences equal
// but the first and the last, at least minRepeats occurrences, a stride of
// two launches or more), provided that the repetitions copy memory (the
// sampled tokens, the next step's inputs): a repetition that copies nothing
// is a layer, not a step. A token inside each layer of a step recurs at two
// strides (layer to layer, and across the step's own head and tail), so it
// never anchors a step.
func repeatUnits(l []launch, r piece, minRepeats int) (string, []piece) {
	type occ struct {
		n, first, last, gap int
		bad, badAt          int // gaps off the stride; the occurrence after the last one
	}
	seen := map[uint32]*occ{}
	for i := r.a; i < r.b; i++ {
		o := seen[l[i].tok]
		if o == nil {
			seen[l[i].tok] = &occ{n: 1, first: i, last: i}
			continue
		}
		gap := i - o.last
		switch {
		case o.n <= 2:
			// The first gap may differ (the run's head); the second sets
			// the stride.
			o.gap = gap
		case gap != o.gap:
			o.bad++
			o.badAt = o.n
		}
		o.n++
		o.last = i
	}
	var best *occ
	var bestTok uint32
	for tok, o := range seen {
		strict := o.bad == 0 || o.bad == 1 && o.badAt == o.n-1
		if !strict || o.n < minRepeats || o.gap < 2 {
			continue
		}
		if best == nil || o.n > best.n || o.n == best.n && o.first < best.first {
			best, bestTok = o, tok
		}
	}
	if best == nil {
		return "", nil
	}
	var first []int
	for i := best.first; i < r.b; i++ {
		if l[i].tok == bestTok {
			first = append(first, i)
		}
	}
	units := cutUnits(l, r, first, first)
	if !copying(l, units) || !sameGraphs(l, units) {
		return "", nil
	}
	return fmt.Sprintf("e%d:%d", best.gap, bestTok), units
}

// sameGraphs reports whether every unit replays the same CUDA graphs (the
// same op counts in the same order, none in all). Repetitions of a step
// launch the same work; an eager stretch that recurs around one graph
// replay (the input preparation before a compiled forward, the sampling
// after it) is the iteration's bookkeeping, and cutting at it would put
// the forward in one piece and the bookkeeping in another.
func sameGraphs(l []launch, units []piece) bool {
	graphs := func(u piece) []uint32 {
		var g []uint32
		for _, x := range l[u.a:u.b] {
			if x.graph() {
				g = append(g, x.tok)
			}
		}
		return g
	}
	want := graphs(units[0])
	for _, u := range units[1:] {
		if !slices.Equal(graphs(u), want) {
			return false
		}
	}
	return true
}

// cutUnits turns the anchors of a run's steps (first[s] to last[s], the
// launches that mark step s) into steps. Each step also takes the eager
// launches that come before its anchor, as many as came before the first
// anchor in the run but no more than the fewest between two steps, and the
// rest up to the next step. A last step with little GPU time of its own
// (the copy of the sampled tokens) joins the one before; a last step much
// longer than the others is cut where they end, the rest left out.
func cutUnits(l []launch, r piece, first, last []int) []piece {
	lead := first[0] - r.a
	for s := 1; s < len(first); s++ {
		lead = min(lead, first[s]-last[s-1]-1)
	}
	units := make([]piece, len(first))
	for s := range first {
		units[s] = piece{r.proc, first[s] - lead, r.b}
		if s > 0 {
			units[s-1].b = units[s].a
		}
	}
	lens := make([]int, 0, len(units))
	ns := make([]int64, 0, len(units))
	for _, u := range units[:len(units)-1] {
		lens = append(lens, u.b-u.a)
		ns = append(ns, nsOfLaunches(l, u))
	}
	slices.Sort(lens)
	slices.Sort(ns)
	n := len(units) - 1
	if n == 0 {
		return units
	}
	tail := &units[n]
	if float64(nsOfLaunches(l, *tail)) < stats.Median(ns)/2 {
		units[n-1].b = tail.b
		return units[:n]
	}
	if long := lens[len(lens)/2]; tail.b-tail.a > 2*long {
		tail.b = tail.a + long
	}
	return units
}

// runKey is the launch signature of a whole run: the kernel count of each
// graph it replays, and how many kernels it launches outside graphs:
// between its first and last replay where it replays any (PIECEWISE
// attention), else all. Names are left out (the same step picks another
// variant of a kernel for another size: a vectorised fill when the mask's
// length is a multiple of 16), and so are copies (the first step after a
// prefill also copies the prefill's token). The eager launches before the
// first replay and after the last are the loop's bookkeeping, whose count
// changes at a request's edges (transformers' static-cache decode launches
// two fewer at the last step of a generate call, and none before the
// replay that follows the graph's capture), so they are left out too.
func runKey(l []launch, r piece) string {
	h := fnv.New64a()
	var b [4]byte
	eager, all, graphs := 0, 0, 0
	for _, x := range l[r.a:r.b] {
		switch x.tok >> 30 {
		case tokKernel:
			all++
		case tokGraph:
			if graphs++; graphs == 1 {
				all = 0
			}
			eager = all
			binary.LittleEndian.PutUint32(b[:], x.tok)
			h.Write(b[:])
		}
	}
	if graphs > 0 {
		return fmt.Sprintf("s%dg%d:%x", graphs, eager, h.Sum64())
	}
	return fmt.Sprintf("s%d:%x", all, h.Sum64())
}

// replayStart is where a step that replays CUDA graphs and follows a host
// synchronisation begins: at the first copy before its first replay (a
// graph reads its inputs from fixed buffers, so filling them starts the
// step), else at p.a. The eager launches before that copy are the loop's
// bookkeeping between steps (transformers' input preparation after the
// sync that read the last token), which the GPU runs at the host's pace:
// in a step they would add the host's time to its span.
func replayStart(l []launch, p piece) int {
	start := -1
	for i := p.a; i < p.b; i++ {
		switch {
		case l[i].graph():
			return max(start, p.a)
		case start < 0 && l[i].copies():
			start = i
		}
	}
	return p.a
}

// pickCluster is the repeating phase's cluster: among those with at least
// minRepeats members, the heaviest (most GPU ops) of the surest kind that
// holds at least half the work of the heaviest overall. Graph launches in a
// fixed pattern are the surest sign of a step; an eager repeat that copies
// memory comes next; then groups of runs repeating in a fixed pattern (a
// group holds the runs of a repeating single run's cluster and more: the
// whole iteration); whole runs between synchronisations last, because a
// run can as well be a request of many steps as one step. Ties go to the
// lower key, so the choice is deterministic.
func pickCluster(clusters map[string]*cluster, minRepeats int) *cluster {
	var all []*cluster
	for _, c := range clusters {
		if len(c.members) >= minRepeats && c.weight > 0 {
			all = append(all, c)
		}
	}
	if len(all) == 0 {
		return nil
	}
	slices.SortFunc(all, func(a, b *cluster) int {
		return cmp.Or(cmp.Compare(b.weight, a.weight), cmp.Compare(a.key, b.key))
	})
	for _, kind := range []byte{'g', 'e', 'p', 's'} {
		for _, c := range all {
			if c.kind == kind && 2*c.weight >= all[0].weight {
				return c
			}
		}
	}
	return all[0]
}

// methodOf names how the chosen cluster found its steps: graph launches
// mark them (also when each step is a run of its own that replays a graph),
// host synchronisations end them, or an eager sequence repeats.
func methodOf(procs []procLaunches, c *cluster) string {
	switch c.kind {
	case 'g':
		return StepsGraph
	case 'e':
		return StepsRepeat
	}
	for _, m := range c.members {
		if !slices.ContainsFunc(procs[m.proc].launches[m.a:m.b], launch.graph) {
			return StepsSync
		}
	}
	return StepsGraph
}

func opsOf(procs []procLaunches, p piece) int64 {
	var n int64
	for _, x := range procs[p.proc].launches[p.a:p.b] {
		n += x.ops()
	}
	return n
}

func nsOf(procs []procLaunches, p piece) int64 { return nsOfLaunches(procs[p.proc].launches, p) }

func nsOfLaunches(l []launch, p piece) int64 {
	var ns int64
	for _, x := range l[p.a:p.b] {
		ns += int64(x.ns)
	}
	return ns
}

// countIn counts the sorted ids in [lo, hi].
func countIn(ids []uint32, lo, hi uint32) int {
	i, _ := slices.BinarySearch(ids, lo)
	j := i
	for j < len(ids) && ids[j] <= hi {
		j++
	}
	return j - i
}
