package parse

import (
	"cmp"
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

// interval is a half-open span of GPU time [start, end).
type interval struct{ start, end int64 }

// unionLength sorts ivs by start (in place) and returns the length of their
// union clipped to [lo, hi], plus the gaps between merged intervals inside
// the clip window (including leading and trailing idle time) when gaps is
// not nil.
func unionLength(ivs []interval, lo, hi int64, gaps *[]Gap) int64 {
	slices.SortFunc(ivs, func(a, b interval) int {
		if c := cmp.Compare(a.start, b.start); c != 0 {
			return c
		}
		return cmp.Compare(a.end, b.end)
	})
	var busy int64
	cur := lo // end of the merged union so far
	for _, iv := range ivs {
		s, e := iv.start, iv.end
		if s < lo {
			s = lo
		}
		if e > hi {
			e = hi
		}
		if e <= s {
			continue
		}
		if s > cur {
			if gaps != nil {
				*gaps = append(*gaps, Gap{StartNs: cur, Ns: s - cur})
			}
			cur = s
		}
		if e > cur {
			busy += e - cur
			cur = e
		}
	}
	if gaps != nil && hi > cur {
		*gaps = append(*gaps, Gap{StartNs: cur, Ns: hi - cur})
	}
	return busy
}

// longestGaps keeps the n longest gaps, longest first, ties by earlier
// start. It selects in one pass: a window can have hundreds of thousands of
// gaps.
func longestGaps(gaps []Gap, n int) []Gap {
	better := func(a, b Gap) bool {
		if a.Ns != b.Ns {
			return a.Ns > b.Ns
		}
		return a.StartNs < b.StartNs
	}
	top := make([]Gap, 0, n+1)
	for _, g := range gaps {
		if len(top) == n && !better(g, top[n-1]) {
			continue
		}
		i := len(top)
		for i > 0 && better(g, top[i-1]) {
			i--
		}
		top = slices.Insert(top, i, g)
		if len(top) > n {
			top = top[:n]
		}
	}
	if len(top) == 0 {
		return nil
	}
	return top
}

// ratio returns a/b, or 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
