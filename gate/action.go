package gate

import (
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/nsys-gate/gate/compare"
)

// Action modes (the `mode` input).
const (
	modeProfile = "profile" // run nsys on `command`, then gate
	modeCompare = "compare" // gate an existing export or summary (`profile`)
	modeComment = "comment" // post the report of an earlier run (workflow_run)
)

// fail-on values: which verdicts fail the step.
const (
	failOnFail  = "fail"
	failOnWarn  = "warn"
	failOnNever = "never"
)

// Names of the files the action writes into its output directory. The
// fork-safe comment mode reads reportResultFile back from an artifact.
const (
	reportSummaryFile  = "summary.json" // the head summary: the next baseline
	reportResultFile   = "result.json"
	reportMarkdownFile = "report.md"
	reportHTMLFile     = "report.html"
)

// actionInputs are the action's inputs (action.yml), read from the INPUT_*
// environment the runner sets, kebab-case names kept.
type actionInputs struct {
	Mode             string
	Command          string
	Profile          string
	Baseline         string
	BaselineArtifact string
	BaselineBranch   string
	Config           string
	Scope            string
	NsysArgs         []string
	Comment          string
	FailOn           string
	Token            string
	OutputDir        string
	ReportArtifact   string
	CheckRun         bool
	CheckName        string
}

// readActionInputs reads and validates the inputs. The runner does not
// enforce `required` or enumerations, so gate does, naming the input.
func readActionInputs(a *githubactions.Action) (actionInputs, error) {
	in := actionInputs{
		Mode:             strings.ToLower(a.GetInput("mode")),
		Command:          a.GetInput("command"),
		Profile:          a.GetInput("profile"),
		Baseline:         a.GetInput("baseline"),
		BaselineArtifact: a.GetInput("baseline-artifact"),
		BaselineBranch:   a.GetInput("baseline-branch"),
		Config:           a.GetInput("config"),
		Scope:            a.GetInput("scope"),
		NsysArgs:         strings.Fields(a.GetInput("nsys-args")),
		Comment:          strings.ToLower(a.GetInput("comment")),
		FailOn:           strings.ToLower(a.GetInput("fail-on")),
		Token:            a.GetInput("github-token"),
		OutputDir:        a.GetInput("output-dir"),
		ReportArtifact:   a.GetInput("report-artifact"),
		CheckName:        a.GetInput("check-name"),
	}
	if in.Token == "" {
		in.Token = a.Getenv("GITHUB_TOKEN")
	}
	if in.Mode == "" {
		in.Mode = modeCompare
		if in.Command != "" {
			in.Mode = modeProfile
		}
	}
	in.BaselineArtifact = orDefault(in.BaselineArtifact, "gate-baseline")
	in.Comment = orDefault(in.Comment, commentAlways)
	in.FailOn = orDefault(in.FailOn, failOnFail)
	in.OutputDir = orDefault(in.OutputDir, "gate-report")
	in.ReportArtifact = orDefault(in.ReportArtifact, "gate-report")
	in.CheckName = orDefault(in.CheckName, "gate")
	check, err := parseBoolInput("check-run", a.GetInput("check-run"), true)
	if err != nil {
		return in, err
	}
	in.CheckRun = check

	switch in.Mode {
	case modeProfile:
		if in.Command == "" {
			return in, fmt.Errorf("input command: required in mode profile")
		}
	case modeCompare:
		if in.Profile == "" {
			return in, fmt.Errorf("input profile: required in mode compare (an nsys export or a gate summary)")
		}
	case modeComment:
	default:
		return in, fmt.Errorf("input mode: %q: want profile, compare or comment", in.Mode)
	}
	switch in.Comment {
	case commentAlways, commentOnChange, commentNever:
	default:
		return in, fmt.Errorf("input comment: %q: want always, on-change or never", in.Comment)
	}
	switch in.FailOn {
	case failOnFail, failOnWarn, failOnNever:
	default:
		return in, fmt.Errorf("input fail-on: %q: want fail, warn or never", in.FailOn)
	}
	return in, nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// parseBoolInput accepts the YAML 1.2 core booleans, as actions/toolkit does.
func parseBoolInput(name, v string, def bool) (bool, error) {
	switch v {
	case "":
		return def, nil
	case "true", "True", "TRUE":
		return true, nil
	case "false", "False", "FALSE":
		return false, nil
	}
	return false, fmt.Errorf("input %s: %q: want true or false", name, v)
}

// exitFor maps a verdict to the step's exit code under fail-on: "fail" fails
// on regressions, "warn" on warnings too, "never" reports without failing.
// The neutral verdicts (no baseline, not comparable) keep the exit codes of
// the configuration (3 unless gate.yml says otherwise) except under never.
func exitFor(v compare.Verdict, failOn string, cfg *Config) int {
	switch failOn {
	case failOnNever:
		return ExitOK
	case failOnWarn:
		if v == compare.Warn {
			return ExitFail
		}
	}
	return cfg.ExitCode(v)
}

// actionRun is one invocation of `gate action`: what it read from the
// environment, and the clients it talks through.
type actionRun struct {
	c    *Command
	gh   *githubactions.Action
	in   actionInputs
	ctx  *githubactions.GitHubContext
	ev   *event
	fc   fileCommands
	api  githubAPI // nil without a token or repository
	repo string    // owner/name
}

// actionHTTPClient is the HTTP client of the GitHub API and of artifact
// downloads; nil means one with a 60 s timeout.
var actionHTTPClient *http.Client

// newActionRun reads the runner's environment. Problems with optional parts
// of it (an unparsable GITHUB_RUN_ID) are warnings; a missing or broken event
// payload is an error.
func (c *Command) newActionRun() (*actionRun, error) {
	gh := githubactions.New(githubactions.WithGetenv(c.Getenv), githubactions.WithWriter(c.Stdout))
	in, err := readActionInputs(gh)
	if err != nil {
		return nil, err
	}
	if in.Token != "" {
		gh.AddMask(in.Token)
	}
	ghctx, err := gh.Context()
	if ghctx == nil {
		return nil, err
	}
	if err != nil {
		gh.Warningf("reading the runner's environment: %v", err)
	}
	ev, err := readEvent(ghctx.EventPath)
	if err != nil {
		return nil, err
	}
	r := &actionRun{c: c, gh: gh, in: in, ctx: ghctx, ev: ev, fc: fileCommands{getenv: c.Getenv, log: c.Stdout}}
	owner, name := ghctx.Repo()
	if owner != "" && name != "" {
		r.repo = owner + "/" + name
	}
	if in.Token != "" && r.repo != "" {
		api, err := newRESTAPI(ghctx.APIURL, in.Token, owner, name, actionHTTPClient)
		if err != nil {
			return nil, err
		}
		r.api = api
	}
	return r, nil
}

// runURL links the workflow run, where the full report is.
func (r *actionRun) runURL() string {
	if r.repo == "" || r.ctx.RunID == 0 {
		return ""
	}
	return fmt.Sprintf("%s/%s/actions/runs/%d", strings.TrimSuffix(r.ctx.ServerURL, "/"), r.repo, r.ctx.RunID)
}

// outputPath is how a path is reported in outputs: relative to the workspace
// when inside it, because a Docker action sees the workspace at another path
// than the steps after it do, and those resolve relative paths against it.
func (r *actionRun) outputPath(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	ws := r.ctx.Workspace
	if ws == "" {
		ws, _ = os.Getwd()
	}
	if rel, err := filepath.Rel(ws, abs); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(rel)
	}
	return abs
}

// setOutputs writes the step outputs; a failure to write them is reported,
// not fatal: the verdict still decides the exit code.
func (r *actionRun) setOutputs(kv ...string) {
	for i := 0; i+1 < len(kv); i += 2 {
		if err := r.fc.setOutput(kv[i], kv[i+1]); err != nil {
			r.gh.Warningf("setting output %s: %v", kv[i], err)
		}
	}
}

// annotate adds an error annotation per failed metric and a warning per
// warned one, at most perKind of each (the runner keeps 10 per step); the
// rest are counted in one more.
func (r *actionRun) annotate(res *compare.Result) {
	const perKind = 9
	var nFail, nWarn int
	for _, m := range res.Metrics {
		switch m.Verdict {
		case compare.Fail:
			nFail++
			if nFail <= perKind {
				r.gh.WithFieldsMap(map[string]string{"title": "gate: regression"}).Errorf("%s", metricLine(m))
			}
		case compare.Warn:
			nWarn++
			if nWarn <= perKind {
				r.gh.WithFieldsMap(map[string]string{"title": "gate: warning"}).Warningf("%s", metricLine(m))
			}
		}
	}
	if nFail > perKind {
		r.gh.Errorf("gate: %d more regressions, see the job summary", nFail-perKind)
	}
	if nWarn > perKind {
		r.gh.Warningf("gate: %d more warnings, see the job summary", nWarn-perKind)
	}
	switch res.Verdict {
	case compare.NoBaseline, compare.NotComparable:
		r.gh.WithFieldsMap(map[string]string{"title": "gate: " + verdictWords(res.Verdict)}).Warningf("%s", strings.Join(res.Reasons, "; "))
	}
}

// metricLine is one metric for an annotation.
func metricLine(m compare.Metric) string {
	s := fmt.Sprintf("%s: %s -> %s", compare.DisplayName(m.Name), fmtValue(m.Base, m.Unit), fmtValue(m.Head, m.Unit))
	if m.Base != 0 {
		s += fmt.Sprintf(" (%+.1f%%)", m.DeltaPct)
	}
	if m.Threshold != "" {
		s += ", threshold " + m.Threshold
	}
	if m.Note != "" {
		s += "; " + m.Note
	}
	return s
}

// fmtValue writes v in a unit a reader takes in at a glance.
func fmtValue(v float64, unit string) string {
	a := math.Abs(v)
	switch unit {
	case "ns":
		switch {
		case a >= 1e9:
			return fmt.Sprintf("%.4g s", v/1e9)
		case a >= 1e6:
			return fmt.Sprintf("%.4g ms", v/1e6)
		case a >= 1e3:
			return fmt.Sprintf("%.4g µs", v/1e3)
		}
		return fmt.Sprintf("%.4g ns", v)
	case "bytes":
		for _, u := range []struct {
			div  float64
			name string
		}{{1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
			if a >= u.div {
				return fmt.Sprintf("%.4g %s", v/u.div, u.name)
			}
		}
		return fmt.Sprintf("%.0f B", v)
	case "bps":
		return fmt.Sprintf("%.4g GB/s", v/1e9)
	case "pct":
		return fmt.Sprintf("%.4g%%", v)
	case "count", "":
		return fmt.Sprintf("%.6g", v)
	}
	return fmt.Sprintf("%.6g %s", v, unit)
}

func verdictWords(v compare.Verdict) string {
	switch v {
	case compare.NoBaseline:
		return "no baseline"
	case compare.NotComparable:
		return "not comparable"
	}
	return string(v)
}
