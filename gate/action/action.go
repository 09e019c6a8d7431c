// Package action is gate as a GitHub Action: it reads the step's inputs
// from INPUT_* variables, makes the head summary (profiling a workload or
// loading a profile), finds the baseline artifact, compares, writes the
// report, the job summary and the outputs, posts the sticky PR comment and
// the check run, and says what it decided; the command turns that into the
// exit code. The fork-safe comment mode posts the result an earlier run
// uploaded.
//
// Start at Run and Env (action.go), then run.go for the modes. The world is
// reached only through Env: GitHub (github.go, with FakeGitHub beside it),
// a Profiler (profiler.go), the runner's files and event payload (env.go).
// baseline.go, comment.go, unzip.go and result.go hold the artifact and
// comment protocols.
package action

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/sethvargo/go-githubactions"

	"github.com/nsys-gate/gate/compare"
	"github.com/nsys-gate/gate/gate/config"
	"github.com/nsys-gate/gate/parse"
	"github.com/nsys-gate/gate/render"
)

// Action modes (the `mode` input).
const (
	modeProfile = "profile" // run nsys on `command`, then gate
	modeCompare = "compare" // gate an existing export or summary (`profile`)
	modeComment = "comment" // post the report of an earlier run (workflow_run)
	modeMerge   = "merge"   // post one report for every entry (matrix leg) of a run
)

// Values of the fail-on input: which verdicts fail the step.
const (
	FailOnFail  = "fail"  // regressions fail
	FailOnWarn  = "warn"  // warnings fail too
	FailOnNever = "never" // report, never fail
)

// Names of the files the action writes into its output directory, beside
// the head summary (load.SummaryFile, the next baseline). The fork-safe
// comment mode reads reportResultFile back from an artifact.
const (
	reportResultFile   = "result.json"
	reportMarkdownFile = "report.md"
	reportHTMLFile     = "report.html"
)

// inputs are the action's inputs (action.yml), read from the INPUT_*
// environment the runner sets, kebab-case names kept.
type inputs struct {
	Mode string
	// ID names the configuration (an entry of a matrix); Matrix is the
	// job's matrix values (toJSON(matrix)), which name it when no id does.
	ID      string
	Matrix  string
	Leg     bool     // one entry of several: a merge job posts
	Entries []string // mode merge: the ids expected

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

// readInputs reads and validates the inputs. The runner does not enforce
// `required` or enumerations, so gate does, naming the input.
func readInputs(a *githubactions.Action) (inputs, error) {
	in := inputs{
		Mode:             strings.ToLower(a.GetInput("mode")),
		ID:               a.GetInput("id"),
		Matrix:           a.GetInput("matrix"),
		Entries:          strings.FieldsFunc(a.GetInput("entries"), func(r rune) bool { return r == ',' || unicode.IsSpace(r) }),
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
	in.FailOn = orDefault(in.FailOn, FailOnFail)
	in.OutputDir = orDefault(in.OutputDir, "gate-report")
	in.ReportArtifact = orDefault(in.ReportArtifact, "gate-report")
	in.CheckName = orDefault(in.CheckName, "gate")
	check, err := parseBoolInput("check-run", a.GetInput("check-run"), true)
	if err != nil {
		return in, err
	}
	in.CheckRun = check
	if in.Leg, err = parseBoolInput("leg", a.GetInput("leg"), false); err != nil {
		return in, err
	}
	if in.ID != "" {
		if err := config.CheckID(in.ID); err != nil {
			return in, fmt.Errorf("input id: %w", err)
		}
	}
	for _, e := range in.Entries {
		if err := config.CheckID(e); err != nil {
			return in, fmt.Errorf("input entries: %w", err)
		}
	}

	switch in.Mode {
	case modeProfile:
		if in.Command == "" {
			return in, fmt.Errorf("input command: required in mode profile")
		}
	case modeCompare:
		if in.Profile == "" {
			return in, fmt.Errorf("input profile: required in mode compare (an nsys export or a gate summary)")
		}
	case modeComment, modeMerge:
		if in.Leg {
			return in, fmt.Errorf("input leg: mode %s posts the report itself; leg is for the profile and compare modes", in.Mode)
		}
		if in.Mode == modeMerge && in.Baseline != "" {
			return in, fmt.Errorf("input baseline: mode merge fetches each entry's own baseline artifact; leave it empty")
		}
	default:
		return in, fmt.Errorf("input mode: %q: want profile, compare, comment or merge", in.Mode)
	}
	switch in.Comment {
	case commentAlways, commentOnChange, commentNever:
	default:
		return in, fmt.Errorf("input comment: %q: want always, on-change or never", in.Comment)
	}
	switch in.FailOn {
	case FailOnFail, FailOnWarn, FailOnNever:
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

// Env is everything the action takes from the world, injected so that
// tests run it in-process.
type Env struct {
	Getenv func(string) string
	// Environ is the whole environment, from which the workload's is made
	// (workloadEnv); nil: none.
	Environ func() []string
	// Stdout is the step's log: workflow commands, progress lines, the
	// workload's output and, outside a runner, the outputs.
	Stdout io.Writer
	// GitHub returns the API client for an endpoint; nil means the action
	// has no API.
	GitHub func(Endpoint) (GitHub, error)
	// Profiler runs the workload of the profile mode.
	Profiler Profiler
	// Load reads a profile in any form (load.Loader's Summary, under the
	// command's limits); nil: load.Summary.
	Load func(ctx context.Context, path string, opts parse.Options) (*parse.Summary, error)
	// ExitCode is the step's exit code for an outcome, the command's one
	// table: the check run's conclusion follows the step.
	ExitCode func(Outcome) int
	// Now is the clock that baseline ages are measured with; nil: time.Now.
	Now func() time.Time
}

// Outcome is what a run decided. The command maps it to the step's exit
// code: the verdict under FailOn, with Config's neutral exit codes.
type Outcome struct {
	// Verdict is the gate's verdict; empty when the run judged nothing
	// itself (the comment mode posts an earlier run's).
	Verdict compare.Verdict
	Counts  compare.Counts
	FailOn  string         // the fail-on input: FailOnFail, FailOnWarn or FailOnNever
	Config  *config.Config // gate.yml, for its neutral exit codes
	// FirstRun says the verdict is no_baseline because the repository never
	// had a baseline artifact: the first pull request of a new gate, which
	// passes unless gate.yml sets no-baseline's exit code.
	FirstRun bool
	// Entries are the outcomes of a merged report's entries (mode merge):
	// the step's exit code is then theirs taken together, a regression
	// first. A missing entry's Verdict is compare.Missing, an accepted
	// one's compare.Accepted.
	Entries []Outcome
}

// Run runs the action once. An error is one the step must fail on (bad
// inputs, an unreadable profile); it has been reported as an error
// annotation already. Anything that only degrades the result (no baseline,
// a refused comment) is a warning annotation and a note in the job summary.
func Run(ctx context.Context, env Env) (Outcome, error) {
	r, err := newRun(env)
	if err != nil {
		// A workflow command, so that the failure shows on the run's page.
		githubactions.New(githubactions.WithGetenv(env.Getenv), githubactions.WithWriter(env.Stdout)).Errorf("gate: %v", err)
		return Outcome{}, err
	}
	var out Outcome
	switch r.in.Mode {
	case modeComment:
		err = r.comment(ctx)
	case modeMerge:
		out, err = r.merge(ctx)
	default:
		out, err = r.profileOrCompare(ctx)
	}
	if err != nil {
		r.actions.Errorf("gate: %v", err)
	}
	return out, err
}

// now is the run's clock.
func (r *run) now() time.Time {
	if r.env.Now != nil {
		return r.env.Now()
	}
	return time.Now()
}

// run is one invocation of the action: what it read from the environment,
// and the clients it talks through.
type run struct {
	env     Env
	actions *githubactions.Action // workflow commands (annotations, masks)
	in      inputs
	runner  *githubactions.GitHubContext // GITHUB_* variables
	ev      *event
	files   fileCommands
	github  GitHub // nil without a token or repository
	repo    string // owner/name
	// idFromConfig says the entry's id is gate.yml's, which before ids
	// named artifacts named only the comment (see renamedBaseline).
	idFromConfig bool
}

// newRun reads the runner's environment. Problems with optional parts of it
// (an unparsable GITHUB_RUN_ID) are warnings; a missing or broken event
// payload is an error.
func newRun(env Env) (*run, error) {
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	if env.Stdout == nil {
		env.Stdout = io.Discard
	}
	if env.ExitCode == nil {
		return nil, errors.New("action.Env has no ExitCode")
	}
	actions := githubactions.New(githubactions.WithGetenv(env.Getenv), githubactions.WithWriter(env.Stdout))
	in, err := readInputs(actions)
	if err != nil {
		return nil, err
	}
	// Masking is the runner's: outside it, ::add-mask:: would print the
	// token in clear into some other CI's log.
	if in.Token != "" && env.Getenv("GITHUB_ACTIONS") == "true" {
		actions.AddMask(in.Token)
	}
	runner, err := actions.Context()
	if runner == nil {
		return nil, err
	}
	if err != nil {
		actions.Warningf("reading the runner's environment: %v", err)
	}
	ev, err := readEvent(runner.EventPath)
	if err != nil {
		return nil, err
	}
	r := &run{env: env, actions: actions, in: in, runner: runner, ev: ev, files: fileCommands{getenv: env.Getenv, log: env.Stdout}}
	owner, name := runner.Repo()
	if owner != "" && name != "" {
		r.repo = owner + "/" + name
	}
	if in.Token != "" && r.repo != "" && env.GitHub != nil {
		gh, err := env.GitHub(Endpoint{APIURL: runner.APIURL, GraphQLURL: runner.GraphqlURL, Token: in.Token, Owner: owner, Repo: name})
		if err != nil {
			return nil, err
		}
		r.github = gh
	}
	return r, nil
}

// runURL links the workflow run, where the full report is.
func (r *run) runURL() string {
	if r.repo == "" || r.runner.RunID == 0 {
		return ""
	}
	return r.runLink(r.runner.RunID)
}

// runLink links workflow run id of the repository.
func (r *run) runLink(id int64) string {
	return fmt.Sprintf("%s/%s/actions/runs/%d", strings.TrimSuffix(r.runner.ServerURL, "/"), r.repo, id)
}

// outputPath is how a path is reported in outputs: relative to the workspace
// when inside it, because a Docker action sees the workspace at another path
// than the steps after it do, and those resolve relative paths against it.
func (r *run) outputPath(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	ws := r.runner.Workspace
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
func (r *run) setOutputs(kv ...string) {
	for i := 0; i+1 < len(kv); i += 2 {
		if err := r.files.setOutput(kv[i], kv[i+1]); err != nil {
			r.actions.Warningf("setting output %s: %v", kv[i], err)
		}
	}
}

// annotate adds an error annotation per failed metric and a warning per
// warned one, at most perKind of each (the runner keeps 10 per step); the
// rest are counted in one more. A metric the pull request accepted is a
// notice.
func (r *run) annotate(res *compare.Result, firstRun bool, accepted []string) {
	const perKind = 9
	var nFail, nWarn, nAccepted int
	for _, m := range res.Metrics {
		switch {
		case slices.Contains(accepted, m.Name):
			// The pull request accepted it: a note, not an error, on a
			// step that passes.
			if nAccepted++; nAccepted <= perKind {
				r.actions.WithFieldsMap(map[string]string{"title": "gate: accepted"}).Noticef("%s", render.Annotation(m))
			}
			continue
		}
		switch m.Verdict {
		case compare.Fail:
			nFail++
			if nFail <= perKind {
				r.actions.WithFieldsMap(map[string]string{"title": "gate: regression"}).Errorf("%s", render.Annotation(m))
			}
		case compare.Warn:
			nWarn++
			if nWarn <= perKind {
				r.actions.WithFieldsMap(map[string]string{"title": "gate: warning"}).Warningf("%s", render.Annotation(m))
			}
		}
	}
	if nFail > perKind {
		r.actions.Errorf("gate: %d more regressions, see the job summary", nFail-perKind)
	}
	if nWarn > perKind {
		r.actions.Warningf("gate: %d more warnings, see the job summary", nWarn-perKind)
	}
	title := map[string]string{"title": "gate: " + render.VerdictWords(res.Verdict)}
	reasons := render.OneLine(strings.Join(res.Reasons, "; "))
	switch {
	case res.Verdict == compare.NoBaseline && firstRun:
		r.actions.WithFieldsMap(title).Noticef("%s", reasons)
	case res.Verdict == compare.NoBaseline, res.Verdict == compare.NotComparable, res.Verdict == compare.BaselineUnavailable:
		r.actions.WithFieldsMap(title).Warningf("%s", reasons)
	}
}
