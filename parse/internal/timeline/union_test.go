package timeline

import (
	"math/rand"
	"slices"
	"testing"
)

func TestUnionWindow(t *testing.T) {
	u := Union{Gaps: &TopGaps{}}
	for _, iv := range [][2]int64{{3, 5}, {10, 20}, {15, 30}, {30, 30}, {40, 44}} {
		u.Add(iv[0], iv[1])
	}
	busy, gaps := u.Window(2, 45)
	if busy != 2+20+4 || u.Len() != busy {
		t.Errorf("union = %d", busy)
	}
	// Longest first, ties by start; the idle time before the first and
	// after the last interval counts; the empty interval splits no gap.
	if want := []Gap{{30, 10}, {5, 5}, {2, 1}, {44, 1}}; !slices.Equal(gaps, want) {
		t.Errorf("gaps = %v, want %v", gaps, want)
	}
	var none Union
	if busy, gaps := none.Window(2, 45); busy != 0 || !slices.Equal(gaps, []Gap{{2, 43}}) {
		t.Errorf("no intervals: %d, %v", busy, gaps)
	}
}

// TestUnionRandom checks the running union and its gaps against a bitmap
// of covered nanoseconds, on random sorted intervals.
func TestUnionRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for iter := 0; iter < 300; iter++ {
		const span = 400
		var ivs [][2]int64
		for i := rng.Intn(20); i > 0; i-- {
			s := 10 + rng.Int63n(span-60)
			ivs = append(ivs, [2]int64{s, s + rng.Int63n(40)})
		}
		slices.SortFunc(ivs, func(a, b [2]int64) int { return int(a[0] - b[0]) })
		u := Union{Gaps: &TopGaps{N: 3}}
		var covered [span]bool
		for _, iv := range ivs {
			u.Add(iv[0], iv[1])
			for x := iv[0]; x < iv[1]; x++ {
				covered[x] = true
			}
		}
		busy, gaps := u.Window(0, span)
		var want int64
		var all TopGaps
		all.N = 3
		for x := int64(0); x < span; {
			if covered[x] {
				want++
				x++
				continue
			}
			g := Gap{Start: x}
			for x < span && !covered[x] {
				x++
				g.Len++
			}
			all.Push(g)
		}
		if busy != want || !slices.Equal(gaps, all.List()) {
			t.Fatalf("iter %d %v: busy %d gaps %v, want %d %v", iter, ivs, busy, gaps, want, all.List())
		}
	}
}
