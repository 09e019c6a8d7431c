package parse

import (
	"math"
	"testing"
)

// TestDurations: 32-bit storage and the switch to 64 bits when a kernel
// runs longer than 4.3 s give the statistics of the plain values.
func TestDurations(t *testing.T) {
	for _, vals := range [][]int64{
		{5, 1, 4, 2, 3},
		{7, math.MaxUint32, 3, math.MaxUint32 + 1, 5_000_000_000, 0},
	} {
		var d durations
		for _, v := range vals {
			d.add(v)
		}
		n, p50, p90, lo, hi := d.stats()
		want := statOf(vals)
		if n != len(vals) || p50 != want.P50 || p90 != want.P90 || float64(lo) != want.Min || float64(hi) != want.Max {
			t.Errorf("%v: n %d p50 %v p90 %v min %d max %d, want %+v", vals, n, p50, p90, lo, hi, want)
		}
	}
}
