package action

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/nsys-gate/gate/compare"
	"github.com/nsys-gate/gate/gate/config"
	"github.com/nsys-gate/gate/render"
)

// Accepting a known cost. A pull request that trades speed for something
// else on purpose needs a way through that leaves a record. Two things
// together accept a failure:
//
//   - the label that gate.yml's accept-label names, set on the pull request
//     (only people with triage rights can label), and
//   - a reason line in its description naming what is accepted:
//     "gate: accept phases.decode.* — slower decode for exact sampling".
//
// The label is the one the baseline's recorded gate.yml names (config.
// Judging), never the pull request's own: a PR that named a label already on
// it could accept itself. Both are read from the API as they are now, so a
// re-run after labelling sees them; nothing in the pull request's tree or in
// an artifact is read. A reason line without the label accepts nothing and
// the report says so. The failures a line names become accepted; an entry
// all of whose failures are accepted is Accepted (exit 0); every failure no
// line names still fails.

// acceptRequest is one reason line: what it names and why.
type acceptRequest struct {
	target, reason string
	// entry is the entry it names ("" for every entry), glob the metrics
	// ("" for all of the entry's failures).
	entry, glob string
	// problem says why the line cannot accept anything (no reason, a bad
	// glob, an entry that does not exist).
	problem string
}

// maxAcceptLines bounds the reason lines read from one description.
const maxAcceptLines = 20

// parseAcceptLines finds the reason lines of a description. A line is
//
//	gate: accept TARGET — REASON
//
// after optional list or quote marks; the dash may be an em or en dash, or
// " -- " or " - ". TARGET is an entry id (of ids), a metric glob (every
// entry's metrics), or ENTRY:GLOB. A glob names a metric and everything
// under it: phases.decode.* accepts phases.decode.kernels and
// phases.decode.span.p50.
func parseAcceptLines(body string, ids []string) []acceptRequest {
	var out []acceptRequest
	for _, raw := range strings.Split(body, "\n") {
		rest, ok := acceptLine(raw)
		if !ok {
			continue
		}
		if len(out) == maxAcceptLines {
			break
		}
		out = append(out, parseAcceptRequest(rest, ids))
	}
	return out
}

// acceptLine returns what follows "gate: accept" on a line that starts with
// it.
func acceptLine(raw string) (string, bool) {
	l := strings.TrimSpace(raw)
	for {
		t := strings.TrimLeft(l, "-*>+ \t")
		if t == l {
			break
		}
		l = t
	}
	const prefix = "gate:"
	if len(l) < len(prefix) || !strings.EqualFold(l[:len(prefix)], prefix) {
		return "", false
	}
	l = strings.TrimSpace(l[len(prefix):])
	const verb = "accept"
	if len(l) <= len(verb) || !strings.EqualFold(l[:len(verb)], verb) || (l[len(verb)] != ' ' && l[len(verb)] != '\t') {
		return "", false
	}
	return strings.TrimSpace(l[len(verb):]), true
}

func parseAcceptRequest(rest string, ids []string) acceptRequest {
	rest = clipRunes(rest, 500)
	target, reason := rest, ""
	for _, sep := range []string{"—", "–", " -- ", " - "} {
		if i := strings.Index(rest, sep); i >= 0 {
			target, reason = strings.TrimSpace(rest[:i]), strings.TrimSpace(rest[i+len(sep):])
			break
		}
	}
	q := acceptRequest{target: target, reason: reason}
	switch {
	case target == "":
		q.problem = "it names nothing to accept"
	case strings.ContainsAny(target, " \t"):
		q.problem = "name one metric glob or entry per line, then a dash and the reason"
	case reason == "":
		q.problem = "it gives no reason after a dash"
	}
	if q.problem != "" {
		return q
	}
	entry, glob, scoped := strings.Cut(target, ":")
	switch {
	case scoped && !slices.Contains(ids, entry):
		q.problem = fmt.Sprintf("there is no entry %s", entry)
	case scoped:
		q.entry, q.glob = entry, glob
	case slices.Contains(ids, target) && target != "":
		q.entry = target
	default:
		q.glob = target
	}
	if q.problem == "" && scoped && glob == "" {
		q.problem = "it names an entry but no metrics after the colon"
	}
	if q.problem == "" && q.glob != "" && !validGlob(q.glob) {
		q.problem = fmt.Sprintf("%s is not a metric glob", q.glob)
	}
	return q
}

func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// validGlob reports whether every segment of glob is a pattern.
func validGlob(glob string) bool {
	for _, seg := range strings.Split(glob, ".") {
		if seg == "" {
			return false
		}
		if _, err := path.Match(seg, ""); err != nil {
			return false
		}
	}
	return true
}

// covers reports whether q names metric of entry.
func (q acceptRequest) covers(entry, metric string) bool {
	if q.problem != "" || (q.entry != "" && q.entry != entry) {
		return false
	}
	if q.glob == "" {
		return true
	}
	segs := strings.Split(metric, ".")
	for k := 1; k <= len(segs); k++ {
		if compare.Match(q.glob, strings.Join(segs[:k], ".")) {
			return true
		}
	}
	return false
}

// acceptEntry is an entry as acceptance sees it: its result, the label its
// baseline's gate.yml names, and the fail-on that says which verdicts fail.
type acceptEntry struct {
	id     string
	res    *compare.Result
	label  string
	failOn string
}

// failing are the metrics of e that fail the step, in the result's order.
func (e acceptEntry) failing() []string {
	if e.res == nil || (e.res.Verdict != compare.Fail && !(e.res.Verdict == compare.Warn && e.failOn == FailOnWarn)) {
		return nil
	}
	var out []string
	for _, m := range e.res.Metrics {
		if m.Verdict == compare.Fail || (m.Verdict == compare.Warn && e.failOn == FailOnWarn) {
			out = append(out, m.Name)
		}
	}
	return out
}

// prLabels is a pull request's description and labels as they are now,
// and who set each label; err when they could not be read.
type prLabels struct {
	body string
	set  map[string]bool
	by   map[string]string
	err  error
}

// decideAcceptance applies the reason lines to the entries: it returns,
// for each entry, whether all its failures were accepted, and what each
// line accepted or why it accepted nothing.
func decideAcceptance(entries []acceptEntry, reqs []acceptRequest, pr prLabels) ([]bool, []render.Acceptance) {
	out := make([]render.Acceptance, len(reqs))
	for i, q := range reqs {
		out[i] = render.Acceptance{Target: q.target, Reason: q.reason, Refused: q.problem}
	}
	whole := make([]bool, len(entries))
	for ei, e := range entries {
		failing := e.failing()
		n := 0
		for _, m := range failing {
			for i, q := range reqs {
				if !q.covers(e.id, m) {
					continue
				}
				switch {
				case e.label == "":
					out[i].Refused = "gate.yml (the baseline's) names no accept-label"
				case pr.err != nil:
					out[i].Refused = "the pull request's labels could not be read"
				case !pr.set[e.label]:
					out[i].Refused = "the label " + e.label + " is not set"
				default:
					out[i].Accepted = append(out[i].Accepted, render.AcceptedMetric{Entry: e.id, Metric: m})
					out[i].Label, out[i].By = e.label, pr.by[e.label]
					n++
				}
				break
			}
		}
		whole[ei] = len(failing) > 0 && n == len(failing)
	}
	for i := range out {
		if len(out[i].Accepted) > 0 {
			out[i].Refused = ""
		} else if out[i].Refused == "" {
			out[i].Refused = "no failure matches it"
		}
	}
	return whole, out
}

// readPR reads a pull request's description and labels, and who set the
// labels in want, through the API. Failing, it warns: nothing is accepted.
func (r *run) readPR(ctx context.Context, number int, want []string) prLabels {
	is, err := r.github.Issue(ctx, number)
	if err != nil {
		why := ""
		if isForbidden(err) {
			why = " (the workflow needs permissions: issues: read)"
		}
		r.actions.Warningf("gate: reading #%d's description and labels: %v%s; nothing is accepted", number, err, why)
		return prLabels{err: err}
	}
	pr := prLabels{body: is.Body, set: map[string]bool{}, by: map[string]string{}}
	for _, l := range is.Labels {
		pr.set[l] = true
	}
	needed := false
	for _, l := range want {
		needed = needed || pr.set[l]
	}
	if !needed || len(parseAcceptLines(is.Body, nil)) == 0 {
		return pr
	}
	evs, err := r.github.LabelEvents(ctx, number)
	if err != nil {
		r.actions.Warningf("gate: reading who labelled #%d: %v", number, err)
	}
	for _, ev := range evs {
		if ev.Added {
			pr.by[ev.Label] = ev.Actor
		} else {
			delete(pr.by, ev.Label)
		}
	}
	return pr
}

// accept reads what pull request number accepts and applies it to
// entries: it returns which entries are accepted whole and the lines for
// the report. Unless a failing entry's baseline names an accept label,
// nothing can be accepted and nothing is asked of the API.
func (r *run) accept(ctx context.Context, number int, entries []acceptEntry) ([]bool, []render.Acceptance) {
	var labels, ids []string
	for _, e := range entries {
		ids = append(ids, e.id)
		if len(e.failing()) > 0 && e.label != "" && !slices.Contains(labels, e.label) {
			labels = append(labels, e.label)
		}
	}
	if len(labels) == 0 || number == 0 || r.github == nil {
		return make([]bool, len(entries)), nil
	}
	pr := r.readPR(ctx, number, labels)
	reqs := parseAcceptLines(pr.body, ids)
	if len(reqs) == 0 {
		return make([]bool, len(entries)), nil
	}
	whole, out := decideAcceptance(entries, reqs, pr)
	for i, a := range out {
		if len(a.Accepted) > 0 {
			fmt.Fprintf(r.env.Stdout, "gate: accepted %d failures (%s) by %s: %s\n", len(a.Accepted), a.Target, orUnknown(a.By), render.OneLine(a.Reason))
		} else {
			fmt.Fprintf(r.env.Stdout, "gate: reason line %d (%s) accepts nothing: %s\n", i+1, render.OneLine(a.Target), a.Refused)
		}
	}
	return whole, out
}

// acceptedOf are the metrics of entry id that lines accepted, in their
// order.
func acceptedOf(lines []render.Acceptance, id string) []string {
	var out []string
	for _, l := range lines {
		for _, a := range l.Accepted {
			if a.Entry == id {
				out = append(out, a.Metric)
			}
		}
	}
	return out
}

func orUnknown(s string) string {
	if s == "" {
		return "an unknown user"
	}
	return s
}

// acceptSingle is accept for the one configuration of the profile and
// compare modes.
// It returns whether every failure was accepted and the report's lines.
func (r *run) acceptSingle(ctx context.Context, id string, res *compare.Result, judging *config.Config) (bool, []render.Acceptance) {
	whole, lines := r.accept(ctx, r.ev.prNumber(), []acceptEntry{{id: id, res: res, label: judging.AcceptLabel, failOn: r.in.FailOn}})
	return len(whole) == 1 && whole[0], lines
}

// afterMarker puts note under md's marker line (the first line, where the
// sticky comment is found again), or first when md has none.
func afterMarker(md, note string) string {
	if note == "" {
		return md
	}
	first, rest, ok := strings.Cut(md, "\n")
	if ok && strings.HasPrefix(first, "<!-- gate:report ") {
		return first + "\n" + note + rest
	}
	return note + md
}
