package parse

import (
	"slices"

	"github.com/nsys-gate/gate/internal/stats"
	"github.com/nsys-gate/gate/parse/internal/timeline"
)

// statOf summarises values; it sorts a copy, leaving values in step order.
func statOf[T stats.Number](values []T) Stat {
	if len(values) == 0 {
		return Stat{}
	}
	s := append([]T(nil), values...)
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

// statBy summarises f of each of xs: a column of a phase's samples.
func statBy[S any, T stats.Number](xs []S, f func(S) T) Stat {
	v := make([]T, len(xs))
	for i, x := range xs {
		v[i] = f(x)
	}
	return statOf(v)
}

// longestGaps keeps the n longest gaps, longest first, ties by earlier
// start.
func longestGaps(gaps []Gap, n int) []Gap {
	t := timeline.TopGaps{N: n}
	for _, g := range gaps {
		t.Push(timeline.Gap{Start: g.StartNs, Len: g.Ns})
	}
	return gapList(t.List())
}

// gapList converts timeline gaps to the summary's; nil for none.
func gapList(gaps []timeline.Gap) []Gap {
	if len(gaps) == 0 {
		return nil
	}
	out := make([]Gap, len(gaps))
	for i, g := range gaps {
		out[i] = Gap{StartNs: g.Start, Ns: g.Len}
	}
	return out
}

// ratio returns a/b, or 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
