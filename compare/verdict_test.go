package compare

import "testing"

func TestWorst(t *testing.T) {
	for _, tc := range []struct {
		vs   []Verdict
		want Verdict
	}{
		{nil, Pass},
		{[]Verdict{Pass, Warn, Pass}, Warn},
		{[]Verdict{Pass, Accepted}, Accepted},
		{[]Verdict{Accepted, Warn}, Warn},
		{[]Verdict{NoBaseline, NotComparable}, NotComparable},
		{[]Verdict{Pass, Missing, NotComparable}, Missing},
		{[]Verdict{Missing, Fail}, Fail},
		// A verdict this gate does not know is never read as a pass.
		{[]Verdict{Pass, "forged"}, "forged"},
	} {
		if got := Worst(tc.vs...); got != tc.want {
			t.Errorf("Worst(%v) = %s, want %s", tc.vs, got, tc.want)
		}
	}
}
