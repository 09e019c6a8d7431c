package render

import "github.com/nsys-gate/gate/compare"

// Annotation is one metric as a line of plain text for a CI annotation:
// "phases.decode.span.p50: 1.03 ms → 1.26 ms (+22.7%), threshold 8%". The
// values, the change and the name read exactly as they do in the report's
// tables, so that an annotation and the PR comment never disagree; strings
// from the profile are made one safe line.
func Annotation(m compare.Metric) string {
	s := termText(compare.DisplayName(m.Name)) + ": " + fmtChange(m)
	if d := fmtDelta(m); d != "—" {
		s += " (" + d + ")"
	}
	if m.Threshold != "" {
		s += ", threshold " + termText(m.Threshold)
	}
	if m.Note != "" {
		s += "; " + termText(m.Note)
	}
	return s
}
