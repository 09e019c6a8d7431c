package stats

import (
	"math"
	"testing"
)

func TestMedian(t *testing.T) {
	for _, tt := range []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{7}, 7},
		{[]float64{1, 2, 10}, 2},
		{[]float64{1, 2, 3, 10}, 2.5},
	} {
		if got := Median(tt.in); got != tt.want {
			t.Errorf("Median(%v) = %g, want %g", tt.in, got, tt.want)
		}
	}
	if got := Median([]int64{3, 4}); got != 3.5 {
		t.Errorf("Median of int64 3, 4 = %g", got)
	}
}

// The percentiles are numpy's: numpy.percentile([1, 2, 3, 4, 10], [0, 10,
// 50, 90, 99, 100]) = [1, 1.4, 3, 7.6, 9.76, 10].
func TestPercentileIsNumpys(t *testing.T) {
	xs := []int64{1, 2, 3, 4, 10}
	for q, want := range map[float64]float64{0: 1, 0.1: 1.4, 0.5: 3, 0.9: 7.6, 0.99: 9.76, 1: 10} {
		if got := Percentile(xs, q); math.Abs(got-want) > 1e-9 {
			t.Errorf("Percentile(%v, %g) = %g, want %g", xs, q, got, want)
		}
	}
	if Percentile([]float64(nil), 0.9) != 0 || Percentile([]float64{5}, 0.9) != 5 {
		t.Error("empty or single-sample percentiles")
	}
	for _, s := range [][]float64{{1}, {1, 2}, {1, 2, 4}, {0.5, 1, 1, 9}} {
		if Percentile(s, 0.5) != Median(s) {
			t.Errorf("Percentile(%v, 0.5) != Median", s)
		}
	}
}

func TestMeanAndSorted(t *testing.T) {
	if Mean([]float64{}) != 0 || Mean([]int{1, 2, 6}) != 3 {
		t.Error("Mean")
	}
	xs := []float64{3, 1, 2}
	s := Sorted(xs)
	if s[0] != 1 || s[2] != 3 || xs[0] != 3 {
		t.Errorf("Sorted(%v) = %v", xs, s)
	}
}
