package render

import (
	"math"
	"strconv"
	"strings"

	"github.com/nsys-gate/gate/compare"
)

// Values are humanised by the unit compare gives them: "ns" as ns/µs/ms/s,
// "bytes" as B/kB/MB/GB (decimal, as Nsight Systems prints them), "bps" as
// GB/s, "pct" as % with changes in percentage points, "count" as a plain
// number. Any other unit is an extra metric's own and is printed after the
// number. Three significant digits are enough to read a change; the JSON
// keeps every digit.

// fmtValue formats v in unit.
func fmtValue(v float64, unit compare.Unit) string {
	if s, bad := special(v); bad {
		return s
	}
	switch unit {
	case "ns":
		return fmtDuration(v)
	case "bytes":
		return fmtScaled(v, 1000, []string{"B", "kB", "MB", "GB", "TB", "PB"})
	case "bps":
		return fmtScaled(v, 1000, []string{"B/s", "kB/s", "MB/s", "GB/s", "TB/s", "PB/s"})
	case "pct":
		return sig3(v) + "%"
	case "count", "":
		return fmtCount(v)
	case compare.UnitMode:
		return compare.GraphModeLabel(v)
	}
	return fmtCount(v) + " " + clip(string(unit), 20)
}

// special formats NaN and infinities, which a broken input can produce.
func special(v float64) (string, bool) {
	switch {
	case math.IsNaN(v):
		return "n/a", true
	case math.IsInf(v, 1):
		return "∞", true
	case math.IsInf(v, -1):
		return "-∞", true
	}
	return "", false
}

func fmtDuration(ns float64) string {
	a := math.Abs(ns)
	switch {
	case a == 0:
		return "0 s"
	case a < 1e3:
		return sig3(ns) + " ns"
	case a < 1e6:
		return sig3(ns/1e3) + " µs"
	case a < 1e9:
		return sig3(ns/1e6) + " ms"
	}
	return sig3(ns/1e9) + " s"
}

func fmtScaled(v, step float64, units []string) string {
	i := 0
	for math.Abs(v) >= step && i < len(units)-1 {
		v /= step
		i++
	}
	return sig3(v) + " " + units[i]
}

// fmtCount prints counts: integers with thousands separators, fractions
// (per-step averages) with up to three significant digits.
func fmtCount(v float64) string {
	if s, bad := special(v); bad {
		return s
	}
	if math.Abs(v) >= 1e15 {
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
	if v == math.Trunc(v) {
		return group(strconv.FormatInt(int64(v), 10))
	}
	if math.Abs(v) >= 100 {
		return group(strconv.FormatInt(int64(math.Round(v)), 10))
	}
	return sig3(v)
}

// group inserts thousands separators into an integer string.
func group(s string) string {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// sig3 prints v with three significant digits but never in exponent form and
// never with trailing zeros after the point ("1.5", "12.3", "457", "1,234").
func sig3(v float64) string {
	if s, bad := special(v); bad {
		return s
	}
	a := math.Abs(v)
	var s string
	switch {
	case a >= 1e15:
		return strconv.FormatFloat(v, 'g', 3, 64)
	case a >= 100:
		return group(strconv.FormatFloat(math.Round(v), 'f', 0, 64))
	case a >= 10:
		s = strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		s = strconv.FormatFloat(v, 'f', 2, 64)
	case a == 0:
		return "0"
	default:
		s = strconv.FormatFloat(v, 'f', 3, 64)
	}
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// signed prefixes a non-negative formatted number with "+".
func signed(v float64, s string) string {
	if v > 0 && !strings.HasPrefix(s, "+") {
		return "+" + s
	}
	return s
}

// fmtPct formats a relative change in percent with a sign: "+23.1%".
func fmtPct(p float64) string {
	if s, bad := special(p); bad {
		return s
	}
	s := strconv.FormatFloat(p, 'f', 1, 64)
	if math.Abs(p) >= 1e15 {
		s = strconv.FormatFloat(p, 'g', 3, 64)
	} else if math.Abs(p) >= 1000 {
		s = group(strconv.FormatFloat(math.Round(p), 'f', 0, 64))
	}
	if s == "-0.0" {
		s = "0.0"
	}
	return signed(p, s) + "%"
}

// fmtDelta formats a metric's change: percentage points for percentages, the
// relative change where there is a base to be relative to, and otherwise
// the absolute change in the metric's unit.
func fmtDelta(m compare.Metric) string {
	switch {
	case !m.HasBase || !m.HasHead:
		return "—"
	case m.Unit == "pct":
		return fmtPoints(m.Delta)
	case m.Unit == compare.UnitMode:
		if m.Delta == 0 {
			return "same"
		}
		return "changed"
	case m.Unit == compare.UnitCount && m.Base != 0 && math.Abs(m.Base) < 1:
		// 0.021 → 1 copies per step is "+0.98", not "+4,700%".
		return signed(m.Delta, fmtCount(m.Delta))
	case m.Base != 0:
		return fmtPct(m.DeltaPct)
	case m.Delta == 0:
		return "0"
	}
	return signed(m.Delta, fmtValue(m.Delta, m.Unit))
}

// fmtChange formats "base → head", or the side that exists.
func fmtChange(m compare.Metric) string {
	b, h := "—", "—"
	if m.HasBase {
		b = fmtValue(m.Base, m.Unit)
	}
	if m.HasHead {
		h = fmtValue(m.Head, m.Unit)
	}
	return b + " → " + h
}

// fmtCI formats a stat metric's confidence interval and p-value.
func fmtCI(m compare.Metric) string {
	if m.CI == nil {
		if m.Kind == compare.Exact {
			return "exact"
		}
		return ""
	}
	s := "[" + fmtPct(m.CI.Lo) + ", " + fmtPct(m.CI.Hi) + "]"
	if m.Unit == "pct" {
		// The interval is of the relative change; Δ of a percentage is in
		// points. Say which, so that -24.5 pp next to -28% is not a puzzle.
		s = "rel. " + s
	}
	if m.P > 0 {
		if m.P < 0.001 {
			s += " p<0.001"
		} else {
			s += " p=" + strconv.FormatFloat(m.P, 'f', 3, 64)
		}
	}
	return s
}

// VerdictWords is a verdict as people read it ("fail", "not comparable"),
// the one spelling that reports, annotations, check runs and the command
// line share. A verdict this gate does not know (a newer or forged report
// JSON) is "unknown", never echoed: it could carry markup.
func VerdictWords(v compare.Verdict) string {
	switch v {
	case compare.Fail, compare.Warn, compare.Pass, compare.Info:
		return string(v)
	case compare.NotComparable:
		return "not comparable"
	case compare.NoBaseline:
		return "no baseline"
	case compare.BaselineUnavailable:
		return "baseline unavailable"
	case compare.Accepted, compare.Missing:
		return string(v)
	}
	return "unknown"
}

// verdictMark is the emoji and word for a verdict.
func verdictMark(v compare.Verdict) string {
	return verdictIcon(v) + " " + VerdictWords(v)
}

// judgedNothing says that a comparison judged no metric: the profiles
// were not comparable, or there was no baseline to compare with.
func judgedNothing(v compare.Verdict) bool {
	return v == compare.NotComparable || v == compare.NoBaseline || v == compare.BaselineUnavailable
}

// verdictIcon is a verdict's emoji, the one verdictMark starts with.
func verdictIcon(v compare.Verdict) string {
	switch v {
	case compare.Fail:
		return "❌"
	case compare.Warn:
		return "⚠️"
	case compare.Pass:
		return "✅"
	case compare.Info:
		return "ℹ️"
	case compare.NotComparable, compare.NoBaseline, compare.BaselineUnavailable:
		return "⚪"
	case compare.Accepted:
		return "☑️"
	case compare.Missing:
		return "⛔"
	}
	return "❔"
}

// verdictEmoji is the emoji alone, for compact cells; pass and info, which
// need no attention, get none.
func verdictEmoji(v compare.Verdict) string {
	switch v {
	case compare.Fail:
		return "❌"
	case compare.Warn:
		return "⚠️"
	}
	return ""
}

// plural returns "1 warning" or "2 warnings".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return group(strconv.Itoa(n)) + " " + many
}

// fmtPoints formats a change of a percentage in points: "+10.8 pp".
func fmtPoints(d float64) string {
	if s, bad := special(d); bad {
		return s
	}
	s := strconv.FormatFloat(d, 'f', 1, 64)
	if s == "-0.0" {
		s = "0.0"
	}
	return signed(d, s) + " pp"
}
