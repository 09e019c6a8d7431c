package timeline

import "slices"

// Union is the length of a union of intervals that arrive in start order:
// a running total and the end of what it covers so far. With Gaps set it
// also keeps the longest gaps between the intervals.
type Union struct {
	Gaps       *TopGaps // nil: no gaps kept
	any        bool
	first, end int64 // start of the first interval, end of the union so far
	total      int64
}

// Add extends the union with [s, e); s must not be below the previous s.
// Empty intervals add nothing, and split no gap.
func (u *Union) Add(s, e int64) {
	if e <= s {
		return
	}
	if !u.any {
		u.any, u.first, u.end = true, s, s
	}
	if s > u.end {
		if u.Gaps != nil {
			u.Gaps.Push(Gap{Start: u.end, Len: s - u.end})
		}
		u.end = s
	}
	if e > u.end {
		u.total += e - u.end
		u.end = e
	}
}

// Len is the length of the union.
func (u *Union) Len() int64 { return u.total }

// Window returns the union's length and the longest gaps inside [lo, hi],
// counting the idle time before the first interval and after the last. The
// intervals must lie inside [lo, hi]. Call it once, after the last Add.
func (u *Union) Window(lo, hi int64) (int64, []Gap) {
	if u.Gaps == nil {
		u.Gaps = &TopGaps{}
	}
	end := lo
	if u.any {
		if u.first > lo {
			u.Gaps.Push(Gap{Start: lo, Len: u.first - lo})
		}
		end = u.end
	}
	if hi > end {
		u.Gaps.Push(Gap{Start: end, Len: hi - end})
	}
	return u.total, u.Gaps.List()
}

// Gap is an interval that no interval of a union covers.
type Gap struct {
	Start, Len int64
}

// TopGaps keeps the N longest gaps pushed to it in one pass (a window can
// have hundreds of thousands): longest first, ties by earlier start, so the
// result does not depend on the order gaps come in.
type TopGaps struct {
	N   int // how many to keep; 5 when 0
	top []Gap
}

// Push offers one gap.
func (t *TopGaps) Push(g Gap) {
	n := t.N
	if n == 0 {
		n = 5
	}
	better := func(a, b Gap) bool {
		if a.Len != b.Len {
			return a.Len > b.Len
		}
		return a.Start < b.Start
	}
	if len(t.top) == n && !better(g, t.top[n-1]) {
		return
	}
	i := len(t.top)
	for i > 0 && better(g, t.top[i-1]) {
		i--
	}
	t.top = slices.Insert(t.top, i, g)
	if len(t.top) > n {
		t.top = t.top[:n]
	}
}

// List returns the gaps kept, longest first; nil for none.
func (t *TopGaps) List() []Gap {
	if len(t.top) == 0 {
		return nil
	}
	return t.top
}
