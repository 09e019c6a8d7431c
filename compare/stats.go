package compare

import (
	"math"
	"strings"

	"golang.org/x/perf/benchmath"
)

// alpha is the significance level of the Mann-Whitney U test.
const alpha = 0.05

// sideConfidence is the confidence of each side's median interval. Two
// intervals at 97.5% hold together with probability at least 95%
// (Bonferroni), which is the confidence the change interval reports.
const sideConfidence = 0.975

// statResult is what benchmath says about two samples.
type statResult struct {
	baseMedian, headMedian float64
	p                      float64
	ci                     *Interval
	// tooFew holds benchmath's warnings when the samples are too small for
	// the U test to reach significance at Alpha.
	tooFew []string
}

// compareSamples compares per-step samples without distributional
// assumptions (benchmath.AssumeNothing): medians, a two-sided Mann-Whitney U
// test, and an interval for the relative change of the median.
//
// The interval: benchmath gives each side's median a distribution-free
// confidence interval [lo, hi] at 97.5%. If both hold, the ratio of head's
// median to base's lies in [headLo/baseHi, headHi/baseLo]; the interval is
// that ratio minus one, in percent, and holds with probability at least
// Confidence = confBase + confHead - 1 (>= 95%). It is conservative (wider
// than an interval built for the difference itself) and nil when either
// side has too few samples for a finite median interval (fewer than 7 at
// 97.5%) or the base interval reaches zero.
func compareSamples(base, head []float64) statResult {
	th := benchmath.DefaultThresholds
	th.CompareAlpha = alpha
	sb := benchmath.NewSample(append([]float64(nil), base...), &th)
	sh := benchmath.NewSample(append([]float64(nil), head...), &th)
	a := benchmath.AssumeNothing
	smB := a.Summary(sb, sideConfidence)
	smH := a.Summary(sh, sideConfidence)
	cmp := a.Compare(sb, sh)
	r := statResult{baseMedian: smB.Center, headMedian: smH.Center, p: cmp.P}
	if allEqual(sb.Values, sh.Values) {
		// The U test refuses identical samples; there is no change to find.
		r.p = 1
	} else {
		for _, w := range cmp.Warnings {
			r.tooFew = append(r.tooFew, w.Error())
		}
	}
	finite := func(x float64) bool { return !math.IsInf(x, 0) && !math.IsNaN(x) }
	if finite(smB.Lo) && finite(smB.Hi) && finite(smH.Lo) && finite(smH.Hi) && smB.Lo > 0 && smB.Hi > 0 {
		r.ci = &Interval{
			Lo:         (smH.Lo/smB.Hi - 1) * 100,
			Hi:         (smH.Hi/smB.Lo - 1) * 100,
			Confidence: smB.Confidence + smH.Confidence - 1,
		}
	}
	return r
}

func (r statResult) tooFewNote() string {
	return strings.Join(r.tooFew, "; ")
}

// allEqual reports whether every value of a and b is the same number.
func allEqual(a, b []float64) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	v := a[0]
	for _, x := range a {
		if x != v {
			return false
		}
	}
	for _, x := range b {
		if x != v {
			return false
		}
	}
	return true
}
