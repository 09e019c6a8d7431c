package render

import (
	"slices"

	"github.com/nsys-gate/gate/compare"
)

// Several metrics describe one thing: memory.memcpy.HtoD.{count,bytes,gbps}
// is one copy direction, components.decode.attention.{time,share} one
// component. A pivot gathers them into one table row per thing so that a
// reader sees "HtoD: 36 copies, 1.08 GB, 6.9 GB/s" on one line.

// pivotRow is one thing and its metrics by field.
type pivotRow struct {
	parts  []string // the thing's name segments, unescaped (untrusted)
	fields map[string]*compare.Metric
	worst  compare.Verdict
}

// pivotMetrics groups metrics named "<group>.<k1>...<kn>.<field>" (n =
// keyLen) by their key, for the fields the table has columns for; metrics
// of another shape or field are returned in rest, to be listed plainly, so
// that a metric compare adds later is never dropped from a report. Rows keep
// the order in which their keys first appear.
func pivotMetrics(ms []*compare.Metric, keyLen int, fields ...string) (rows []*pivotRow, rest []*compare.Metric) {
	byKey := map[string]*pivotRow{}
	for _, m := range ms {
		s := segments(m.Name)
		if len(s) != keyLen+2 || !slices.Contains(fields, s[len(s)-1]) {
			rest = append(rest, m)
			continue
		}
		parts := s[1 : 1+keyLen]
		k := keyOf(m.Name, keyLen)
		r := byKey[k]
		if r == nil {
			r = &pivotRow{parts: parts, fields: map[string]*compare.Metric{}, worst: m.Verdict}
			byKey[k] = r
			rows = append(rows, r)
		}
		r.fields[s[len(s)-1]] = m
		if severity(m.Verdict) < severity(r.worst) {
			r.worst = m.Verdict
		}
	}
	return rows, rest
}

// keyOf is the escaped key segments of a metric name, used as a map key
// (escaped names cannot collide where unescaped ones might).
func keyOf(name string, keyLen int) string {
	n, start := 0, -1
	for i := 0; i < len(name); i++ {
		if name[i] != '.' {
			continue
		}
		n++
		if n == 1 {
			start = i + 1
		}
		if n == keyLen+1 {
			return name[start:i]
		}
	}
	return name
}

// fieldChange is "base → head" of a row's field, or "" when it has none.
func (r *pivotRow) change(field string) string {
	if m := r.fields[field]; m != nil {
		return fmtChange(*m)
	}
	return ""
}

// delta is Δ of a row's field, in bold with an emoji when it is judged bad.
func (r *pivotRow) delta(field string) line {
	m := r.fields[field]
	if m == nil {
		return nil
	}
	if e := verdictEmoji(m.Verdict); e != "" {
		return line{bold(fmtDelta(*m)), plain(" " + e)}
	}
	return cell(fmtDelta(*m))
}

// verdict is the row's worst verdict with the notes of its metrics.
func (r *pivotRow) verdict(fields ...string) line {
	l := line{plain(verdictMark(r.worst))}
	for _, f := range fields {
		if m := r.fields[f]; m != nil && m.Note != "" && m.Verdict == r.worst {
			l = append(l, plain(" — "), text(clip(m.Note, 200)))
			break
		}
	}
	return l
}
