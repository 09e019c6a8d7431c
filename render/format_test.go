package render

import (
	"math"
	"testing"

	"github.com/nsys-gate/gate/compare"
)

func TestFmtValue(t *testing.T) {
	for _, c := range []struct {
		v    float64
		unit string
		want string
	}{
		{0, "ns", "0 s"},
		{850, "ns", "850 ns"},
		{1174108, "ns", "1.17 ms"},
		{18208943, "ns", "18.2 ms"},
		{5.59e9, "ns", "5.59 s"},
		{-2500, "ns", "-2.5 µs"},
		{512, "bytes", "512 B"},
		{65700, "bytes", "65.7 kB"},
		{1.08e9, "bytes", "1.08 GB"},
		{6.94e9, "bps", "6.94 GB/s"},
		{4.814e12, "bps", "4.81 TB/s"},
		{97.35, "pct", "97.3%"},
		{0.021, "count", "0.021"},
		{1584, "count", "1,584"},
		{1.02, "count", "1.02"},
		{312.4, "count", "312"},
		{10850, "tok/s", "10,850 tok/s"},
		{math.NaN(), "ns", "n/a"},
		{1e300, "count", "1e+300"},
		{-2e18, "count", "-2e+18"},
		{math.Inf(1), "bytes", "∞"},
	} {
		if got := fmtValue(c.v, compare.Unit(c.unit)); got != c.want {
			t.Errorf("fmtValue(%v, %q) = %q, want %q", c.v, c.unit, got, c.want)
		}
	}
}

func TestFmtDelta(t *testing.T) {
	m := func(unit string, base, head float64) compare.Metric {
		x := compare.Metric{Unit: compare.Unit(unit), Base: base, Head: head, Delta: head - base, HasBase: true, HasHead: true}
		if base != 0 {
			x.DeltaPct = (head - base) / base * 100
		}
		return x
	}
	for _, c := range []struct {
		m    compare.Metric
		want string
	}{
		{m("ns", 1174108, 1440315), "+22.7%"},
		{m("ns", 18208943, 17464274), "-4.1%"},
		{m("count", 0.021, 1), "+0.979"},
		{m("count", 5, 5), "0.0%"},
		{m("pct", 93.4, 0), "-93.4 pp"},
		{m("pct", 88.1, 88.12), "+0.0 pp"},
		{m("count", 0, 3), "+3"},
		{m("count", 0, 0), "0"},
		{compare.Metric{Unit: "ns", HasHead: true, Head: 5}, "—"},
	} {
		if got := fmtDelta(c.m); got != c.want {
			t.Errorf("fmtDelta(%s %v → %v) = %q, want %q", c.m.Unit, c.m.Base, c.m.Head, got, c.want)
		}
	}
}

func TestFmtCI(t *testing.T) {
	for _, c := range []struct {
		m    compare.Metric
		want string
	}{
		{compare.Metric{Kind: compare.Exact}, "exact"},
		{compare.Metric{Kind: compare.Stat}, ""},
		{compare.Metric{Kind: compare.Stat, CI: &compare.Interval{Lo: 22.1, Hi: 23.4}, P: 1e-9}, "[+22.1%, +23.4%] p<0.001"},
		{compare.Metric{Kind: compare.Stat, CI: &compare.Interval{Lo: -8.1, Hi: 3.2}, P: 0.33}, "[-8.1%, +3.2%] p=0.330"},
		{compare.Metric{Kind: compare.Stat, Unit: "pct", CI: &compare.Interval{Lo: -28, Hi: -27.5}}, "rel. [-28.0%, -27.5%]"},
	} {
		if got := fmtCI(c.m); got != c.want {
			t.Errorf("fmtCI = %q, want %q", got, c.want)
		}
	}
}

func TestSegments(t *testing.T) {
	got := segments("kernels." + compare.Segment("a.b*c d%") + ".total")
	if len(got) != 3 || got[1] != "a.b*c d%" {
		t.Errorf("segments did not undo compare.Segment: %q", got)
	}
}
