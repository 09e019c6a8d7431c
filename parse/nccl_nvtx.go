package parse

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
)

// resolveGeneric names the collective behind ncclDevKernel_Generic kernels
// from NCCL's own NVTX ranges. NCCL wraps every API call in a push/pop range
// named after it (ncclAllReduce, ncclAllGather, ncclSend, ... in the NCCL
// domain) and, outside a group, launches the kernel inside that call; so the
// innermost nccl* range around the CUDA call that launched a generic kernel
// (same thread, joined on correlationId within the process) says which
// collective it served; inside ncclGroupEnd, the calls made since
// ncclGroupStart say it, when they all name one collective. Generic kernels
// launched elsewhere (a group of several collectives, the replay of a CUDA
// graph that captured the collective) stay Generic. The time and count moved are taken off the Generic collective
// and added to the named one in c; shares are of kernelNs.
func resolveGeneric(ctx context.Context, db *sql.DB, c *Communication, kernelNs, lo, hi int64) error {
	gi := -1
	for i, k := range c.Collectives {
		if k.Name == CollGeneric {
			gi = i
		}
	}
	if gi < 0 {
		return nil
	}
	kcols, err := exportColumns(ctx, db, tKernel)
	if err != nil {
		return err
	}
	rcols, err := exportColumns(ctx, db, tRuntime)
	if err != nil {
		return err
	}
	ncols, err := exportColumns(ctx, db, tNVTX)
	if err != nil {
		return err
	}
	if !kcols["shortName"] || !kcols["correlationId"] || !kcols["globalPid"] ||
		!rcols["correlationId"] || !rcols["globalTid"] || !ncols["globalTid"] || !ncols["eventType"] {
		return nil
	}
	text := "n.text"
	switch {
	case ncols["text"] && ncols["textId"]:
		text = "COALESCE(n.text, s.value)"
	case ncols["textId"]:
		text = "s.value"
	case !ncols["text"]:
		return nil
	}
	ranges, err := ncclRanges(ctx, db, text)
	if err != nil || len(ranges) == 0 {
		return err
	}

	// The generic kernels in the window and the start of the call that
	// launched each.
	q := fmt.Sprintf(`SELECT r.globalTid, r.start, k.end - k.start
		FROM %[1]s k JOIN %[2]s r ON r.correlationId = k.correlationId AND (r.globalTid >> 24) = (k.globalPid >> 24)
		WHERE k.end > ?1 AND k.start < ?2 AND k.shortName IN (SELECT id FROM %[3]s WHERE value LIKE 'ncclDevKernel_Generic%%' OR value LIKE 'ncclKernel_Generic%%')`,
		tKernel, tRuntime, tStrings)
	if hi <= lo {
		lo, hi = 0, 1<<62
	}
	rows, err := db.QueryContext(ctx, q, lo, hi)
	if err != nil {
		return fmt.Errorf("generic NCCL kernels: %w", err)
	}
	defer rows.Close()
	moved := map[string]*Collective{}
	for rows.Next() {
		var tid, start, dur int64
		if err := rows.Scan(&tid, &start, &dur); err != nil {
			return fmt.Errorf("generic NCCL kernels: %w", err)
		}
		name := innermostCollective(ranges[tid], start)
		if name == "" {
			continue
		}
		m := moved[name]
		if m == nil {
			m = &Collective{Name: name}
			moved[name] = m
		}
		m.Count++
		m.TimeNs += dur
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("generic NCCL kernels: %w", err)
	}

	generic := &c.Collectives[gi]
	for _, name := range sortedKeys(moved) {
		m := moved[name]
		// The window filter here and the parser's scope may differ at the
		// edges: never move more than the Generic collective holds.
		m.Count = min(m.Count, generic.Count)
		m.TimeNs = min(m.TimeNs, generic.TimeNs)
		generic.Count -= m.Count
		generic.TimeNs -= m.TimeNs
		found := false
		for i := range c.Collectives {
			if c.Collectives[i].Name == name {
				c.Collectives[i].Count += m.Count
				c.Collectives[i].TimeNs += m.TimeNs
				found = true
			}
		}
		if !found {
			c.Collectives = append(c.Collectives, *m)
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
	return nil
}

// ncclRange is one NCCL API call's NVTX range and the collective it names;
// group marks ncclGroupStart (+1) and ncclGroupEnd (-1).
type ncclRange struct {
	start, end int64
	coll       string
	group      int
}

// ncclRanges reads the NVTX ranges whose name starts with "nccl", by thread,
// each thread's sorted by start. Ranges that name no collective
// (ncclGroupStart/End, ncclCommInitRank) are kept: they delimit groups, and
// they are the innermost range of the launches they contain.
func ncclRanges(ctx context.Context, db *sql.DB, text string) (map[int64][]ncclRange, error) {
	q := fmt.Sprintf(`SELECT n.globalTid, n.start, n.end, %s FROM %s n LEFT JOIN %s s ON s.id = n.textId
		WHERE n.eventType IN (59, 60) AND n.end IS NOT NULL AND %s LIKE 'nccl%%'`, text, tNVTX, tStrings, text)
	if !strings.Contains(text, "s.value") {
		q = fmt.Sprintf(`SELECT n.globalTid, n.start, n.end, %s FROM %s n
		WHERE n.eventType IN (59, 60) AND n.end IS NOT NULL AND %s LIKE 'nccl%%'`, text, tNVTX, text)
	}
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tNVTX, err)
	}
	defer rows.Close()
	out := map[int64][]ncclRange{}
	for rows.Next() {
		var tid sql.NullInt64
		var r ncclRange
		var name string
		if err := rows.Scan(&tid, &r.start, &r.end, &name); err != nil {
			return nil, fmt.Errorf("%s: %w", tNVTX, err)
		}
		if !tid.Valid {
			continue
		}
		switch c := CollectiveOf(name); c {
		case "", CollOther, CollGeneric:
		default:
			r.coll = c
		}
		switch {
		case strings.HasPrefix(name, "ncclGroupStart"):
			r.group = +1
		case strings.HasPrefix(name, "ncclGroupEnd"):
			r.group = -1
		}
		out[tid.Int64] = append(out[tid.Int64], r)
	}
	for _, rs := range out {
		sort.Slice(rs, func(i, j int) bool { return rs[i].start < rs[j].start })
	}
	return out, rows.Err()
}

// innermostCollective returns the collective of the innermost range in rs
// (sorted by start) that contains t, or "". Nested ranges: the containing
// range that started last is the innermost; the search looks back a few
// ranges only, as NCCL's do not nest deeply. When that range is an
// ncclGroupEnd (a group launches its kernels there), the collective is that
// of the calls made since the ncclGroupStart before it, if they all name
// the same one.
func innermostCollective(rs []ncclRange, t int64) string {
	i := sort.Search(len(rs), func(i int) bool { return rs[i].start > t }) - 1
	for n := 0; i >= 0 && n < 16; i, n = i-1, n+1 {
		if rs[i].end < t {
			continue
		}
		if rs[i].group >= 0 {
			return rs[i].coll
		}
		coll := ""
		for j := i - 1; j >= 0 && rs[j].group != +1; j-- {
			switch {
			case rs[j].end > rs[i].start || rs[j].group < 0:
				return "" // not a plain sequence of calls: do not guess
			case rs[j].coll == "":
			case coll == "":
				coll = rs[j].coll
			case coll != rs[j].coll:
				return "" // a group of several collectives
			}
		}
		return coll
	}
	return ""
}
