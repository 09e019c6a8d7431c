package render

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/nsys-gate/gate/compare"
)

// A merged report is one comment for several configurations (a matrix's
// entries: models × GPUs × parallelism): a verdict line for all of them, a
// table with one row per entry (failing entries first), what the pull
// request accepted, and each entry's own report folded below. The entry
// reports are the single reports of this package, cut by priority to fit
// the one comment: failing entries keep the most, and an entry left out
// points to its full report.

// Entry is one configuration of a merged report.
type Entry struct {
	ID string
	// Verdict is what the entry counts as: its result's verdict, Accepted
	// when the pull request accepted every failure, Missing when there is
	// no result.
	Verdict compare.Verdict
	Result  *compare.Result // nil for a missing entry
	// Why says what is known of a missing entry's leg.
	Why string
	// ReportURL links the entry's full report (its leg's artifact); empty:
	// the merged report's FullReportURL.
	ReportURL string
	// Accepted are the entry's failed metrics that the pull request
	// accepted: the cause shown is the first one it did not.
	Accepted []string
}

// Acceptance is one reason line of a pull request's description
// ("gate: accept TARGET — REASON") and what came of it.
type Acceptance struct {
	Target string `json:"target"` // a metric glob, an entry id, or ENTRY:GLOB, as written
	Reason string `json:"reason"`
	// Label is the label that had to be set, By who set it.
	Label string `json:"label,omitempty"`
	By    string `json:"by,omitempty"`
	// Accepted are the failures the line accepted.
	Accepted []AcceptedMetric `json:"accepted,omitempty"`
	// Refused says why the line accepted nothing.
	Refused string `json:"refused,omitempty"`
}

// AcceptedMetric is a failed metric of an entry that was accepted.
type AcceptedMetric struct {
	Entry  string `json:"entry,omitempty"`
	Metric string `json:"metric"`
}

// Merged is the report of several entries.
type Merged struct {
	// ID is the configuration whose marker keys the comment.
	ID          string
	Entries     []Entry
	Acceptances []Acceptance
	// Notes are gate's remarks on the whole: an entry no one expected, a
	// listing cut short.
	Notes []string
}

// MergedSchema versions MergedJSON's layout.
const MergedSchema = "gate.merged/v1"

// Verdict is the verdict of all entries together: the worst.
func (m *Merged) Verdict() compare.Verdict {
	vs := make([]compare.Verdict, len(m.Entries))
	for i, e := range m.Entries {
		vs[i] = e.Verdict
	}
	return compare.Worst(vs...)
}

// sorted returns the entries failing first (by compare.Rank), then by id.
func (m *Merged) sorted() []Entry {
	es := append([]Entry(nil), m.Entries...)
	sort.SliceStable(es, func(i, j int) bool {
		if a, b := compare.Rank(es[i].Verdict), compare.Rank(es[j].Verdict); a != b {
			return a < b
		}
		return es[i].ID < es[j].ID
	})
	return es
}

// MergedMarkdown writes the merged report as one PR comment, starting with
// the marker of m.ID, within opts.Budget characters. The entries' reports
// get what is left after the verdict line, the table and the acceptances,
// failing entries first, each at most what it needs; an entry with no room
// left is a line that links its full report.
func MergedMarkdown(w io.Writer, m *Merged, opts Options) error {
	if m == nil {
		return errNil
	}
	budget := opts.Budget
	if budget <= 0 {
		budget = CommentBudget
	}
	if _, err := io.WriteString(w, mergedMarkdown(m, opts, budget)); err != nil {
		return fmt.Errorf("render: markdown: %w", err)
	}
	return nil
}

// shortReport is the room an entry's report gets when the reports do not
// all fit whole: its verdict line, the context and the top regressions.
const shortReport = 1800

// mergedMarkdown lays the entries' reports out by priority (m.sorted):
// whole when all fit; else every entry gets a short report, lowest priority
// first left out for a pointer line while even those do not fit, and what
// room is left goes back to the entries in priority order, each growing
// towards its whole report.
func mergedMarkdown(m *Merged, opts Options, budget int) string {
	es := m.sorted()
	w := &mdWriter{to: forGitHub}
	w.b.WriteString(Marker(m.ID) + "\n")
	w.blocks(mergedHead(m, es, opts))
	head := w.b.String()
	avail := budget - UTF16Len(head)

	n := len(es)
	full, short, ptr := make([]string, n), make([]string, n), make([]string, n)
	total := 0
	for i, e := range es {
		ptr[i] = entryPointer(e, opts)
		full[i], short[i] = ptr[i], ptr[i]
		if e.Result != nil {
			full[i] = entryFold(e, opts, StepSummaryBudget)
			short[i] = full[i]
			if UTF16Len(full[i]) > shortReport+foldCost(e) {
				short[i] = entryFold(e, opts, shortReport)
			}
		}
		total += UTF16Len(full[i])
	}
	if total <= avail {
		return head + strings.Join(full, "")
	}
	// Pointers for all from the k-th entry on: the largest k that fits.
	ptrFrom := make([]int, n+1)
	for i := n - 1; i >= 0; i-- {
		ptrFrom[i] = ptrFrom[i+1] + UTF16Len(ptr[i])
	}
	k, used := 0, 0
	for k < n && used+UTF16Len(short[k])+ptrFrom[k+1] <= avail {
		used += UTF16Len(short[k])
		k++
	}
	extra := avail - used - ptrFrom[k]
	out := append(append([]string(nil), short[:k]...), ptr[k:]...)
	for i := 0; i < k && extra > 0; i++ {
		grow := UTF16Len(full[i]) - UTF16Len(short[i])
		switch {
		case grow <= 0:
		case grow <= extra:
			out[i], extra = full[i], extra-grow
		default:
			inner := UTF16Len(short[i]) - foldCost(es[i]) + extra
			if f := entryFold(es[i], opts, inner); UTF16Len(f) <= UTF16Len(short[i])+extra {
				extra -= UTF16Len(f) - UTF16Len(short[i])
				out[i] = f
			}
		}
	}
	return head + strings.Join(out, "")
}

// mergedHead is what comes before the entries' reports.
func mergedHead(m *Merged, es []Entry, opts Options) []block {
	bs := []block{para{l: mergedVerdictLine(m, es)}, entryTable(es)}
	if u := safeURL(opts.FullReportURL); u != "" {
		bs = append(bs, para{l: line{plain("Full reports: [the run's artifacts](<" + u + ">).")}, small: true})
	}
	if len(m.Acceptances) > 0 {
		bs = append(bs, acceptanceBlocks(m.Acceptances)...)
	}
	for _, n := range m.Notes {
		bs = append(bs, para{l: line{plain("⚠️ "), text(clip(n, maxText))}})
	}
	return bs
}

// mergedVerdictLine is the headline: "❌ **gate: fail** — 1 of 3 entries
// failed: `qwen-h200` decode step p50 +22.7% (1.17 → 1.44 ms); 1 not
// comparable, 1 passed".
func mergedVerdictLine(m *Merged, es []Entry) line {
	v := m.Verdict()
	l := line{plain(verdictIcon(v) + " "), bold("gate: " + VerdictWords(v)), plain(" — ")}
	if len(es) == 0 {
		return append(l, plain("no entries: nothing was gated"))
	}
	if first := es[0]; first.Verdict == compare.Fail || first.Verdict == compare.Missing {
		n := 0
		for _, e := range es {
			if e.Verdict == first.Verdict {
				n++
			}
		}
		l = append(l, plain(fmt.Sprintf("%d of %d entries %s: ", n, len(es), countWord(first.Verdict))), entryName(first.ID), plain(" "))
		switch f, ok := firstCause(first); {
		case ok:
			l = append(l, change(f, entryPlan(first.Result))...)
		default:
			l = append(l, text(clip(first.Why, maxText)))
		}
		l = append(l, plain("; "))
	}
	return append(l, plain(entryCounts(es)))
}

// entryPlan is the comment's plan for an entry's result, with its short
// kernel names.
func entryPlan(r *compare.Result) plan {
	p := commentPlan()
	p.names = newNames(kernelNames(r))
	return p
}

// firstCause is the regression a failed entry's headline names.
func firstCause(e Entry) (finding, bool) {
	if e.Result == nil || e.Verdict != compare.Fail {
		return finding{}, false
	}
	return entryFinding(e)
}

// entryFinding is the regression to name for an entry: the first ranked
// one the pull request did not accept; when it accepted all, the first.
func entryFinding(e Entry) (finding, bool) {
	if len(e.Accepted) > 0 {
		for _, f := range findings(e.Result, e.Result.Regressions) {
			if f.m.Verdict == compare.Fail && !slices.Contains(e.Accepted, f.m.Name) {
				return f, true
			}
		}
	}
	return cause(e.Result)
}

// countWord says what entries of verdict v did: "failed", "passed".
func countWord(v compare.Verdict) string {
	switch v {
	case compare.Fail:
		return "failed"
	case compare.Warn:
		return "warned"
	case compare.Pass:
		return "passed"
	case compare.Info:
		return "not gated"
	}
	return VerdictWords(v)
}

// entryCounts is "1 failed, 1 missing, 2 passed", worst first.
func entryCounts(es []Entry) string {
	var parts []string
	for i := 0; i < len(es); {
		j := i
		for j < len(es) && es[j].Verdict == es[i].Verdict {
			j++
		}
		parts = append(parts, fmt.Sprintf("%d %s", j-i, countWord(es[i].Verdict)))
		i = j
	}
	return strings.Join(parts, ", ")
}

// EntryID is a matrix entry's id as people read it: "(unnamed)" for the
// configuration without one (the report, the log, gate merge's lines).
func EntryID(id string) string {
	if id == "" {
		return "(unnamed)"
	}
	return id
}

func entryName(id string) span {
	if id == "" {
		return plain(EntryID(id))
	}
	return name(id)
}

// entryTable has a row per entry: id, GPU, verdict, the cause, and the
// change of the decode and prefill step time.
func entryTable(es []Entry) table {
	t := table{head: []string{"entry", "GPU", "verdict", "cause", "decode", "prefill"}, right: []bool{false, false, false, false, true, true}}
	for _, e := range es {
		cause, ok := entryCause(e)
		if !ok {
			cause = line{text(clip(entryWhy(e), 80))}
		}
		t.rows = append(t.rows, []line{{entryName(e.ID)}, gpuCell(e.Result), {plain(verdictMark(e.Verdict))}, cause,
			stepChange(e.Result, "decode"), stepChange(e.Result, "prefill")})
	}
	return t
}

// entryCause names an entry's failure, warning or accepted cost in a few
// words with its change: "decode step p50 +22.7%, 9 more".
func entryCause(e Entry) (line, bool) {
	r := e.Result
	if r == nil || (r.Verdict != compare.Fail && r.Verdict != compare.Warn) {
		return nil, false
	}
	f, ok := entryFinding(e)
	if !ok {
		return nil, false
	}
	_, title, field := entity(f.m, entryPlan(r).names)
	l := append(append(line{}, title...), text(clip(field, 60)), plain(" "+fmtDelta(*f.m)))
	if n := r.Counts.Fail + r.Counts.Warn - 1 - len(e.Accepted); n > 0 && e.Verdict != compare.Accepted {
		l = append(l, plain(", "+itoa(n)+" more"))
	}
	return l, true
}

// entryWhy says why an entry judged nothing, or what improved.
func entryWhy(e Entry) string {
	r := e.Result
	switch {
	case r == nil:
		return e.Why
	case len(r.Reasons) > 0 && judgedNothing(r.Verdict):
		return r.Reasons[0]
	}
	if fs := findings(r, r.Improvements); len(fs) > 0 {
		return "improved: " + clip(fs[0].label, 60) + " " + fmtDelta(*fs[0].m)
	}
	return "—"
}

// gpuCell is the head's GPU, short ("H200", "2× H200"), and the base's
// when it differs: "L40S (base H200)".
func gpuCell(r *compare.Result) line {
	if r == nil || r.Head.GPU.Name == "" {
		return line{plain("—")}
	}
	s := gpuShort(r.Head.GPU.Name, r.Head.GPU.Devices)
	if b := r.Base.GPU.Name; b != "" && (b != r.Head.GPU.Name || r.Base.GPU.Devices != r.Head.GPU.Devices) {
		s += " (base " + gpuShort(b, r.Base.GPU.Devices) + ")"
	}
	return line{text(clip(s, 40))}
}

func gpuShort(name string, devices int) string {
	s := strings.TrimPrefix(strings.TrimSpace(name), "NVIDIA ")
	if devices > 1 {
		s = itoa(devices) + "× " + s
	}
	return s
}

// stepChange is the change of a phase's step time p50, bold when it
// failed; "—" when the entry has none.
func stepChange(r *compare.Result, phase string) line {
	if r == nil || judgedNothing(r.Verdict) {
		return line{plain("—")}
	}
	for i := range r.Metrics {
		m := &r.Metrics[i]
		if m.Name != "phases."+phase+".span.p50" || !m.HasBase || !m.HasHead {
			continue
		}
		if m.Verdict == compare.Fail {
			return line{bold(fmtDelta(*m))}
		}
		return line{plain(fmtDelta(*m))}
	}
	return line{plain("—")}
}

// entryFold is an entry's report in a fold, the report within budget
// characters.
func entryFold(e Entry, opts Options, budget int) string {
	url := entryURL(e, opts)
	eo := Options{Budget: budget, FullReportURL: url, BaselineCommit: opts.BaselineCommit}
	return foldAround(e, withoutMarker(markdown(e.Result, eo)), false)
}

// foldAround puts an entry's report in a fold titled by its verdict (the
// report links its full report itself), open or closed.
func foldAround(e Entry, report string, open bool) string {
	var b strings.Builder
	b.WriteString("<details")
	if open {
		b.WriteString(" open")
	}
	b.WriteString("><summary>" + htmlEscape(foldTitle(e)) + "</summary>\n\n")
	b.WriteString(report)
	b.WriteString("\n</details>\n\n")
	return b.String()
}

// foldCost is what an entry's fold adds to its report.
func foldCost(e Entry) int {
	return UTF16Len(foldAround(e, "", false))
}

// entryURL is where an entry's full report is.
func entryURL(e Entry, opts Options) string {
	if e.ReportURL != "" {
		return e.ReportURL
	}
	return opts.FullReportURL
}

// entryPointer is the line of an entry whose report did not fit, or that
// has none.
func entryPointer(e Entry, opts Options) string {
	w := &mdWriter{to: forGitHub}
	l := line{plain(verdictIcon(e.Verdict) + " "), entryName(e.ID), plain(": ")}
	if e.Result == nil {
		l = append(l, text(clip(e.Why, 200)))
	} else {
		l = append(l, plain("its report was left out to fit the comment"))
		if u := safeURL(entryURL(e, opts)); u != "" {
			l = append(l, plain("; see [its full report](<"+u+">)"))
		}
	}
	l = append(l, plain("."))
	w.blocks([]block{para{l: l}})
	return w.b.String()
}

// foldTitle is an entry's fold summary: "❌ qwen-h200: fail".
func foldTitle(e Entry) string {
	return verdictIcon(e.Verdict) + " " + EntryID(e.ID) + ": " + VerdictWords(e.Verdict)
}

// withoutMarker drops a single report's marker line: the merged comment
// has its own.
func withoutMarker(md string) string {
	first, rest, ok := strings.Cut(md, "\n")
	if ok && strings.HasPrefix(first, "<!-- gate:report ") {
		return rest
	}
	return md
}

// AcceptanceMarkdown is the part of a report that says what a pull
// request accepted, by whom and why, and which reason lines accepted
// nothing; "" when there are none. The single report of a configuration
// puts it under its marker line.
func AcceptanceMarkdown(as []Acceptance) string {
	if len(as) == 0 {
		return ""
	}
	w := &mdWriter{to: forGitHub}
	w.blocks(acceptanceBlocks(as))
	return w.b.String()
}

// maxAcceptances bounds the reason lines a report lists.
const maxAcceptances = 20

func acceptanceBlocks(as []Acceptance) []block {
	var items []line
	n := 0
	for i, a := range as {
		if i == maxAcceptances {
			items = append(items, line{plain("and " + itoa(len(as)-i) + " more reason lines")})
			break
		}
		if len(a.Accepted) > 0 {
			n += len(a.Accepted)
		}
		items = append(items, acceptanceItem(a))
	}
	title := "☑️ **Accepted** by this pull request:"
	if n == 0 {
		title = "ℹ️ This pull request asks to accept costs; nothing was accepted:"
	}
	return []block{para{l: line{plain(title)}}, list{items: items}}
}

// acceptanceItem reads "`phases.decode.*` in `llama-h200`: 4 failures,
// accepted by alice (label `perf-accepted`): slower decode for the new
// sampler", or says why the line accepted nothing.
func acceptanceItem(a Acceptance) line {
	l := line{name(clip(a.Target, 200))}
	if len(a.Accepted) == 0 {
		l = append(l, plain(": nothing accepted, "), text(clip(a.Refused, maxText)))
	} else {
		var entries []string
		for _, m := range a.Accepted {
			if m.Entry != "" && m.Entry != a.Target && (len(entries) == 0 || entries[len(entries)-1] != m.Entry) {
				entries = append(entries, m.Entry)
			}
		}
		if len(entries) > 0 {
			l = append(l, plain(" in "))
			for i, e := range entries {
				if i > 0 {
					l = append(l, plain(", "))
				}
				l = append(l, name(e))
			}
		}
		l = append(l, plain(": "+plural(len(a.Accepted), "failure", "failures")+" accepted"))
		if a.By != "" {
			l = append(l, plain(" by "), text(clip(a.By, 60)))
		}
		if a.Label != "" {
			l = append(l, plain(" (label "), name(clip(a.Label, 60)), plain(")"))
		}
	}
	if strings.TrimSpace(a.Reason) != "" {
		l = append(l, plain(" — "), text(clip(a.Reason, 300)))
	}
	return l
}

// MergedText writes the merged report for a terminal: the verdict line,
// the table, the acceptances, then each entry's full text report.
func MergedText(w io.Writer, m *Merged, opts Options) error {
	if m == nil {
		return errNil
	}
	es := m.sorted()
	var b strings.Builder
	textBlocks(&b, mergedHead(m, es, Options{}))
	for _, e := range es {
		title := foldTitle(e)
		b.WriteString("\n" + title + "\n" + strings.Repeat("=", displayWidth(title)) + "\n")
		if e.Result == nil {
			b.WriteString(termText(e.Why) + "\n")
			continue
		}
		var r strings.Builder
		if err := Text(&r, e.Result, opts); err != nil {
			return err
		}
		b.WriteString(r.String())
	}
	if _, err := io.WriteString(w, noCommands(b.String())); err != nil {
		return fmt.Errorf("render: text: %w", err)
	}
	return nil
}

// MergedHTML writes the merged report as one standalone page with every
// entry's full report, unfolded where it needs reading (all but passes).
func MergedHTML(w io.Writer, m *Merged, opts Options) error {
	if m == nil {
		return errNil
	}
	es := m.sorted()
	mw := &mdWriter{to: forHTML}
	mw.blocks(mergedHead(m, es, opts))
	for _, e := range es {
		if e.Result == nil {
			mw.blocks([]block{para{l: line{plain(verdictIcon(e.Verdict) + " "), entryName(e.ID), plain(": "), text(clip(e.Why, 200))}}})
			continue
		}
		open := e.Verdict != compare.Pass && e.Verdict != compare.Info
		mw.b.WriteString(foldAround(e, htmlMarkdown(e.Result, Options{FullReportURL: e.ReportURL}), open))
	}
	page, err := htmlPage("gate: "+string(m.Verdict()), mw.b.String())
	if err != nil {
		return err
	}
	if _, err := w.Write(page); err != nil {
		return fmt.Errorf("render: html: %w", err)
	}
	return nil
}

// MergedJSON writes the merged report as stable JSON: the verdict of all,
// each entry with its verdict and result, the acceptances.
func MergedJSON(w io.Writer, m *Merged) error {
	if m == nil {
		return errNil
	}
	type entryJSON struct {
		ID        string          `json:"id"`
		Verdict   compare.Verdict `json:"verdict"`
		Why       string          `json:"why,omitempty"`
		ReportURL string          `json:"report_url,omitempty"`
		Result    *compare.Result `json:"result"`
	}
	out := struct {
		Schema      string          `json:"schema"`
		ID          string          `json:"id"`
		Verdict     compare.Verdict `json:"verdict"`
		Entries     []entryJSON     `json:"entries"`
		Acceptances []Acceptance    `json:"acceptances"`
		Notes       []string        `json:"notes"`
	}{Schema: MergedSchema, ID: m.ID, Verdict: m.Verdict(), Entries: []entryJSON{}, Acceptances: m.Acceptances, Notes: m.Notes}
	if out.Acceptances == nil {
		out.Acceptances = []Acceptance{}
	}
	if out.Notes == nil {
		out.Notes = []string{}
	}
	for _, e := range m.sorted() {
		ej := entryJSON{ID: e.ID, Verdict: e.Verdict, Why: e.Why, ReportURL: e.ReportURL}
		if e.Result != nil {
			ej.Result = normalized(e.Result)
		}
		out.Entries = append(out.Entries, ej)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("render: json: %w", err)
	}
	return nil
}
