package render

import "github.com/nsys-gate/gate/compare"

// Annotation is one metric as a line of plain text for a CI annotation, in
// the words, units and precision of the PR comment's row ("decode · step
// p50: 1.03 → 1.27 ms (+22.7%)"), then its threshold and note, then the
// metric's name to search for ("[phases.decode.span.p50]"), so that an
// annotation and the comment never disagree; strings from the profile are
// made one safe line.
func Annotation(m compare.Metric) string {
	_, title, field := entity(&m, names{})
	s := textLine(append(append(line{}, title...), text(clip(field, maxName)))) + ": " + shortChange(m)
	if d := fmtDelta(m); d != "—" {
		s += " (" + d + ")"
	}
	if m.Threshold != "" {
		s += ", threshold " + termText(m.Threshold)
	}
	if m.Note != "" {
		s += "; " + termText(m.Note)
	}
	return s + " [" + termText(compare.DisplayName(m.Name)) + "]"
}
