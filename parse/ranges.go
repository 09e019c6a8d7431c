package parse

import (
	"context"
	"fmt"
	"sort"
)

// nvtxPushPop is the NVTX_EVENTS eventType of push/pop ranges.
const nvtxPushPop = 59

// nvtxRange is one push/pop range and what was projected onto it.
type nvtxRange struct {
	name       string
	tid        int64 // globalTid
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

// readRanges reads the push/pop ranges with both ends. Ranges that never
// ended are skipped and counted; so are ranges with impossible times (into
// bad, by table).
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
		sameThread = " AND (n.endGlobalTid IS NULL OR n.endGlobalTid = n.globalTid)"
	}
	q := fmt.Sprintf(`SELECT n.start, n.end, n.globalTid, %s FROM %s n%s WHERE n.eventType = %d%s`,
		text, tNVTX, join, nvtxPushPop, sameThread)
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
