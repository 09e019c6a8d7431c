package action

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/nsys-gate/gate/compare"
	"github.com/nsys-gate/gate/gate/config"
	"github.com/nsys-gate/gate/gate/load"
	"github.com/nsys-gate/gate/internal/safefile"
	"github.com/nsys-gate/gate/parse"
	"github.com/nsys-gate/gate/render"
)

// profileOrCompare is the profile and compare modes: make the head summary,
// find the baseline, compare, report, comment, and say what was decided.
func (r *run) profileOrCompare(ctx context.Context) (Outcome, error) {
	cfg, err := config.Load(r.in.Config)
	if err != nil {
		return Outcome{}, fmt.Errorf("input config: %w", err)
	}
	if r.in.Scope != "" {
		cfg.Scope = r.in.Scope
	}
	if _, err := cfg.CompareOptions(); err != nil {
		return Outcome{}, fmt.Errorf("%s: %w", r.in.Config, err)
	}
	if err := safefile.Dir(r.in.OutputDir); err != nil {
		return Outcome{}, fmt.Errorf("input output-dir: %w", err)
	}
	id, err := r.nameEntry(cfg)
	if err != nil {
		return Outcome{}, err
	}
	head, summaryPath, err := r.head(ctx, cfg)
	if err != nil {
		return Outcome{}, err
	}
	res, judging, bf, err := r.judge(ctx, cfg, cfg, head, withID(r.in.BaselineArtifact, id))
	if err != nil {
		return Outcome{}, err
	}
	res.ReportURL = r.runURL()
	ropts := render.Options{FullReportURL: r.runURL(), BaselineCommit: bf.Commit}
	md, reportPath, err := r.writeReports(res, ropts)
	if err != nil {
		return Outcome{}, err
	}

	out := Outcome{Verdict: res.Verdict, Counts: res.Counts, FailOn: r.in.FailOn, Config: judging, FirstRun: bf.Yet}
	var notes []string
	note := "" // what the pull request accepted
	if r.in.Leg {
		// The merge job judges, posts and fails; a leg fails only when it
		// could not make its result.
		r.annotate(res, bf.Yet, nil)
		out.FailOn = FailOnNever
		fmt.Fprintf(r.env.Stdout, "gate: entry %s: %s; the merge job posts and gates it\n", render.EntryID(id), render.VerdictWords(res.Verdict))
	} else {
		whole, lines := r.acceptSingle(ctx, id, res, judging)
		if whole {
			out.Verdict = compare.Accepted
		}
		r.annotate(res, bf.Yet, acceptedOf(lines, id))
		note = render.AcceptanceMarkdown(lines)
		p := singlePost(acceptedComment(md, note, res, ropts), id, res, out.Verdict)
		notes = r.publish(ctx, r.ev.prNumber(), p, r.ev.headSHA(r.runner.SHA), r.env.ExitCode(out))
	}
	r.jobSummary(res, ropts, note, notes)
	r.setOutputs(
		"verdict", string(out.Verdict),
		"regressions", fmt.Sprint(res.Counts.Fail),
		"summary-path", r.outputPath(summaryPath),
		"report-path", r.outputPath(reportPath),
		"id", id,
		"baseline-artifact", withID(r.in.BaselineArtifact, id),
		"report-artifact", withID(r.in.ReportArtifact, id),
	)
	return out, nil
}

// nameEntry names the configuration this run gates (entryID) and sets
// the id on cfg, noting whether it is gate.yml's (renamedBaseline).
func (r *run) nameEntry(cfg *config.Config) (string, error) {
	id, err := entryID(r.in, cfg)
	if err != nil {
		return "", err
	}
	r.idFromConfig = r.in.ID == "" && cfg.ID != ""
	cfg.ID = id
	return id, nil
}

// judge compares head with the baseline under the rules that apply: the
// ones the baseline recorded (reviewed, merged), else cfg's. When proposed,
// the head's own gate.yml, would judge differently, the result lists how. It
// returns the result, the configuration that judged (its exit codes decide
// the step) and what the search for the baseline found.
func (r *run) judge(ctx context.Context, cfg, proposed *config.Config, head *parse.Summary, baselineName string) (*compare.Result, *config.Config, baseFind, error) {
	bf := r.baseline(ctx, cfg, baselineName)
	judging := r.judgingConfig(cfg, bf.Summary)
	opts, err := judging.CompareOptions()
	if err != nil {
		return nil, nil, bf, err
	}
	res := compare.Compare(bf.Summary, head, opts)
	if bf.Summary == nil && bf.Reason != "" {
		res.Reasons = append([]string{bf.Reason}, res.Reasons...)
	}
	if bf.Unavailable {
		res.Verdict = compare.BaselineUnavailable
	}
	res.Baseline = bf.Origin
	names := make([]string, len(res.Metrics))
	for i, m := range res.Metrics {
		names[i] = m.Name
	}
	res.RuleChanges = config.Changes(judging, proposed, names, maxRuleChanges)
	return res, judging, bf, nil
}

// proposedBy is cfg under the rules head recorded (the gate.yml of the
// pull request that made it, what judge lists the rule changes of), or cfg
// itself when head records none or they cannot be read. what names head in
// errors.
func proposedBy(cfg *config.Config, what string, head *parse.Summary) *config.Config {
	if len(head.Gate) == 0 {
		return cfg
	}
	p, err := cfg.WithRecord(what, head.Gate)
	if err != nil {
		return cfg
	}
	return p
}

// maxRuleChanges bounds the metrics whose rule changes the report lists.
const maxRuleChanges = 20

// judgingConfig is cfg with the judging part (rules, kernel share, exit
// codes, accept label) that base recorded, or cfg itself when there is no
// baseline or it records none (an older gate made it). The accept label is
// only ever the recorded one: cfg may be the pull request's own gate.yml,
// and a pull request that named a label already on it would accept its own
// regressions. The log says so when cfg names another.
func (r *run) judgingConfig(cfg *config.Config, base *parse.Summary) *config.Config {
	j := r.recordedConfig(cfg, base)
	if cfg.AcceptLabel != "" && j.AcceptLabel != cfg.AcceptLabel {
		fmt.Fprintf(r.env.Stdout, "gate: gate.yml names accept-label %q, but only the baseline's recorded one (%q) counts: it takes effect once merged\n", cfg.AcceptLabel, j.AcceptLabel)
	}
	return j
}

// recordedConfig is judgingConfig without the note: cfg under base's
// record, or cfg less its accept label.
func (r *run) recordedConfig(cfg *config.Config, base *parse.Summary) *config.Config {
	unrecorded := *cfg
	unrecorded.AcceptLabel = ""
	if base == nil {
		return &unrecorded
	}
	if len(base.Gate) == 0 {
		fmt.Fprintln(r.env.Stdout, "gate: the baseline records no rules (an older gate made it): this run's gate.yml judges, and nothing can be accepted")
		return &unrecorded
	}
	judging, err := cfg.WithRecord("baseline", base.Gate)
	if err != nil {
		r.actions.Warningf("gate: %v; this run's gate.yml judges, and nothing can be accepted", err)
		return &unrecorded
	}
	return judging
}

// head makes the summary being gated, from the workload (mode profile) or
// the profile input, and writes it to the output directory, where it is the
// next baseline. Its commit is the one being gated.
func (r *run) head(ctx context.Context, cfg *config.Config) (*parse.Summary, string, error) {
	var head *parse.Summary
	var err error
	if r.in.Mode == modeProfile {
		if head, err = r.profile(ctx, cfg); err != nil {
			return nil, "", fmt.Errorf("profiling: %w", err)
		}
	} else if head, err = r.load(ctx, r.in.Profile, cfg.ParseOptions()); err != nil {
		return nil, "", fmt.Errorf("input profile: %w", err)
	}
	if head.Source.Commit == "" {
		head.Source.Commit = r.ev.headSHA(r.runner.SHA)
	}
	// The rules travel with the summary, for when it is the baseline.
	if head.Gate, err = cfg.Record(); err != nil {
		return nil, "", err
	}
	path := filepath.Join(r.in.OutputDir, load.SummaryFile)
	if err := writeFileWith(path, func(b *bytes.Buffer) error { return parse.EncodeSummary(b, head) }); err != nil {
		return nil, "", err
	}
	return head, path, nil
}

// writeReports writes the markdown, JSON and HTML reports to the output
// directory and returns the markdown and its path.
func (r *run) writeReports(res *compare.Result, ropts render.Options) (string, string, error) {
	reportPath := filepath.Join(r.in.OutputDir, reportMarkdownFile)
	var md bytes.Buffer
	if err := render.Markdown(&md, res, ropts); err != nil {
		return "", "", err
	}
	for _, f := range []struct {
		path  string
		write func(*bytes.Buffer) error
	}{
		{reportPath, func(b *bytes.Buffer) error { b.Write(md.Bytes()); return nil }},
		{filepath.Join(r.in.OutputDir, reportResultFile), func(b *bytes.Buffer) error { return render.JSON(b, res) }},
		{filepath.Join(r.in.OutputDir, reportHTMLFile), func(b *bytes.Buffer) error { return render.HTML(b, res, ropts) }},
	} {
		if err := writeFileWith(f.path, f.write); err != nil {
			return "", "", err
		}
	}
	return md.String(), reportPath, nil
}

// profile runs the workload under nsys. The workload is the pull request's
// code: it gets an environment without the runner's file commands, tokens
// or inputs (workloadEnv), so it cannot write the step's outputs or job
// summary nor use the token; the runner's workflow commands are switched off
// (stop-commands with a random token) while anything it prints can reach
// the log; and the profiler kills what it leaves running.
func (r *run) profile(ctx context.Context, cfg *config.Config) (*parse.Summary, error) {
	if r.env.Profiler == nil {
		return nil, errors.New("no profiler to run the workload with")
	}
	token, err := heredocDelimiter()
	if err != nil {
		return nil, err
	}
	// One folded group in the log: the workload's lines need not scroll by
	// to reach the verdict. Opened before stop-commands, which would ignore
	// it, and closed after the resume.
	r.actions.Group("gate: profiling " + clipCommand(r.in.Command))
	defer r.actions.EndGroup()
	r.actions.IssueCommand(&githubactions.Command{Name: "stop-commands", Message: token})
	s, perr := r.env.Profiler.Profile(ctx, ProfileRequest{
		Command:  r.in.Command,
		NsysArgs: r.in.NsysArgs,
		Dir:      r.in.OutputDir,
		Parse:    cfg.ParseOptions(),
		Stdout:   r.env.Stdout, // one stream, so that the resume line comes after all of it
		Getenv:   r.env.Getenv,
		Env:      workloadEnv(r.environ()),
	})
	fmt.Fprintf(r.env.Stdout, "\n::%s::\n", token)
	return s, perr
}

// clipCommand is a workload's command line for a log group's title: one
// line, at most 80 characters.
func clipCommand(c string) string {
	c = strings.Join(strings.Fields(c), " ")
	if r := []rune(c); len(r) > 80 {
		c = string(r[:79]) + "…"
	}
	return c
}

// load reads a profile in any form, through Env.Load.
func (r *run) load(ctx context.Context, path string, opts parse.Options) (*parse.Summary, error) {
	if r.env.Load == nil {
		return load.Summary(ctx, path, opts)
	}
	return r.env.Load(ctx, path, opts)
}

// environ is the step's whole environment.
func (r *run) environ() []string {
	if r.env.Environ == nil {
		return nil
	}
	return r.env.Environ()
}

// workloadEnv is environ less what lets a program act as the step: the
// runner's file commands (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_ENV,
// GITHUB_PATH, GITHUB_STATE), the runner's own ACTIONS_* endpoints and
// tokens, any *TOKEN* variable (GITHUB_TOKEN, a PAT the workflow passed) and
// the action's INPUT_* (INPUT_GITHUB-TOKEN among them). The rest (PATH,
// HOME, CUDA_*, GITHUB_SHA, GITHUB_WORKSPACE ...) stays: the workload needs
// it to run.
func workloadEnv(environ []string) []string {
	out := make([]string, 0, len(environ))
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		upper := strings.ToUpper(name)
		switch {
		case upper == "GITHUB_OUTPUT", upper == "GITHUB_STEP_SUMMARY", upper == "GITHUB_ENV", upper == "GITHUB_PATH", upper == "GITHUB_STATE":
		case strings.HasPrefix(upper, "ACTIONS_"), strings.HasPrefix(upper, "INPUT_"), strings.Contains(upper, "TOKEN"):
		default:
			out = append(out, kv)
		}
	}
	return out
}

// baseFind is what the search for the baseline found: the base summary
// and where it came from, or why there is none.
type baseFind struct {
	Summary *parse.Summary
	Commit  string // the commit it measured
	Origin  string // which artifact and why, for the report (baseline.origin)
	// Reason says why there is none; Unavailable that GitHub did not hand
	// it over (not "no baseline"), Yet that none was ever uploaded (the
	// gate's first run, which passes).
	Reason      string
	Unavailable bool
	Yet         bool
}

// baseline finds the base summary: the baseline input, else the artifact
// of the pull request's merge base, else the newest on its base branch,
// else the newest on the default branch (only on baseline-branch when that
// input is set). A baseline that exists but cannot be used is also reported
// as an error annotation: the result is then no_baseline or
// baseline_unavailable, never a pass.
func (r *run) baseline(ctx context.Context, cfg *config.Config, name string) baseFind {
	if r.in.Baseline != "" {
		s, err := r.load(ctx, r.in.Baseline, cfg.ParseOptions())
		if err != nil {
			r.actions.Errorf("gate: input baseline: %v", err)
			return baseFind{Reason: fmt.Sprintf("baseline %s could not be read", r.in.Baseline)}
		}
		return baseFind{Summary: s, Commit: s.Source.Commit}
	}
	if r.github == nil {
		return baseFind{Reason: "no baseline input, and no github-token and repository to fetch the baseline artifact with"}
	}
	q := baselineQuery{Name: name, Branches: r.baselineBranches()}
	if len(q.Branches) == 0 {
		return baseFind{Reason: "no baseline-branch input, and the event does not name the repository's default branch"}
	}
	b, skipped, err := fetchBaseline(ctx, r.github, q, r.mergeBase())
	for _, s := range skipped {
		fmt.Fprintf(r.env.Stdout, "gate: baseline: skipped %s\n", s)
	}
	if errors.Is(err, errNoBaselineYet) && r.idFromConfig && name != r.in.BaselineArtifact {
		if f, ok := r.renamedBaseline(ctx, q); ok {
			return f
		}
	}
	if err != nil {
		return r.noBaseline(err, q)
	}
	s, err := parse.DecodeSummary(bytes.NewReader(b.Data))
	if err != nil {
		r.actions.Errorf("gate: baseline artifact %q (%d) %s: %v", b.Artifact.Name, b.Artifact.ID, b.File, err)
		return baseFind{Reason: fmt.Sprintf("the baseline artifact %q is not a gate summary", name)}
	}
	if s.Source.Commit == "" {
		s.Source.Commit = b.Artifact.HeadSHA
	}
	origin := b.origin(r.now())
	fmt.Fprintf(r.env.Stdout, "gate: baseline: artifact %q (%d): %s\n", b.Artifact.Name, b.Artifact.ID, origin)
	return baseFind{Summary: s, Commit: b.Artifact.HeadSHA, Origin: origin}
}

// renamedBaseline is the case of a configuration whose gate.yml id now
// names its baseline (gate-baseline-ID) in a repository that uploads the
// plain gate-baseline, as it did before ids named artifacts: not a first
// run, which would pass every pull request while the upload step keeps
// its old name, but no baseline, loudly, saying what to rename.
func (r *run) renamedBaseline(ctx context.Context, q baselineQuery) (baseFind, bool) {
	old, err := r.github.Artifacts(ctx, r.in.BaselineArtifact)
	if err != nil || len(old) == 0 {
		return baseFind{}, false
	}
	return baseFind{Reason: fmt.Sprintf("no baseline: there is no artifact %q, but there are %q ones: gate.yml's id names this configuration's baselines; upload summary-path as the step's baseline-artifact output (%s) from a push to %s (docs/action.md, \"Naming entries\")", q.Name, r.in.BaselineArtifact, q.Name, q.Branches[0])}, true
}

// baselineBranches are the branches a baseline may come from, preferred
// first: the baseline-branch input alone, else a pull request's base branch
// and then the repository's default branch.
func (r *run) baselineBranches() []string {
	if r.in.BaselineBranch != "" {
		return []string{r.in.BaselineBranch}
	}
	var bs []string
	if pr := r.ev.PullRequest; pr != nil && pr.Base.Ref != "" {
		bs = append(bs, pr.Base.Ref)
	}
	if d := r.ev.Repository.DefaultBranch; d != "" && !slices.Contains(bs, d) {
		bs = append(bs, d)
	}
	return bs
}

// mergeBase asks GitHub where a pull request forked from its base branch;
// nil outside a pull request.
func (r *run) mergeBase() func(context.Context) (string, error) {
	pr := r.ev.PullRequest
	if pr == nil || pr.Base.SHA == "" || pr.Head.SHA == "" {
		return nil
	}
	return func(ctx context.Context) (string, error) { return r.github.MergeBase(ctx, pr.Base.SHA, pr.Head.SHA) }
}

// noBaseline says why fetchBaseline found none: the first run of a new
// gate (a note, and the step passes), no usable artifact (loud: exit 3), or
// GitHub failing (unavailable).
func (r *run) noBaseline(err error, q baselineQuery) baseFind {
	switch {
	case errors.Is(err, errNoBaselineYet):
		reason := fmt.Sprintf("no baseline yet: upload this run's summary-path as the artifact %q from a push to %s and it becomes the baseline", q.Name, q.Branches[0])
		if r.ev.prNumber() != 0 {
			reason = "no baseline yet: this run will become the baseline once merged"
		}
		return baseFind{Reason: reason, Yet: true}
	case errors.Is(err, errNoBaseline):
		return baseFind{Reason: fmt.Sprintf("no baseline: no unexpired artifact %q from branch %s; upload %s from a push to %s (see docs/action.md)", q.Name, quoteAll(q.Branches), load.SummaryFile, q.Branches[0])}
	case isForbidden(err):
		r.actions.Errorf("gate: baseline: %v (the workflow needs permissions: actions: read)", err)
	default:
		r.actions.Errorf("gate: baseline: %v", err)
	}
	if errors.Is(err, errUnavailable) && !isForbidden(err) {
		why := err.Error()
		var ae *APIError
		if errors.As(err, &ae) {
			why = ae.Op + ": " + ae.Short()
		}
		return baseFind{Reason: fmt.Sprintf("baseline unavailable: %s; re-run the job", why), Unavailable: true}
	}
	return baseFind{Reason: fmt.Sprintf("the baseline artifact %q could not be used: %v", q.Name, err)}
}

// shortSHA is the prefix of a commit id that people read.
func shortSHA(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// publish posts the sticky comment and the check run. Neither can fail the
// gate: a read-only token (fork PRs) or a missing permission is a warning,
// and the job summary carries the report instead. It returns notes for the
// job summary.
func (r *run) publish(ctx context.Context, number int, p post, headSHA string, exit int) []string {
	notes, commentURL := r.postComment(ctx, number, p)
	r.setOutputs("comment-url", commentURL)
	if r.in.CheckRun && r.github != nil && headSHA != "" {
		r.postCheckRun(ctx, p, headSHA, exit)
	}
	return notes
}

// post is a report as publish posts it.
type post struct {
	md      string          // the markdown, fitted to leave room for the digest line
	id      string          // the configuration whose marker keys the comment
	digest  string          // what on-change compares (resultDigest)
	verdict compare.Verdict // what the check run says
}

// singlePost is the post of one configuration's result, whose verdict (an
// acceptance can change it) is v.
func singlePost(md, id string, res *compare.Result, v compare.Verdict) post {
	d := resultDigest(res)
	if v != res.Verdict {
		d = digestOf(d, string(v))
	}
	return post{md: md, id: id, digest: d, verdict: v}
}

// postComment posts or edits the sticky comment on pull request number (0:
// the event is not about one) and returns the notes for the job summary
// and the comment's URL.
func (r *run) postComment(ctx context.Context, number int, p post) ([]string, string) {
	switch {
	case r.in.Comment == commentNever:
		return nil, ""
	case number == 0:
		fmt.Fprintln(r.env.Stdout, "gate: not a pull request event: no comment")
		return nil, ""
	case r.github == nil:
		r.actions.Warningf("gate: no github-token: the report is in the job summary only")
		return []string{"No comment was posted: the action had no github-token."}, ""
	}
	out, err := r.sticky(ctx, number, p)
	switch {
	case err == nil:
		fmt.Fprintf(r.env.Stdout, "gate: comment %s %s\n", out.Action, out.URL)
		return nil, out.URL
	case isForbidden(err):
		why := "the token may not write pull request comments (permissions: pull-requests: write)"
		if r.ev.fromFork() {
			why = "pull requests from forks get a read-only token; use the two-workflow setup (mode: comment from workflow_run) to comment on them"
		}
		r.actions.Warningf("gate: could not comment: %v; %s. The report is in the job summary.", err, why)
		return []string{"No PR comment was posted: " + why + "."}, ""
	default:
		r.actions.Warningf("gate: could not comment: %v. The report is in the job summary.", err)
		return []string{"No PR comment was posted: the GitHub API call failed."}, ""
	}
}

// identity is the login the token's comments are written by. When GitHub
// cannot say, it is the GITHUB_TOKEN's bot, the default token: gate then
// finds no comment of another token's and posts a new one, never adopting
// anyone else's.
func (r *run) identity(ctx context.Context) string {
	login, err := r.github.Identity(ctx)
	if err != nil {
		r.actions.Warningf("gate: %v; taking the token for a GITHUB_TOKEN (%s)", err, githubActionsBot)
		return githubActionsBot
	}
	return login
}

// githubActionsBot writes the comments of a GITHUB_TOKEN.
const githubActionsBot = "github-actions[bot]"

// postCheckRun records the verdict as a check run on the head commit; exit
// is the step's exit code.
func (r *run) postCheckRun(ctx context.Context, p post, headSHA string, exit int) {
	err := r.github.CreateCheckRun(ctx, CheckRun{
		Name:       r.in.CheckName,
		HeadSHA:    headSHA,
		Conclusion: checkConclusion(p.verdict, exit),
		Title:      fmt.Sprintf("gate: %s", render.VerdictWords(p.verdict)),
		Summary:    truncateUTF16(p.md, render.CommentBudget-1),
		DetailsURL: r.runURL(),
	})
	switch {
	case err == nil:
	case isForbidden(err):
		r.actions.Warningf("gate: no check run: %v (needs permissions: checks: write; set check-run: false to skip)", err)
	default:
		r.actions.Warningf("gate: no check run: %v", err)
	}
}

// checkConclusion follows the step: a step that fails (exit != 0) is a
// failure, whatever the verdict, because required checks treat neutral as
// passing. neutral is left for a verdict that judged nothing on a step that
// gate.yml lets pass (exit: no-baseline: 0); a regression stays a failure
// even under fail-on: never.
func checkConclusion(v compare.Verdict, exit int) string {
	switch {
	case exit != 0 || v == compare.Fail:
		return "failure"
	case v == compare.Pass || v == compare.Warn || v == compare.Info || v == compare.Accepted:
		return "success"
	}
	return "neutral"
}

// jobSummary appends the report, rendered within the runner's 1 MiB limit,
// and the notes to the job summary.
func (r *run) jobSummary(res *compare.Result, ropts render.Options, accepted string, notes []string) {
	ropts.Budget = render.StepSummaryBudget - render.UTF16Len(accepted)
	var md bytes.Buffer
	if err := render.Markdown(&md, res, ropts); err != nil {
		r.actions.Warningf("gate: job summary: %v", err)
		return
	}
	r.summaryWith(afterMarker(md.String(), accepted), notes)
}

// summaryWith appends md and the notes to the job summary.
func (r *run) summaryWith(md string, notes []string) {
	var b bytes.Buffer
	b.WriteString(md)
	for _, n := range notes {
		fmt.Fprintf(&b, "\n> [!WARNING]\n> %s\n", n)
	}
	if err := r.files.addSummary(b.String()); err != nil {
		r.actions.Warningf("gate: job summary: %v", err)
	}
}

// writeFileWith writes what fill puts in a buffer to path, naming path in
// errors: whole or not at all, and never through a symlink (the output
// directory is in the pull request's checkout).
func writeFileWith(path string, fill func(*bytes.Buffer) error) error {
	var b bytes.Buffer
	if err := fill(&b); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return safefile.Write(path, b.Bytes())
}

// comment is the fork-safe mode: in a workflow_run workflow, post the
// verdict on the summary that the triggering pull_request run uploaded. The
// artifact is untrusted: a fork's run can write any result.json (a "pass"
// above 13 failed metrics) and any config id. So only its summary.json, the
// head's measurements, is read, and gate judges it here again: against the
// baseline it fetches itself, under the baseline's recorded rules or this
// workflow's gate.yml, with this workflow's config id. The PR is looked up
// from the run's head commit and repository through the API, never read from
// the artifact. Only a setup error is an error: what the triggering run left
// (no artifact, no pull request) is a warning.
func (r *run) comment(ctx context.Context) error {
	wr := r.ev.WorkflowRun
	if wr == nil {
		return fmt.Errorf("mode comment runs in a workflow triggered by workflow_run (event %q has no workflow_run)", r.runner.EventName)
	}
	if r.github == nil {
		return errors.New("mode comment needs github-token and GITHUB_REPOSITORY")
	}
	if wr.Event != "pull_request" {
		fmt.Fprintf(r.env.Stdout, "gate: the triggering run was a %q event, not a pull request: nothing to comment on\n", wr.Event)
		return nil
	}
	cfg, err := config.Load(r.in.Config)
	if err != nil {
		return fmt.Errorf("input config: %w", err)
	}
	id, err := r.nameEntry(cfg)
	if err != nil {
		return err
	}
	head, _, err := r.fetchHead(ctx, wr.ID, withID(r.in.ReportArtifact, id))
	if err != nil {
		r.actions.Warningf("gate: run %d: %v", wr.ID, err)
		return nil
	}
	if head.Source.Commit == "" {
		head.Source.Commit = wr.HeadSHA
	}
	number, err := r.triggeringPR(ctx)
	if err != nil {
		r.actions.Warningf("gate: %v", err)
		return nil
	}
	res, judging, bf, err := r.judge(ctx, cfg, proposedBy(cfg, "the pull request's summary", head), head, withID(r.in.BaselineArtifact, id))
	if err != nil {
		return err
	}
	res.ReportURL = r.runLink(wr.ID)
	ropts := render.Options{FullReportURL: r.runLink(wr.ID), BaselineCommit: bf.Commit}
	var md bytes.Buffer
	if err := render.Markdown(&md, res, ropts); err != nil {
		return err
	}
	verdict := res.Verdict
	whole, lines := r.acceptSingle(ctx, id, res, judging)
	if whole {
		verdict = compare.Accepted
	}
	note := render.AcceptanceMarkdown(lines)
	if err := safefile.Dir(r.in.OutputDir); err == nil {
		p := filepath.Join(r.in.OutputDir, reportMarkdownFile)
		if writeFileWith(p, func(b *bytes.Buffer) error { b.Write(md.Bytes()); return nil }) == nil {
			r.setOutputs("report-path", r.outputPath(p))
		}
	}
	url := r.commentOn(ctx, number, singlePost(acceptedComment(md.String(), note, res, ropts), id, res, verdict))
	r.jobSummary(res, ropts, note, nil)
	r.setOutputs("verdict", string(verdict), "regressions", fmt.Sprint(res.Counts.Fail), "comment-url", url)
	return nil
}

// sticky posts gate's comment for configuration id on pull request number,
// or edits the one it posted before, and passes on what upsertComment
// warns about.
func (r *run) sticky(ctx context.Context, number int, p post) (commentOutcome, error) {
	body := commentBody(p.md, render.Marker(p.id), p.digest)
	out, err := upsertComment(ctx, r.github, number, render.Marker(p.id), r.identity(ctx), body, r.in.Comment)
	if err == nil && out.Warning != "" {
		r.actions.Warningf("gate: %s", out.Warning)
	}
	return out, err
}

// commentOn posts the comment mode's sticky comment on pull request number
// and returns its URL ("" when it could not).
func (r *run) commentOn(ctx context.Context, number int, p post) string {
	out, err := r.sticky(ctx, number, p)
	switch {
	case err == nil:
		fmt.Fprintf(r.env.Stdout, "gate: comment on #%d %s %s\n", number, out.Action, out.URL)
		return out.URL
	case isForbidden(err):
		r.actions.Warningf("gate: could not comment on #%d: %v (the workflow needs permissions: pull-requests: write)", number, err)
	default:
		r.actions.Warningf("gate: could not comment on #%d: %v", number, err)
	}
	return ""
}

// fetchHead downloads the report artifact called name of run runID and
// decodes the head summary in it.
func (r *run) fetchHead(ctx context.Context, runID int64, name string) (*parse.Summary, Artifact, error) {
	arts, err := r.github.RunArtifacts(ctx, runID)
	if err != nil {
		return nil, Artifact{}, err
	}
	found, ok := newestNamed(arts, name)
	if !ok {
		return nil, Artifact{}, fmt.Errorf("no artifact %q: did the pull request workflow upload the output directory?", name)
	}
	head, err := r.headOf(ctx, found)
	return head, found, err
}

// newestNamed is the newest unexpired artifact called name: a re-run's
// attempt uploads its own.
func newestNamed(arts []Artifact, name string) (Artifact, bool) {
	var found Artifact
	ok := false
	for _, a := range arts {
		if a.Name != name || a.Expired {
			continue
		}
		if !ok || newer(a, found) {
			found, ok = a, true
		}
	}
	return found, ok
}

// newer reports whether artifact a was made after b: the later CreatedAt,
// else (the same second) the higher id.
func newer(a, b Artifact) bool {
	if !a.CreatedAt.Equal(b.CreatedAt) {
		return a.CreatedAt.After(b.CreatedAt)
	}
	return a.ID > b.ID
}

// headOf downloads a report artifact and decodes the head summary in it,
// the only file of it gate reads.
func (r *run) headOf(ctx context.Context, a Artifact) (*parse.Summary, error) {
	data, err := r.github.DownloadArtifact(ctx, a.ID, maxArtifactZip)
	if err != nil {
		return nil, err
	}
	files, err := unzip(data, defaultUnzipLimits())
	if err != nil {
		return nil, fmt.Errorf("artifact %q: %w", a.Name, err)
	}
	f, ok := findZipFile(files, load.SummaryFile)
	if !ok {
		return nil, fmt.Errorf("artifact %q has no %s: upload the whole output directory (gate re-judges the summary; it never trusts %s)", a.Name, load.SummaryFile, reportResultFile)
	}
	head, err := parse.DecodeSummary(bytes.NewReader(f.Data))
	if err != nil {
		return nil, fmt.Errorf("artifact %q: %s: %w", a.Name, f.Name, err)
	}
	return head, nil
}

func hintNumbers(prs []struct {
	Number int `json:"number"`
}) []int {
	var out []int
	for _, p := range prs {
		out = append(out, p.Number)
	}
	return out
}

// triggeringPR finds the pull request of a workflow_run's triggering run
// (findPR) and makes it this run's, as the pull_request job saw it: its
// baseline comes from its base branch and merge base, and its labels and
// description accept regressions, as they did in that job.
func (r *run) triggeringPR(ctx context.Context) (int, error) {
	wr := r.ev.WorkflowRun
	pr, err := r.findPR(ctx, wr.HeadSHA, wr.HeadRepository.FullName, hintNumbers(wr.PullRequests))
	if err != nil {
		return 0, err
	}
	r.ev.PullRequest = &eventPR{Number: pr.Number}
	r.ev.PullRequest.Head.SHA = wr.HeadSHA
	r.ev.PullRequest.Base.Ref, r.ev.PullRequest.Base.SHA = pr.BaseRef, pr.BaseSHA
	return pr.Number, nil
}

// findPR returns the open pull request whose head is sha in headRepo. The
// event's pull_requests list (empty for forks) only breaks ties.
func (r *run) findPR(ctx context.Context, sha, headRepo string, hints []int) (PullRequest, error) {
	if sha == "" {
		return PullRequest{}, fmt.Errorf("the workflow_run event has no head_sha")
	}
	prs, err := r.github.PullRequestsForCommit(ctx, sha)
	if err != nil {
		return PullRequest{}, err
	}
	var cands []PullRequest
	for _, p := range prs {
		if p.HeadSHA == sha && (headRepo == "" || strings.EqualFold(p.HeadRepo, headRepo)) && p.State == "open" {
			cands = append(cands, p)
		}
	}
	for _, c := range cands {
		if slices.Contains(hints, c.Number) {
			return c, nil
		}
	}
	if len(cands) == 0 {
		return PullRequest{}, fmt.Errorf("no open pull request has head %s from %s: nothing to comment on", shortSHA(sha), headRepo)
	}
	return cands[0], nil
}
