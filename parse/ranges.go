package parse

import (
	"context"
	"fmt"
	"sort"
)

// NVTX_EVENTS eventTypes: push/pop and start/end ranges, and the creation
// of a domain (whose text names it).
const (
	nvtxPushPop     = 59
	nvtxStartEnd    = 60
	nvtxDomainMaker = 75
)

// nvtxRange is one NVTX range (push/pop, or start/end on the thread that
// started it) and what was projected onto it.
type nvtxRange struct {
	name       string
	domain     string // its NVTX domain's name; DefaultDomain for the default
	tid        int64  // globalTid
	start, end int64
	parent     int32 // enclosing range on the same thread, -1 for none
	step       int32 // index into profile.steps of the nearest step range at or above, -1
	// proj* is the projection exactly as nsys stats -r nvtxgpuproj makes it:
	// kernels, memcpys and memsets, never graph-trace rows.
	projStart, projEnd int64
	projOps            int // distinct correlation ids
	// span* also counts graph-trace replays: the GPU work gate measures.
	spanStart, spanEnd int64
	spanOps            int
}

// threadRanges are one thread's ranges sorted by (start, end descending), so
// that the last range starting at or before t is the innermost candidate.
type threadRanges struct {
	idx    []int32
	starts []int64
}

// readRanges reads the push/pop and start/end ranges with both ends. A
// start/end range belongs to the thread that started it (it may end on
// another); a push/pop range popped on another thread than it was pushed on
// is not one. Ranges that never ended are skipped and counted by name; so
// are ranges with impossible times (into bad, by table).
func readRanges(ctx context.Context, s *schema, bad map[string]int) (ranges []nvtxRange, unended map[string]int, err error) {
	unended = map[string]int{}
	if !s.has(tNVTX) {
		return nil, unended, nil
	}
	text := "NULL"
	if s.hasColumn(ctx, tNVTX, "text") {
		text = "n.text"
	}
	join := ""
	if s.hasColumn(ctx, tNVTX, "textId") && s.has(tStrings) {
		text = "coalesce(" + text + ", s.value)"
		join = " LEFT JOIN " + tStrings + " s ON s.id = n.textId"
	}
	sameThread := ""
	if s.hasColumn(ctx, tNVTX, "endGlobalTid") {
		sameThread = fmt.Sprintf(" AND (n.eventType = %d OR n.endGlobalTid IS NULL OR n.endGlobalTid = n.globalTid)", nvtxStartEnd)
	}
	domains, err := readDomains(ctx, s, text, join)
	if err != nil {
		return nil, nil, err
	}
	domain := "0"
	if s.hasColumn(ctx, tNVTX, "domainId") {
		domain = "n.domainId"
	}
	q := fmt.Sprintf(`SELECT n.start, n.end, n.globalTid, %s, %s FROM %s n%s WHERE n.eventType IN (%d, %d)%s`,
		text, domain, tNVTX, join, nvtxPushPop, nvtxStartEnd, sameThread)
	rows, err := s.db.Query(ctx, q)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", tNVTX, sqliteErr(err))
	}
	for rows.Next() {
		if rows.IsNull(1) || rows.IsNull(2) {
			unended[rows.Text(3)]++
			continue
		}
		r := nvtxRange{start: rows.Int64(0), end: rows.Int64(1), tid: rows.Int64(2), name: rows.Text(3), parent: -1, step: -1}
		r.domain = domains.name(processOf(r.tid), rows.Int64(4))
		if rows.IsNull(0) || impossible(r.start, r.end) {
			bad[tNVTX]++
			continue
		}
		ranges = append(ranges, r)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", tNVTX, sqliteErr(err))
	}
	// A deterministic order: by thread, start, longest first.
	sort.SliceStable(ranges, func(i, j int) bool {
		a, b := &ranges[i], &ranges[j]
		if a.tid != b.tid {
			return a.tid < b.tid
		}
		if a.start != b.start {
			return a.start < b.start
		}
		return a.end > b.end
	})
	return ranges, unended, nil
}

// nest links each range to its enclosing range on the same thread and
// returns per-thread lookup tables. Push/pop ranges nest properly on a
// thread, so a stack over the sorted ranges finds the parents.
func nest(ranges []nvtxRange) map[int64]*threadRanges {
	byTid := map[int64]*threadRanges{}
	var stack []int32
	var tid int64
	for i := range ranges {
		r := &ranges[i]
		if i == 0 || r.tid != tid {
			stack = stack[:0]
			tid = r.tid
		}
		for len(stack) > 0 {
			top := &ranges[stack[len(stack)-1]]
			if r.start >= top.start && r.end <= top.end {
				break
			}
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 {
			r.parent = stack[len(stack)-1]
		}
		stack = append(stack, int32(i))
		tr := byTid[r.tid]
		if tr == nil {
			tr = &threadRanges{}
			byTid[r.tid] = tr
		}
		tr.idx = append(tr.idx, int32(i))
		tr.starts = append(tr.starts, r.start)
	}
	return byTid
}

// innermost returns the innermost range of the thread that contains the
// whole call [start, end], or -1. This is nsys's containment rule: the range
// starts at or before the call and ends at or after it.
func innermost(ranges []nvtxRange, tr *threadRanges, start, end int64) int32 {
	if tr == nil {
		return -1
	}
	i := sort.Search(len(tr.starts), func(i int) bool { return tr.starts[i] > start }) - 1
	if i < 0 {
		return -1
	}
	for r := tr.idx[i]; r >= 0; r = ranges[r].parent {
		if ranges[r].end >= end {
			return r
		}
	}
	return -1
}

// DefaultDomain names NVTX's default domain (Options.Domain).
const DefaultDomain = "default"

// domainNames maps (process, domainId) to the name the process gave the
// domain when it created it.
type domainNames map[[2]int64]string

func (d domainNames) name(pid, id int64) string {
	if id == 0 {
		return DefaultDomain
	}
	if n, ok := d[[2]int64{pid, id}]; ok {
		return n
	}
	return fmt.Sprintf("domain %d", id)
}

// readDomains reads the domains the processes created (text and join as
// readRanges selects a range's text).
func readDomains(ctx context.Context, s *schema, text, join string) (domainNames, error) {
	d := domainNames{}
	if !s.hasColumn(ctx, tNVTX, "domainId") {
		return d, nil
	}
	q := fmt.Sprintf(`SELECT n.globalTid, n.domainId, %s FROM %s n%s WHERE n.eventType = %d`, text, tNVTX, join, nvtxDomainMaker)
	rows, err := s.db.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tNVTX, sqliteErr(err))
	}
	for rows.Next() {
		if !rows.IsNull(2) {
			d[[2]int64{processOf(rows.Int64(0)), rows.Int64(1)}] = rows.Text(2)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", tNVTX, sqliteErr(err))
	}
	return d, nil
}
