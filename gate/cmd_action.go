package gate

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/nsys-gate/gate/compare"
	"github.com/nsys-gate/gate/parse"
	"github.com/nsys-gate/gate/render"
)

// runAction is `gate action`: the GitHub Action's entry point. Its inputs
// come from the INPUT_* environment (action.yml), so the same binary runs as
// the Docker action or directly on a runner. It writes the report, the job
// summary and the outputs, posts the sticky PR comment and exits by the
// verdict and fail-on.
func (c *Command) runAction(args []string) int {
	fs := flag.NewFlagSet("gate action", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: gate action\n\nRuns as a GitHub Action; inputs come from INPUT_* variables (see action.yml and docs/action.md).")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitError
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(c.Stderr, "gate action: takes no arguments, inputs come from INPUT_* variables (got %q)\n", fs.Args())
		return ExitError
	}
	r, err := c.newActionRun()
	if err != nil {
		// A workflow command, so that the failure shows on the run's page.
		githubactions.New(githubactions.WithGetenv(c.Getenv), githubactions.WithWriter(c.Stdout)).Errorf("gate: %v", err)
		return ExitError
	}
	ctx := context.Background()
	if r.in.Mode == modeComment {
		return r.comment(ctx)
	}
	return r.gate(ctx)
}

// gate is the profile and compare modes: make the head summary, find the
// baseline, compare, report, comment, exit by verdict.
func (r *actionRun) gate(ctx context.Context) int {
	cfg, err := LoadConfig(r.in.Config)
	if err != nil {
		r.gh.Errorf("gate: input config: %v", err)
		return ExitError
	}
	if r.in.Scope != "" {
		cfg.Scope = r.in.Scope
	}
	opts, err := cfg.CompareOptions()
	if err != nil {
		r.gh.Errorf("gate: %s: %v", r.in.Config, err)
		return ExitError
	}
	if err := os.MkdirAll(r.in.OutputDir, 0o755); err != nil {
		r.gh.Errorf("gate: input output-dir: %v", err)
		return ExitError
	}

	var head *parse.Summary
	if r.in.Mode == modeProfile {
		head, err = r.profile(ctx, cfg)
		if err != nil {
			r.gh.Errorf("gate: profiling: %v", err)
			return ExitError
		}
	} else {
		head, err = LoadSummary(r.in.Profile, ParseOptions(cfg))
		if err != nil {
			r.gh.Errorf("gate: input profile: %v", err)
			return ExitError
		}
	}
	headSHA := r.ev.headSHA(r.ctx.SHA)
	if head.Source.Commit == "" {
		head.Source.Commit = headSHA
	}
	summaryPath := filepath.Join(r.in.OutputDir, reportSummaryFile)
	if err := writeFileWith(summaryPath, func(b *bytes.Buffer) error { return WriteSummaryJSON(b, head) }); err != nil {
		r.gh.Errorf("gate: %v", err)
		return ExitError
	}

	base, baseCommit, reason := r.baseline(ctx, cfg)
	res := compare.Compare(base, head, opts)
	if base == nil && reason != "" {
		res.Reasons = append([]string{reason}, res.Reasons...)
	}

	ropts := render.Options{FullReportURL: r.runURL(), BaselineCommit: baseCommit}
	reportPath := filepath.Join(r.in.OutputDir, reportMarkdownFile)
	var md bytes.Buffer
	if err := render.Markdown(&md, res, ropts); err != nil {
		r.gh.Errorf("gate: %v", err)
		return ExitError
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
			r.gh.Errorf("gate: %v", err)
			return ExitError
		}
	}
	r.annotate(res)
	notes := r.publish(ctx, res, fitComment(md.String(), res, ropts), cfg.ID, headSHA)
	r.jobSummary(res, ropts, notes)
	r.setOutputs(
		"verdict", string(res.Verdict),
		"regressions", fmt.Sprint(res.Counts.Fail),
		"summary-path", r.outputPath(summaryPath),
		"report-path", r.outputPath(reportPath),
	)
	code := exitFor(res.Verdict, r.in.FailOn, cfg)
	fmt.Fprintf(r.c.Stdout, "gate: %s (%d failed, %d warned, %d passed); exit %d\n", verdictWords(res.Verdict), res.Counts.Fail, res.Counts.Warn, res.Counts.Pass, code)
	return code
}

// profile runs the workload under nsys, with the runner's workflow commands
// switched off while its output streams by: a workload's stdout must not be
// able to set outputs or forge annotations.
func (r *actionRun) profile(ctx context.Context, cfg *Config) (*parse.Summary, error) {
	token, err := heredocDelimiter()
	if err != nil {
		return nil, err
	}
	r.gh.IssueCommand(&githubactions.Command{Name: "stop-commands", Message: token})
	s, perr := newActionProfiler().Profile(ctx, profileRequest{
		Command:  r.in.Command,
		NsysArgs: r.in.NsysArgs,
		Dir:      r.in.OutputDir,
		Parse:    ParseOptions(cfg),
		Stdout:   r.c.Stdout, // one stream, so that the resume line comes after all of it
		Getenv:   r.c.Getenv,
	})
	fmt.Fprintf(r.c.Stdout, "\n::%s::\n", token)
	return s, perr
}

// baseline returns the base summary, the commit it came from, and, when there
// is none, why. A baseline that exists but cannot be used is also reported as
// an error annotation: the result is then no_baseline, never a pass.
func (r *actionRun) baseline(ctx context.Context, cfg *Config) (*parse.Summary, string, string) {
	if r.in.Baseline != "" {
		s, err := LoadSummary(r.in.Baseline, ParseOptions(cfg))
		if err != nil {
			r.gh.Errorf("gate: input baseline: %v", err)
			return nil, "", fmt.Sprintf("baseline %s could not be read", r.in.Baseline)
		}
		return s, s.Source.Commit, ""
	}
	if r.api == nil {
		return nil, "", "no baseline input, and no github-token and repository to fetch the baseline artifact with"
	}
	branch := r.in.BaselineBranch
	if branch == "" {
		branch = r.ev.Repository.DefaultBranch
	}
	if branch == "" {
		return nil, "", "no baseline-branch input, and the event does not name the repository's default branch"
	}
	b, skipped, err := fetchBaseline(ctx, r.api, r.in.BaselineArtifact, branch)
	for _, s := range skipped {
		fmt.Fprintf(r.c.Stdout, "gate: baseline: skipped %s\n", s)
	}
	if err != nil {
		if errors.Is(err, errNoBaseline) {
			return nil, "", fmt.Sprintf("no baseline: no unexpired artifact %q from branch %q; upload %s from a push to %s (see docs/action.md)", r.in.BaselineArtifact, branch, reportSummaryFile, branch)
		}
		if isForbidden(err) {
			r.gh.Errorf("gate: baseline: %v (the workflow needs permissions: actions: read)", err)
		} else {
			r.gh.Errorf("gate: baseline: %v", err)
		}
		return nil, "", fmt.Sprintf("the baseline artifact %q could not be used: %v", r.in.BaselineArtifact, err)
	}
	s, err := parse.DecodeSummary(bytes.NewReader(b.Data))
	if err != nil {
		r.gh.Errorf("gate: baseline artifact %q (%d) %s: %v", b.Artifact.Name, b.Artifact.ID, b.File, err)
		return nil, "", fmt.Sprintf("the baseline artifact %q is not a gate summary", r.in.BaselineArtifact)
	}
	if s.Source.Commit == "" {
		s.Source.Commit = b.Artifact.HeadSHA
	}
	fmt.Fprintf(r.c.Stdout, "gate: baseline: artifact %q (%d) from %s@%s, run %d\n", b.Artifact.Name, b.Artifact.ID, b.Artifact.HeadBranch, short(b.Artifact.HeadSHA), b.Artifact.RunID)
	return s, b.Artifact.HeadSHA, ""
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// publish posts the sticky comment and the check run. Neither can fail the
// gate: a read-only token (fork PRs) or a missing permission is a warning,
// and the job summary carries the report instead. It returns notes for the
// job summary.
func (r *actionRun) publish(ctx context.Context, res *compare.Result, md, id, headSHA string) []string {
	var notes []string
	commentURL := ""
	number := r.ev.prNumber()
	switch {
	case r.in.Comment == commentNever:
	case number == 0:
		fmt.Fprintln(r.c.Stdout, "gate: not a pull request event: no comment")
	case r.api == nil:
		r.gh.Warningf("gate: no github-token: the report is in the job summary only")
		notes = append(notes, "No comment was posted: the action had no github-token.")
	default:
		body := commentBody(md, render.Marker(id), resultDigest(res))
		out, err := upsertComment(ctx, r.api, number, render.Marker(id), body, r.in.Comment)
		switch {
		case err == nil:
			commentURL = out.URL
			fmt.Fprintf(r.c.Stdout, "gate: comment %s %s\n", out.Action, out.URL)
		case isForbidden(err):
			why := "the token may not write pull request comments (permissions: pull-requests: write)"
			if r.ev.fromFork() {
				why = "pull requests from forks get a read-only token; use the two-workflow setup (mode: comment from workflow_run) to comment on them"
			}
			r.gh.Warningf("gate: could not comment: %v; %s. The report is in the job summary.", err, why)
			notes = append(notes, "No PR comment was posted: "+why+".")
		default:
			r.gh.Warningf("gate: could not comment: %v. The report is in the job summary.", err)
			notes = append(notes, "No PR comment was posted: the GitHub API call failed.")
		}
	}
	r.setOutputs("comment-url", commentURL)

	if r.in.CheckRun && r.api != nil && headSHA != "" {
		err := r.api.CreateCheckRun(ctx, checkRun{
			Name:       r.in.CheckName,
			HeadSHA:    headSHA,
			Conclusion: checkConclusion(res.Verdict),
			Title:      fmt.Sprintf("gate: %s", verdictWords(res.Verdict)),
			Summary:    truncateUTF16(md, render.CommentBudget-1),
			DetailsURL: r.runURL(),
		})
		switch {
		case err == nil:
		case isForbidden(err):
			r.gh.Warningf("gate: no check run: %v (needs permissions: checks: write; set check-run: false to skip)", err)
		default:
			r.gh.Warningf("gate: no check run: %v", err)
		}
	}
	return notes
}

func checkConclusion(v compare.Verdict) string {
	switch v {
	case compare.Pass, compare.Info:
		return "success"
	case compare.Fail:
		return "failure"
	}
	return "neutral"
}

// jobSummary appends the report, rendered within the runner's 1 MiB limit,
// and the notes to the job summary.
func (r *actionRun) jobSummary(res *compare.Result, ropts render.Options, notes []string) {
	ropts.Budget = render.StepSummaryBudget
	var b bytes.Buffer
	if err := render.Markdown(&b, res, ropts); err != nil {
		r.gh.Warningf("gate: job summary: %v", err)
		return
	}
	for _, n := range notes {
		fmt.Fprintf(&b, "\n> [!WARNING]\n> %s\n", n)
	}
	if err := r.fc.addSummary(b.String()); err != nil {
		r.gh.Warningf("gate: job summary: %v", err)
	}
}

// writeFileWith writes what fill puts in a buffer to path, naming path in
// errors.
func writeFileWith(path string, fill func(*bytes.Buffer) error) error {
	var b bytes.Buffer
	if err := fill(&b); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return err
	}
	return nil
}

// comment is the fork-safe mode: in a workflow_run workflow, post the result
// that the triggering pull_request run uploaded. The artifact is untrusted:
// only its result.json is read, rendered again here (so every string in it is
// escaped), and the PR is looked up from the run's head commit and
// repository through the API, never read from the artifact.
func (r *actionRun) comment(ctx context.Context) int {
	wr := r.ev.WorkflowRun
	if wr == nil {
		r.gh.Errorf("gate: mode comment runs in a workflow triggered by workflow_run (event %q has no workflow_run)", r.ctx.EventName)
		return ExitError
	}
	if r.api == nil {
		r.gh.Errorf("gate: mode comment needs github-token and GITHUB_REPOSITORY")
		return ExitError
	}
	if wr.Event != "pull_request" {
		fmt.Fprintf(r.c.Stdout, "gate: the triggering run was a %q event, not a pull request: nothing to comment on\n", wr.Event)
		return ExitOK
	}
	res, err := r.fetchReport(ctx, wr.ID)
	if err != nil {
		r.gh.Warningf("gate: run %d: %v", wr.ID, err)
		return ExitOK
	}
	number, err := r.findPR(ctx, wr.HeadSHA, wr.HeadRepository.FullName, hintNumbers(wr.PullRequests))
	if err != nil {
		r.gh.Warningf("gate: %v", err)
		return ExitOK
	}
	id := res.ConfigID
	if r.in.Config != "" {
		cfg, err := LoadConfig(r.in.Config)
		if err != nil {
			r.gh.Errorf("gate: input config: %v", err)
			return ExitError
		}
		id = cfg.ID
	}
	ropts := render.Options{FullReportURL: fmt.Sprintf("%s/%s/actions/runs/%d", strings.TrimSuffix(r.ctx.ServerURL, "/"), r.repo, wr.ID)}
	var md bytes.Buffer
	if err := render.Markdown(&md, res, ropts); err != nil {
		r.gh.Errorf("gate: %v", err)
		return ExitError
	}
	if err := os.MkdirAll(r.in.OutputDir, 0o755); err == nil {
		p := filepath.Join(r.in.OutputDir, reportMarkdownFile)
		if os.WriteFile(p, md.Bytes(), 0o644) == nil {
			r.setOutputs("report-path", r.outputPath(p))
		}
	}
	url := ""
	body := commentBody(fitComment(md.String(), res, ropts), render.Marker(id), resultDigest(res))
	out, err := upsertComment(ctx, r.api, number, render.Marker(id), body, r.in.Comment)
	switch {
	case err == nil:
		url = out.URL
		fmt.Fprintf(r.c.Stdout, "gate: comment on #%d %s %s\n", number, out.Action, out.URL)
	case isForbidden(err):
		r.gh.Warningf("gate: could not comment on #%d: %v (the workflow needs permissions: pull-requests: write)", number, err)
	default:
		r.gh.Warningf("gate: could not comment on #%d: %v", number, err)
	}
	ropts.Budget = render.StepSummaryBudget
	var sum bytes.Buffer
	if render.Markdown(&sum, res, ropts) == nil {
		if err := r.fc.addSummary(sum.String()); err != nil {
			r.gh.Warningf("gate: job summary: %v", err)
		}
	}
	r.setOutputs("verdict", string(res.Verdict), "regressions", fmt.Sprint(res.Counts.Fail), "comment-url", url)
	return ExitOK
}

// fetchReport downloads the report artifact of run runID and decodes its
// result.json.
func (r *actionRun) fetchReport(ctx context.Context, runID int64) (*compare.Result, error) {
	arts, err := r.api.RunArtifacts(ctx, runID)
	if err != nil {
		return nil, err
	}
	var found *artifact
	for i := range arts {
		if arts[i].Name == r.in.ReportArtifact && !arts[i].Expired {
			found = &arts[i]
		}
	}
	if found == nil {
		return nil, fmt.Errorf("no artifact %q: did the pull request workflow upload the output directory?", r.in.ReportArtifact)
	}
	data, err := r.api.DownloadArtifact(ctx, found.ID, maxArtifactZip)
	if err != nil {
		return nil, err
	}
	files, err := unzip(data, defaultUnzipLimits)
	if err != nil {
		return nil, fmt.Errorf("artifact %q: %w", r.in.ReportArtifact, err)
	}
	f, ok := findZipFile(files, reportResultFile)
	if !ok {
		return nil, fmt.Errorf("artifact %q has no %s", r.in.ReportArtifact, reportResultFile)
	}
	res, err := decodeResult(f.Data)
	if err != nil {
		return nil, fmt.Errorf("artifact %q: %s: %w", r.in.ReportArtifact, f.Name, err)
	}
	return res, nil
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

// findPR returns the open pull request whose head is sha in headRepo. The
// event's pull_requests list (empty for forks) only breaks ties.
func (r *actionRun) findPR(ctx context.Context, sha, headRepo string, hints []int) (int, error) {
	if sha == "" {
		return 0, fmt.Errorf("the workflow_run event has no head_sha")
	}
	prs, err := r.api.PullRequestsForCommit(ctx, sha)
	if err != nil {
		return 0, err
	}
	var cands []int
	for _, p := range prs {
		if p.HeadSHA == sha && (headRepo == "" || strings.EqualFold(p.HeadRepo, headRepo)) && p.State == "open" {
			cands = append(cands, p.Number)
		}
	}
	for _, c := range cands {
		for _, h := range hints {
			if c == h {
				return c, nil
			}
		}
	}
	if len(cands) == 0 {
		return 0, fmt.Errorf("no open pull request has head %s from %s: nothing to comment on", short(sha), headRepo)
	}
	return cands[0], nil
}
