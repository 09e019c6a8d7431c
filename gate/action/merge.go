package action

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/nsys-gate/gate/compare"
	"github.com/nsys-gate/gate/gate/config"
	"github.com/nsys-gate/gate/internal/safefile"
	"github.com/nsys-gate/gate/render"
)

// Legs report, one job posts. In a matrix each leg runs `gate action` with
// leg: true and an id (its own, or one made from its matrix values), and
// uploads its output directory as the artifact gate-report-ID; it does not
// comment. The merge job (mode merge, after all legs, if: always()) finds
// every leg's artifact of the run, judges each leg's summary against that
// entry's own baseline (gate-baseline-ID), applies what the pull request
// accepted, and posts one sticky comment and one check run for all of them.
// It fails when any entry fails. An expected entry (the entries input or
// gate.yml's) whose leg uploaded nothing is missing, never passed.
//
// Like the comment mode, it never takes a verdict from an artifact: a leg
// ran the pull request's workload, which could rewrite result.json before
// the upload step, and acceptance turns failures into passes. Only the
// summary, the measurements, is read.

// mergeSource is the run whose legs are merged and the pull request they
// are about.
type mergeSource struct {
	runID   int64
	number  int    // the pull request, 0 for none (a push)
	headSHA string // the commit the check run is for
}

// merge is the merge mode.
func (r *run) merge(ctx context.Context) (Outcome, error) {
	if r.github == nil {
		return Outcome{}, errors.New("mode merge needs github-token and GITHUB_REPOSITORY")
	}
	cfg, err := config.Load(r.in.Config)
	if err != nil {
		return Outcome{}, fmt.Errorf("input config: %w", err)
	}
	if err := safefile.Dir(r.in.OutputDir); err != nil {
		return Outcome{}, fmt.Errorf("input output-dir: %w", err)
	}
	id := r.in.ID
	if id == "" {
		id = cfg.ID
	}
	expected := r.in.Entries
	if len(expected) == 0 {
		expected = cfg.Entries
	}
	src, err := r.mergeSource(ctx)
	if err != nil {
		return Outcome{}, err
	}
	legs, listErr := r.legArtifacts(ctx, src.runID)
	if listErr != nil && len(expected) == 0 {
		return Outcome{}, fmt.Errorf("listing the artifacts of run %d: %w", src.runID, listErr)
	}
	m := &render.Merged{ID: id}
	if len(expected) == 0 {
		m.Notes = append(m.Notes, "No entries are listed (the entries input or gate.yml's entries): a leg that uploaded nothing cannot be told apart from one that does not exist.")
	}
	var outs []Outcome
	var accepting []acceptEntry
	for _, eid := range entryIDs(expected, legs) {
		e, out, ae := r.mergeEntry(ctx, cfg, eid, legs, src, listErr)
		if len(expected) > 0 && !slices.Contains(expected, eid) {
			m.Notes = append(m.Notes, fmt.Sprintf("Entry %s uploaded a result but is not in the entries list; add it, or stop its leg.", render.EntryID(eid)))
		}
		m.Entries = append(m.Entries, e)
		outs = append(outs, out)
		accepting = append(accepting, ae)
	}
	whole, lines := r.accept(ctx, src.number, accepting)
	m.Acceptances = lines
	for i := range m.Entries {
		if whole[i] {
			m.Entries[i].Verdict, outs[i].Verdict = compare.Accepted, compare.Accepted
		}
		m.Entries[i].Accepted = acceptedOf(lines, m.Entries[i].ID)
	}

	out := Outcome{Verdict: m.Verdict(), FailOn: r.in.FailOn, Config: cfg, Entries: outs}
	for _, o := range outs {
		out.Counts.Fail += o.Counts.Fail
		out.Counts.Warn += o.Counts.Warn
		out.Counts.Pass += o.Counts.Pass
		out.Counts.Info += o.Counts.Info
	}
	ropts := render.Options{FullReportURL: r.runURL()}
	reportPath, err := r.writeMerged(m, ropts)
	if err != nil {
		return out, err
	}
	r.annotateMerged(m)
	digest := mergedDigest(m)
	ropts.Budget = render.CommentBudget - render.UTF16Len("\n"+digestLine(digest)+"\n")
	var md bytes.Buffer
	if err := render.MergedMarkdown(&md, m, ropts); err != nil {
		return out, err
	}
	p := post{md: md.String(), id: id, digest: digest, verdict: out.Verdict}
	notes := r.publish(ctx, src.number, p, src.headSHA, r.env.ExitCode(out))
	ropts.Budget = render.StepSummaryBudget
	var sum bytes.Buffer
	if err := render.MergedMarkdown(&sum, m, ropts); err == nil {
		r.summaryWith(sum.String(), notes)
	}
	r.setOutputs(
		"verdict", string(out.Verdict),
		"regressions", fmt.Sprint(out.Counts.Fail),
		"report-path", r.outputPath(reportPath),
		"id", id,
	)
	return out, nil
}

// mergeSource finds the run to merge: the triggering run in a workflow_run
// workflow (the fork-safe pair; its pull request is looked up from its head
// commit, never read from an artifact), else this run.
func (r *run) mergeSource(ctx context.Context) (mergeSource, error) {
	if wr := r.ev.WorkflowRun; wr != nil {
		src := mergeSource{runID: wr.ID, headSHA: wr.HeadSHA}
		if wr.Event == "pull_request" {
			n, err := r.triggeringPR(ctx)
			if err != nil {
				r.actions.Warningf("gate: %v", err)
			}
			src.number = n
		}
		return src, nil
	}
	if r.runner.RunID == 0 {
		return mergeSource{}, errors.New("mode merge: GITHUB_RUN_ID is not set: it merges the legs of a workflow run")
	}
	return mergeSource{runID: r.runner.RunID, number: r.ev.prNumber(), headSHA: r.ev.headSHA(r.runner.SHA)}, nil
}

// legArtifacts are the report artifacts of run runID by entry id: those
// called report-artifact or report-artifact-ID, the newest of each name.
func (r *run) legArtifacts(ctx context.Context, runID int64) (map[string]Artifact, error) {
	arts, err := r.github.RunArtifacts(ctx, runID)
	var trunc *TruncatedError
	if errors.As(err, &trunc) {
		r.actions.Warningf("gate: %v", err)
	} else if err != nil {
		return nil, err
	}
	legs := map[string]Artifact{}
	for _, a := range arts {
		id, ok := idOf(a.Name, r.in.ReportArtifact)
		if !ok || a.Expired {
			continue
		}
		if best, have := legs[id]; !have || newer(a, best) {
			legs[id] = a
		}
	}
	return legs, nil
}

// entryIDs are the expected ids and those of the artifacts found, sorted.
func entryIDs(expected []string, legs map[string]Artifact) []string {
	ids := append([]string(nil), expected...)
	for id := range legs {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// mergeEntry judges one entry: its leg's summary against its own
// baseline, under the rules the baseline recorded. An entry without a
// usable artifact is missing.
func (r *run) mergeEntry(ctx context.Context, cfg *config.Config, id string, legs map[string]Artifact, src mergeSource, listErr error) (render.Entry, Outcome, acceptEntry) {
	name := withID(r.in.ReportArtifact, id)
	missing := func(why string) (render.Entry, Outcome, acceptEntry) {
		fmt.Fprintf(r.env.Stdout, "gate: entry %s: missing: %s\n", render.EntryID(id), why)
		return render.Entry{ID: id, Verdict: compare.Missing, Why: why},
			Outcome{Verdict: compare.Missing, FailOn: r.in.FailOn, Config: cfg}, acceptEntry{id: id}
	}
	a, ok := legs[id]
	switch {
	case listErr != nil:
		return missing(fmt.Sprintf("the artifacts of run %d could not be listed: %v", src.runID, listErr))
	case !ok:
		return missing(fmt.Sprintf("no artifact %s in run %d: its leg crashed, was cancelled or uploaded nothing", name, src.runID))
	}
	head, err := r.headOf(ctx, a)
	if err != nil {
		return missing(err.Error())
	}
	ec := *cfg
	ec.ID = id
	if head.Source.Commit == "" {
		head.Source.Commit = src.headSHA
	}
	proposed := proposedBy(&ec, "entry "+render.EntryID(id)+"'s summary", head)
	res, judging, bf, err := r.judge(ctx, &ec, proposed, head, withID(r.in.BaselineArtifact, id))
	if err != nil {
		return missing(fmt.Sprintf("judging its summary: %v", err))
	}
	res.ReportURL = r.artifactURL(src.runID, a.ID)
	fmt.Fprintf(r.env.Stdout, "gate: entry %s: %s\n", render.EntryID(id), render.VerdictWords(res.Verdict))
	return render.Entry{ID: id, Verdict: res.Verdict, Result: res, ReportURL: res.ReportURL},
		Outcome{Verdict: res.Verdict, Counts: res.Counts, FailOn: r.in.FailOn, Config: judging, FirstRun: bf.Yet},
		acceptEntry{id: id, res: res, label: judging.AcceptLabel, failOn: r.in.FailOn}
}

// artifactURL links an artifact of a run: its page, which downloads the
// zip with the entry's report.html.
func (r *run) artifactURL(runID, artifactID int64) string {
	if r.repo == "" {
		return ""
	}
	return fmt.Sprintf("%s/artifacts/%d", r.runLink(runID), artifactID)
}

// writeMerged writes the merged report (markdown, JSON, HTML) to the
// output directory and returns the markdown's path.
func (r *run) writeMerged(m *render.Merged, ropts render.Options) (string, error) {
	reportPath := filepath.Join(r.in.OutputDir, reportMarkdownFile)
	for _, f := range []struct {
		path  string
		write func(*bytes.Buffer) error
	}{
		{reportPath, func(b *bytes.Buffer) error { return render.MergedMarkdown(b, m, ropts) }},
		{filepath.Join(r.in.OutputDir, reportResultFile), func(b *bytes.Buffer) error { return render.MergedJSON(b, m) }},
		{filepath.Join(r.in.OutputDir, reportHTMLFile), func(b *bytes.Buffer) error { return render.MergedHTML(b, m, ropts) }},
	} {
		if err := writeFileWith(f.path, f.write); err != nil {
			return "", err
		}
	}
	return reportPath, nil
}

// annotateMerged adds an error annotation per failed or missing entry and
// a warning per entry that judged nothing, at most nine of each.
func (r *run) annotateMerged(m *render.Merged) {
	const perKind = 9
	var nErr, nWarn int
	for _, e := range m.Entries {
		what := e.Why
		if e.Result != nil {
			what = render.OneLine(strings.Join(append(append([]string(nil), e.Result.Reasons...), fmt.Sprintf("%d failed, %d warned", e.Result.Counts.Fail, e.Result.Counts.Warn)), "; "))
		}
		title := map[string]string{"title": "gate: " + render.EntryID(e.ID) + ": " + render.VerdictWords(e.Verdict)}
		switch e.Verdict {
		case compare.Fail, compare.Missing:
			if nErr++; nErr <= perKind {
				r.actions.WithFieldsMap(title).Errorf("%s", render.OneLine(what))
			}
		case compare.NotComparable, compare.BaselineUnavailable, compare.NoBaseline:
			if nWarn++; nWarn <= perKind {
				r.actions.WithFieldsMap(title).Warningf("%s", render.OneLine(what))
			}
		case compare.Accepted:
			r.actions.WithFieldsMap(title).Noticef("%s", render.OneLine(what))
		}
	}
}

// mergedDigest is what on-change compares: each entry's id, verdict and
// result digest, and what was accepted.
func mergedDigest(m *render.Merged) string {
	var parts []string
	for _, e := range m.Entries {
		d := e.Why
		if e.Result != nil {
			d = resultDigest(e.Result)
		}
		parts = append(parts, e.ID, string(e.Verdict), d)
	}
	for _, a := range m.Acceptances {
		parts = append(parts, a.Target, a.Reason, a.By, fmt.Sprint(len(a.Accepted)), a.Refused)
	}
	return digestOf(parts...)
}
