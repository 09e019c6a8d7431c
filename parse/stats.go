package parse

import (
	"slices"

	"github.com/nsys-gate/gate/internal/stats"
)

// statOf summarises values; it sorts a copy, leaving values in step order.
func statOf(values []int64) Stat {
	if len(values) == 0 {
		return Stat{}
	}
	s := append([]int64(nil), values...)
	slices.Sort(s)
	var sum float64
	for _, v := range s {
		sum += float64(v)
	}
	return Stat{
		P50:  stats.Median(s),
		P90:  stats.Percentile(s, 0.9),
		Mean: sum / float64(len(s)),
		Min:  float64(s[0]),
		Max:  float64(s[len(s)-1]),
	}
}

// longestGaps keeps the n longest gaps, longest first, ties by earlier
// start.
func longestGaps(gaps []Gap, n int) []Gap {
	t := gapTop{n: n}
	for _, g := range gaps {
		t.push(g)
	}
	return t.list()
}

// gapTop selects the longest gaps in one pass (a window can have hundreds
// of thousands): longest first, ties by earlier start, so the result does
// not depend on the order gaps come in.
type gapTop struct {
	n   int // how many to keep; maxGaps when 0
	top []Gap
}

func (t *gapTop) push(g Gap) {
	n := t.n
	if n == 0 {
		n = maxGaps
	}
	better := func(a, b Gap) bool {
		if a.Ns != b.Ns {
			return a.Ns > b.Ns
		}
		return a.StartNs < b.StartNs
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

// list returns the gaps kept, nil for none.
func (t *gapTop) list() []Gap {
	if len(t.top) == 0 {
		return nil
	}
	return t.top
}

// ratio returns a/b, or 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
