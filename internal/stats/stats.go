// Package stats holds the few order statistics gate computes itself: the
// median and percentiles of per-step times (as nsys stats and numpy
// compute them) and a mean. The hypothesis tests and confidence intervals
// come from golang.org/x/perf/benchmath, not from here.
package stats

import "slices"

// Number is what the helpers summarise: durations in ns (uint32 where the
// parser packs kernel durations), counts, samples.
type Number interface {
	~int | ~int64 | ~uint32 | ~float64
}

// Median is the median of sorted as nsys stats computes it: the middle
// value, or the mean of the two middle values for an even count; 0 for
// none.
func Median[T Number](sorted []T) float64 {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return float64(sorted[n/2])
	}
	return (float64(sorted[n/2-1]) + float64(sorted[n/2])) / 2
}

// Percentile is the q-quantile (q in 0..1: 0.9 is the 90th percentile) of
// sorted with linear interpolation between closest ranks, numpy's default
// and vLLM's benchmarks' method, so that Percentile(s, 0.5) == Median(s);
// 0 for none.
func Percentile[T Number](sorted []T, q float64) float64 {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := q * float64(n-1)
	lo := int(rank)
	hi := min(lo+1, n-1)
	frac := rank - float64(lo)
	return float64(sorted[lo]) + (float64(sorted[hi])-float64(sorted[lo]))*frac
}

// Mean is the arithmetic mean of xs; 0 for none.
func Mean[T Number](xs []T) float64 {
	if len(xs) == 0 {
		return 0
	}
	var sum float64
	for _, x := range xs {
		sum += float64(x)
	}
	return sum / float64(len(xs))
}

// Sorted returns a sorted copy of xs, leaving xs in its order.
func Sorted[T Number](xs []T) []T {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s
}
