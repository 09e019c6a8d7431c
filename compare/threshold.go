package compare

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ThresholdKind says how a threshold measures a change.
type ThresholdKind int

const (
	// Relative thresholds ("5%") measure the change relative to the base value.
	Relative ThresholdKind = iota + 1
	// Points thresholds ("1pp") measure the change of a percentage metric in
	// percentage points.
	Points
	// Absolute thresholds ("10us", "1MB", "3") measure the change in the
	// metric's unit. A bare number is in whatever unit the metric has.
	Absolute
)

func (k ThresholdKind) String() string {
	switch k {
	case Relative:
		return "relative"
	case Points:
		return "points"
	case Absolute:
		return "absolute"
	}
	return "invalid"
}

// Threshold is a parsed warn, fail or floor string of a Rule.
type Threshold struct {
	Kind ThresholdKind
	// Value is percent for Relative, points for Points, and for Absolute the
	// amount in the base unit of Unit (ns, bytes, bps) or the metric's own
	// unit when Unit is empty.
	Value float64
	// Unit is the base unit an absolute threshold is written in: "ns",
	// "bytes", "bps", or "" for a bare number.
	Unit Unit
	Text string
}

// unitScale maps a threshold suffix to its base unit and multiplier. Sizes are
// decimal (MB = 1e6 bytes) unless written with an "i" (MiB = 2^20 bytes), as
// Nsight Systems and most dashboards print them.
var unitScale = map[string]struct {
	unit  Unit
	scale float64
}{
	"ns": {"ns", 1}, "us": {"ns", 1e3}, "µs": {"ns", 1e3}, "ms": {"ns", 1e6}, "s": {"ns", 1e9},
	"B": {"bytes", 1}, "KB": {"bytes", 1e3}, "MB": {"bytes", 1e6}, "GB": {"bytes", 1e9},
	"KiB": {"bytes", 1 << 10}, "MiB": {"bytes", 1 << 20}, "GiB": {"bytes", 1 << 30},
	"B/s": {"bps", 1}, "KB/s": {"bps", 1e3}, "MB/s": {"bps", 1e6}, "GB/s": {"bps", 1e9}, "TB/s": {"bps", 1e12},
}

// ParseThreshold parses a threshold: "5%" (relative), "1pp" (percentage
// points), "10us", "2ms", "1MB", "5GB/s" (absolute with a unit) or "3" (absolute
// in the metric's unit, e.g. a count). Values must be finite and not negative.
func ParseThreshold(s string) (Threshold, error) {
	t := Threshold{Text: s}
	v := strings.TrimSpace(s)
	if v == "" {
		return t, fmt.Errorf("empty threshold")
	}
	num, suffix := splitNumber(v)
	if num == "" {
		return t, fmt.Errorf("threshold %q: want a number with an optional unit (5%%, 1pp, 10us, 1MB, 3)", s)
	}
	x, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		return t, fmt.Errorf("threshold %q: bad number %q", s, num)
	}
	if x < 0 {
		return t, fmt.Errorf("threshold %q: must not be negative (direction comes from \"better\")", s)
	}
	suffix = strings.TrimSpace(suffix)
	switch suffix {
	case "%":
		t.Kind, t.Value = Relative, x
	case "pp":
		t.Kind, t.Value = Points, x
	case "":
		t.Kind, t.Value = Absolute, x
	default:
		u, ok := unitScale[suffix]
		if !ok {
			return t, fmt.Errorf("threshold %q: unknown unit %q (want %%, pp, ns, us, ms, s, B, KB, MB, GB, KiB, MiB, GiB, B/s ... TB/s)", s, suffix)
		}
		t.Kind, t.Value, t.Unit = Absolute, x*u.scale, u.unit
	}
	return t, nil
}

// splitNumber splits a leading decimal number (no sign, optional fraction and
// exponent) from the rest of s.
func splitNumber(s string) (num, rest string) {
	i := 0
	digits := false
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits = true
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			digits = true
		}
	}
	if !digits {
		return "", s
	}
	// An exponent only when digits follow, so that "1e" is not eaten.
	if i+1 < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		k := j
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			k++
		}
		if k > j {
			i = k
		}
	}
	return s[:i], s[i:]
}

// appliesTo reports whether t can measure a metric in unit: points only
// apply to percentages, unit-bearing absolutes only to their own unit.
func (t Threshold) appliesTo(unit Unit) bool {
	switch t.Kind {
	case Points:
		return unit == UnitPct
	case Absolute:
		return t.Unit == "" || t.Unit == unit
	}
	return true
}

// exceeds reports whether a change of size d (d >= 0, in the metric's unit)
// from base is larger than t. A relative change from a zero base is infinite.
func (t Threshold) exceeds(base, d float64) bool {
	if d <= 0 {
		return false
	}
	switch t.Kind {
	case Relative:
		if base == 0 {
			return true
		}
		return d/math.Abs(base)*100 > t.Value
	default:
		return d > t.Value
	}
}
