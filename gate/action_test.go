package gate

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nsys-gate/gate/gate/action"
	"github.com/nsys-gate/gate/gate/githubrest"
	"github.com/nsys-gate/gate/gate/load"
	"github.com/nsys-gate/gate/internal/githubtest"
	"github.com/nsys-gate/gate/internal/ziptest"
	"github.com/nsys-gate/gate/parse"
)

// The end-to-end tests run `gate action` in-process, as the runner would:
// INPUT_* variables, a real event payload file, GITHUB_OUTPUT and
// GITHUB_STEP_SUMMARY files, and GITHUB_API_URL pointing at githubtest's
// fake GitHub, an httptest server that answers with GitHub's REST shapes and
// fails on request.

const (
	testRepo  = githubtest.Repo
	testToken = githubtest.Token
)

// summaryJSON is the gate summary of a fixture export, made once per test
// binary.
var summaryJSON = struct {
	sync.Mutex
	m map[string][]byte
}{m: map[string][]byte{}}

func fixtureSummary(t *testing.T, name string) []byte {
	t.Helper()
	summaryJSON.Lock()
	defer summaryJSON.Unlock()
	if b, ok := summaryJSON.m[name]; ok {
		return b
	}
	s, err := load.Summary(context.Background(), filepath.Join("..", "testdata", "nsys", name+".sqlite.gz"), parse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := parse.EncodeSummary(&b, s); err != nil {
		t.Fatal(err)
	}
	summaryJSON.m[name] = b.Bytes()
	return b.Bytes()
}

// actionEnv is the environment of one `gate action` step.
type actionEnv struct {
	dir      string
	vars     map[string]string
	stdout   bytes.Buffer
	stderr   bytes.Buffer
	profiler action.Profiler // nil: nsys
	// waits are the GitHub client's retry waits; they never sleep.
	waits []time.Duration
}

func newActionEnv(t *testing.T, gh *githubtest.Server, event string, inputs map[string]string) *actionEnv {
	dir := t.TempDir()
	e := &actionEnv{dir: dir, vars: map[string]string{
		"GITHUB_ACTIONS":      "true",
		"GITHUB_EVENT_NAME":   event,
		"GITHUB_EVENT_PATH":   filepath.Join("..", "testdata", "github", event+".json"),
		"GITHUB_REPOSITORY":   testRepo,
		"GITHUB_SERVER_URL":   "https://github.com",
		"GITHUB_RUN_ID":       "12000000099",
		"GITHUB_RUN_ATTEMPT":  "1",
		"GITHUB_SHA":          "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d",
		"GITHUB_WORKSPACE":    dir,
		"GITHUB_OUTPUT":       filepath.Join(dir, "github_output"),
		"GITHUB_STEP_SUMMARY": filepath.Join(dir, "step_summary"),
		"INPUT_GITHUB-TOKEN":  testToken,
		"INPUT_OUTPUT-DIR":    filepath.Join(dir, "gate-report"),
	}}
	if gh != nil {
		e.vars["GITHUB_API_URL"] = gh.URL
		e.vars["GITHUB_GRAPHQL_URL"] = gh.URL + "/graphql"
	}
	for k, v := range inputs {
		e.vars["INPUT_"+strings.ToUpper(k)] = v
	}
	return e
}

// config writes yml as the run's gate.yml (INPUT_CONFIG).
func (e *actionEnv) config(t *testing.T, yml string) {
	t.Helper()
	cfg := filepath.Join(e.dir, "gate.yml")
	if err := os.WriteFile(cfg, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	e.vars["INPUT_CONFIG"] = cfg
}

func (e *actionEnv) run() int {
	e.stdout.Reset()
	e.stderr.Reset()
	os.Remove(e.vars["GITHUB_OUTPUT"])
	os.Remove(e.vars["GITHUB_STEP_SUMMARY"])
	e.waits = nil
	environ := func() []string {
		var kv []string
		for k, v := range e.vars {
			kv = append(kv, k+"="+v)
		}
		return append(kv, "PATH="+os.Getenv("PATH"))
	}
	c := &Command{Stdout: &e.stdout, Stderr: &e.stderr, Getenv: func(k string) string { return e.vars[k] }, Environ: environ, profiler: e.profiler,
		retry: githubrest.Retry{Sleep: func(d time.Duration) { e.waits = append(e.waits, d) }}}
	return c.Main([]string{"gate", "action"})
}

// outputs parses GITHUB_OUTPUT as the runner does (name<<DELIM ... DELIM).
func (e *actionEnv) outputs(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(e.vars["GITHUB_OUTPUT"])
	if err != nil {
		t.Fatalf("GITHUB_OUTPUT: %v", err)
	}
	out := map[string]string{}
	lines := strings.Split(string(b), "\n")
	for i := 0; i < len(lines); i++ {
		if lines[i] == "" {
			continue
		}
		name, delim, ok := strings.Cut(lines[i], "<<")
		if !ok {
			t.Fatalf("GITHUB_OUTPUT line %q is not a heredoc", lines[i])
		}
		var val []string
		for i++; i < len(lines) && lines[i] != delim; i++ {
			val = append(val, lines[i])
		}
		if i == len(lines) {
			t.Fatalf("GITHUB_OUTPUT: %s: unterminated", name)
		}
		out[name] = strings.Join(val, "\n")
	}
	return out
}

func (e *actionEnv) summary(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(e.vars["GITHUB_STEP_SUMMARY"])
	if err != nil {
		t.Fatalf("GITHUB_STEP_SUMMARY: %v", err)
	}
	if len(b) > 1<<20 {
		t.Errorf("job summary is %d bytes, over the runner's 1 MiB", len(b))
	}
	return string(b)
}

func (e *actionEnv) logf(t *testing.T) {
	t.Logf("stdout:\n%s\nstderr:\n%s", e.stdout.String(), e.stderr.String())
}

// baselineZip is an artifact zip as actions/upload-artifact makes it.
func baselineZip(t *testing.T, entries ...ziptest.Entry) []byte { return ziptest.Make(t, entries...) }

const mainSHA = "0d3a7e9c1b5f2a4e6c8b0d2f4a6c8e0b2d4f6a8c"

// withBaselines gives gh the baseline artifacts of a busy repository: the
// right one among older, expired and other-branch ones, over several pages.
func withBaselines(t *testing.T, gh *githubtest.Server) {
	base := fixtureSummary(t, "base_a")
	old := fixtureSummary(t, "regress_double_attn")
	day := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	gh.Artifacts = []githubtest.Artifact{
		{ID: 501, Name: "gate-baseline", Created: day, RunID: 901, HeadBranch: "main", HeadSHA: "1111111111111111111111111111111111111111", Zip: baselineZip(t, ziptest.Entry{Name: "summary.json", Data: string(old)})},
		{ID: 502, Name: "gate-baseline", Created: day.Add(48 * time.Hour), RunID: 902, HeadBranch: "main", HeadSHA: mainSHA, Zip: baselineZip(t, ziptest.Entry{Name: "summary.json", Data: string(base)})},
		{ID: 503, Name: "gate-baseline", Created: day.Add(72 * time.Hour), RunID: 903, HeadBranch: "fuse-attn", HeadSHA: "3333333333333333333333333333333333333333", Zip: baselineZip(t, ziptest.Entry{Name: "summary.json", Data: string(old)})},
		{ID: 504, Name: "gate-baseline", Created: day.Add(96 * time.Hour), RunID: 904, HeadBranch: "main", HeadSHA: "4444444444444444444444444444444444444444", Expired: true},
		{ID: 505, Name: "other-artifact", Created: day.Add(120 * time.Hour), RunID: 904, HeadBranch: "main", HeadSHA: "4444444444444444444444444444444444444444"},
	}
}

// withChatter puts other people's comments on PR 7, more than a page of them,
// one of which quotes gate's marker inline (it must not be taken for gate's).
func withChatter(gh *githubtest.Server) {
	gh.Comments[7] = []githubtest.Comment{
		{ID: 11, Body: "LGTM once the benchmark passes", User: "reviewer", Type: "User"},
		{ID: 12, Body: "Why does `<!-- gate:report id=default -->` show up?", User: "octodev", Type: "User"},
		{ID: 13, Body: "Deployed to staging", User: "deploy-bot[bot]", Type: "Bot"},
	}
}

func fixture(name string) string { return filepath.Join("..", "testdata", "nsys", name+".sqlite.gz") }

func TestActionStickyComment(t *testing.T) {
	t.Parallel()
	gh := githubtest.New(t)
	withBaselines(t, gh)
	withChatter(gh)
	e := newActionEnv(t, gh, "pull_request", map[string]string{"mode": "compare", "profile": fixture("regress_double_attn")})

	// First run: a regression. One comment is created, red.
	if code := e.run(); code != exitFail {
		e.logf(t)
		t.Fatalf("regressed run: exit %d, want %d", code, exitFail)
	}
	if w := gh.Writes(); strings.Join(w, ";") != "POST /repos/"+testRepo+"/issues/7/comments;POST /repos/"+testRepo+"/check-runs" {
		t.Errorf("writes = %q, want one comment and one check run", w)
	}
	cs := gh.IssueComments(7)
	if len(cs) != 4 {
		t.Fatalf("%d comments, want the 3 others and gate's", len(cs))
	}
	first := cs[3]
	if !strings.HasPrefix(first.Body, "<!-- gate:report id=default -->\n") || !strings.Contains(first.Body, "gate: fail") {
		t.Errorf("comment does not start with the marker and say fail:\n%.300s", first.Body)
	}
	if !strings.Contains(first.Body, mainSHA[:12]) {
		t.Errorf("comment does not name the baseline commit %s", mainSHA[:12])
	}
	out := e.outputs(t)
	wantURL := fmt.Sprintf("https://github.com/%s/pull/7#issuecomment-%d", testRepo, first.ID)
	if out["verdict"] != "fail" || out["regressions"] == "0" || out["comment-url"] != wantURL {
		t.Errorf("outputs = %v", out)
	}
	if out["summary-path"] != "gate-report/summary.json" || out["report-path"] != "gate-report/report.md" {
		t.Errorf("paths not relative to the workspace: %v", out)
	}
	if _, err := os.Stat(filepath.Join(e.dir, out["summary-path"])); err != nil {
		t.Errorf("summary-path: %v", err)
	}
	if s := e.summary(t); !strings.Contains(s, "gate: fail") {
		t.Errorf("job summary lacks the verdict:\n%.300s", s)
	}
	if !strings.Contains(e.stdout.String(), "::error title=gate%3A regression::") {
		t.Errorf("no error annotation for the regression")
	}
	// Annotations give the values, and the change, exactly as the comment's
	// table does: a cause's lead metric is its row (label, base → head, Δ),
	// the others are said under it ("also <quantity> <Δ>").
	ann := regexp.MustCompile(`::error title=gate%3A regression::(.+?): (.+ → .+) \(([^()]+)\)[^\n]* \[`)
	agree := 0
	for _, m := range ann.FindAllStringSubmatch(e.stdout.String(), -1) {
		unesc := strings.NewReplacer("%25", "%").Replace
		label, change, delta := m[1], unesc(m[2]), unesc(m[3])
		row := fmt.Sprintf(" %s", label)
		also := label[strings.LastIndex(label, " · ")+len(" · "):] + " " + delta
		body := strings.ReplaceAll(first.Body, "`", "") // kernel names are code spans
		if !(strings.Contains(body, row) && strings.Contains(body, fmt.Sprintf("| %s | **%s** |", change, delta))) && !strings.Contains(body, also) {
			t.Errorf("annotation %q: the comment has neither a row %q with %s (%s) nor %q", m[0], row, change, delta, also)
		}
		agree++
	}
	if agree == 0 {
		t.Errorf("no regression annotation with values:\n%s", e.stdout.String())
	}
	if !strings.Contains(e.stdout.String(), "::add-mask::"+testToken) {
		t.Errorf("token not masked")
	}
	if len(gh.Checks()) != 1 || gh.Checks()[0]["conclusion"] != "failure" || gh.Checks()[0]["head_sha"] != "6c1f0b9e2d4a7c3b8e5f1a0d9c2b4e6f8a1c3d5e" {
		t.Errorf("check runs = %v", gh.Checks())
	}

	// Second run: another regression. The same comment is edited.
	e.vars["INPUT_PROFILE"] = fixture("regress_host_sync")
	code := e.run()
	if w := gh.Writes(); len(w) < 1 || w[0] != fmt.Sprintf("PATCH /repos/%s/issues/comments/%d", testRepo, first.ID) {
		e.logf(t)
		t.Fatalf("second run writes = %q, want an edit of comment %d", w, first.ID)
	}
	if cs := gh.IssueComments(7); len(cs) != 4 || cs[3].Body == first.Body {
		t.Errorf("second run: %d comments, body changed %v", len(cs), cs[3].Body != first.Body)
	}
	t.Logf("host-sync regression: exit %d", code)

	// Third run: the regression is fixed. The same comment turns green.
	e.vars["INPUT_PROFILE"] = fixture("base_b")
	if code := e.run(); code != exitOK {
		e.logf(t)
		t.Fatalf("fixed run: exit %d, want 0", code)
	}
	if w := gh.Writes(); len(w) < 1 || w[0] != fmt.Sprintf("PATCH /repos/%s/issues/comments/%d", testRepo, first.ID) {
		t.Fatalf("fixed run writes = %q, want an edit of comment %d", w, first.ID)
	}
	cs = gh.IssueComments(7)
	if len(cs) != 4 || !strings.Contains(cs[3].Body, "gate: pass") || strings.Contains(cs[3].Body, "gate: fail") {
		t.Errorf("fixed run: comment not green:\n%.300s", cs[3].Body)
	}
	if out := e.outputs(t); out["verdict"] != "pass" || out["regressions"] != "0" {
		t.Errorf("fixed run outputs = %v", out)
	}

	// Fourth run, on-change: same verdicts, so the comment is left alone,
	// although the timings differ from run to run.
	e.vars["INPUT_COMMENT"] = "on-change"
	e.vars["INPUT_PROFILE"] = fixture("base_a")
	if code := e.run(); code != exitOK {
		e.logf(t)
		t.Fatalf("on-change run: exit %d", code)
	}
	for _, w := range gh.Writes() {
		if strings.Contains(w, "/comments") {
			t.Errorf("on-change with unchanged verdicts wrote %s", w)
		}
	}
	if out := e.outputs(t); out["comment-url"] != wantURL {
		t.Errorf("on-change: comment-url %q, want the existing %q", out["comment-url"], wantURL)
	}
}

func TestActionForbiddenFallsBack(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		failOn string
		want   int
	}{{"fail", exitFail}, {"never", exitOK}} {
		t.Run(tt.failOn, func(t *testing.T) {
			gh := githubtest.New(t)
			withBaselines(t, gh)
			gh.ForbidWrites = true
			e := newActionEnv(t, gh, "pull_request", map[string]string{"profile": fixture("regress_double_attn"), "fail-on": tt.failOn})
			if code := e.run(); code != tt.want {
				e.logf(t)
				t.Fatalf("exit %d, want %d: a 403 must not change the exit code", code, tt.want)
			}
			if len(gh.IssueComments(7)) != 0 {
				t.Error("a comment was stored despite the 403")
			}
			log := e.stdout.String()
			if !strings.Contains(log, "::warning::gate: could not comment") || !strings.Contains(log, "::warning::gate: no check run") {
				t.Errorf("no warnings for the refused comment and check run:\n%s", log)
			}
			if s := e.summary(t); !strings.Contains(s, "gate: fail") || !strings.Contains(s, "No PR comment was posted") {
				t.Errorf("job summary lacks the report or the note:\n%.400s", s)
			}
			if out := e.outputs(t); out["verdict"] != "fail" || out["comment-url"] != "" {
				t.Errorf("outputs = %v", out)
			}
		})
	}
}

// withLapsedBaseline gives gh a repository whose baselines lapsed: its one
// gate-baseline artifact expired, another branch's is not for main.
func withLapsedBaseline(t *testing.T, gh *githubtest.Server) {
	day := time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)
	gh.Artifacts = []githubtest.Artifact{
		{ID: 601, Name: "gate-baseline", Created: day, RunID: 961, HeadBranch: "main", HeadSHA: "1111111111111111111111111111111111111111", Expired: true},
		{ID: 602, Name: "gate-baseline", Created: day, RunID: 962, HeadBranch: "fuse-attn", HeadSHA: "3333333333333333333333333333333333333333",
			Zip: baselineZip(t, ziptest.Entry{Name: "summary.json", Data: string(fixtureSummary(t, "base_a"))})},
	}
}

// TestActionNoBaseline: baselines existed but none is usable (expired, or
// from another branch): loud, exit 3, never a pass.
func TestActionNoBaseline(t *testing.T) {
	t.Parallel()
	gh := githubtest.New(t)
	withLapsedBaseline(t, gh)
	e := newActionEnv(t, gh, "pull_request", map[string]string{"profile": fixture("base_b")})
	if code := e.run(); code != exitNotComparable {
		e.logf(t)
		t.Fatalf("exit %d, want %d: no baseline is never a pass", code, exitNotComparable)
	}
	out := e.outputs(t)
	if out["verdict"] != "no_baseline" {
		t.Errorf("verdict %q", out["verdict"])
	}
	cs := gh.IssueComments(7)
	if len(cs) != 1 || !strings.Contains(cs[0].Body, `"gate-baseline"`) || strings.Contains(cs[0].Body, "no baseline yet") {
		t.Errorf("comment does not say which baseline is missing, or calls it the first: %+v", cs)
	}
	if !strings.Contains(e.stdout.String(), "::warning title=gate%3A no baseline::") {
		t.Errorf("no warning annotation")
	}
	if !strings.Contains(e.summary(t), "gate-baseline") {
		t.Errorf("job summary does not say which baseline is missing")
	}

	// gate.yml may make it exit 0, still saying no_baseline.
	e.config(t, "exit:\n  no-baseline: 0\n")
	if code := e.run(); code != exitOK {
		t.Errorf("with exit.no-baseline 0: exit %d", code)
	}
	if out := e.outputs(t); out["verdict"] != "no_baseline" {
		t.Errorf("verdict %q", out["verdict"])
	}
}

// TestActionFirstPullRequest runs `gate action` as the runner runs the quick
// start's step on the first pull request of a repository that adopted gate:
// the pull_request event, no config, and not one gate-baseline artifact yet.
// The step passes with a note, and every output is set.
func TestActionFirstPullRequest(t *testing.T) {
	t.Parallel()
	gh := githubtest.New(t)
	gh.Artifacts = []githubtest.Artifact{{ID: 700, Name: "coverage", Created: time.Now(), RunID: 970, HeadBranch: "main", HeadSHA: mainSHA}}
	e := newActionEnv(t, gh, "pull_request", map[string]string{"profile": fixture("base_b")})
	if code := e.run(); code != exitOK {
		e.logf(t)
		t.Fatalf("exit %d, want 0: the first pull request of a new gate passes", code)
	}
	const note = "no baseline yet: this run will become the baseline once merged"
	cs := gh.IssueComments(7)
	if len(cs) != 1 || !strings.Contains(cs[0].Body, "gate: no baseline") || !strings.Contains(cs[0].Body, note) {
		t.Fatalf("comments %+v, want one that says %q", cs, note)
	}
	out := e.outputs(t)
	wantURL := fmt.Sprintf("https://github.com/%s/pull/7#issuecomment-%d", testRepo, cs[0].ID)
	if out["verdict"] != "no_baseline" || out["regressions"] != "0" || out["comment-url"] != wantURL ||
		out["summary-path"] != "gate-report/summary.json" || out["report-path"] != "gate-report/report.md" {
		t.Errorf("outputs = %v", out)
	}
	// What the push after the merge uploads as the first baseline.
	if _, err := load.Summary(context.Background(), filepath.Join(e.dir, out["summary-path"]), parse.Options{}); err != nil {
		t.Errorf("summary-path is not a summary: %v", err)
	}
	log := e.stdout.String()
	if !strings.Contains(log, "::notice title=gate%3A no baseline::"+note) || strings.Contains(log, "::warning title=gate%3A no baseline") {
		t.Errorf("want a notice, not a warning:\n%s", log)
	}
	if !strings.Contains(e.summary(t), note) {
		t.Errorf("job summary lacks the note")
	}
	if checks := gh.Checks(); len(checks) != 1 || checks[0]["conclusion"] != "neutral" {
		t.Errorf("check runs %v, want one neutral", checks)
	}
	if n := gh.Count(githubtest.RouteCompare); n != 0 {
		t.Errorf("asked for the merge base %d times with no baseline to pick", n)
	}

	// The push to main after the merge: fail-on never as in the quick start;
	// its note says what to upload.
	e.vars["GITHUB_EVENT_NAME"] = "push"
	e.vars["GITHUB_EVENT_PATH"] = pushEvent(t)
	e.vars["INPUT_FAIL-ON"] = "never"
	if code := e.run(); code != exitOK {
		e.logf(t)
		t.Fatalf("push: exit %d", code)
	}
	if s := e.summary(t); !strings.Contains(s, `no baseline yet: upload this run's summary-path as the artifact &#34;gate-baseline&#34; from a push to main`) &&
		!strings.Contains(s, `no baseline yet: upload this run's summary-path as the artifact "gate-baseline" from a push to main`) {
		t.Errorf("push: the job summary does not say what to upload:\n%.600s", s)
	}
}

// pushEvent is a push to main's payload, as much of it as gate reads.
func pushEvent(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "push.json")
	ev := `{"ref": "refs/heads/main", "after": "` + mainSHA + `", "repository": {"full_name": "` + testRepo + `", "default_branch": "main"}}`
	if err := os.WriteFile(p, []byte(ev), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// prInto is the shipped pull_request payload, retargeted at base branch
// baseRef whose tip is baseSHA: a PR into a release branch, or a stacked one.
func prInto(t *testing.T, baseRef, baseSHA string) string {
	data, err := os.ReadFile(filepath.Join("..", "testdata", "github", "pull_request.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(data, &ev); err != nil {
		t.Fatal(err)
	}
	base := ev["pull_request"].(map[string]any)["base"].(map[string]any)
	base["ref"], base["sha"] = baseRef, baseSHA
	out, _ := json.Marshal(ev)
	p := filepath.Join(t.TempDir(), "pull_request.json")
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestActionPicksTheRightBaseline: the artifact uploaded for the pull
// request's merge base wins over a newer one on its base branch, and the
// base branch's newest over the default branch's; the report says which it
// took (commit, run, age). The merge base comes from the compare API.
func TestActionPicksTheRightBaseline(t *testing.T) {
	t.Parallel()
	const (
		head     = "6c1f0b9e2d4a7c3b8e5f1a0d9c2b4e6f8a1c3d5e" // the payload's head.sha
		relTip   = "7777777777777777777777777777777777777777"
		forkedAt = "5555555555555555555555555555555555555555"
	)
	base := func(t *testing.T) string { return string(fixtureSummary(t, "base_a")) }
	other := func(t *testing.T) string { return string(fixtureSummary(t, "regress_double_attn")) }
	day := time.Now().Add(-10 * 24 * time.Hour).Truncate(time.Hour)
	artifacts := func(t *testing.T) []githubtest.Artifact {
		return []githubtest.Artifact{
			// The merge base's, on main: older than main's newest.
			{ID: 801, Name: "gate-baseline", Created: day, RunID: 981, HeadBranch: "main", HeadSHA: forkedAt, Zip: baselineZip(t, ziptest.Entry{Name: "summary.json", Data: base(t)})},
			{ID: 802, Name: "gate-baseline", Created: day.Add(72 * time.Hour), RunID: 982, HeadBranch: "main", HeadSHA: mainSHA, Zip: baselineZip(t, ziptest.Entry{Name: "summary.json", Data: other(t)})},
			// release/1.x's newest, older than main's.
			{ID: 803, Name: "gate-baseline", Created: day.Add(24 * time.Hour), RunID: 983, HeadBranch: "release/1.x", HeadSHA: relTip, Zip: baselineZip(t, ziptest.Entry{Name: "summary.json", Data: base(t)})},
		}
	}
	for _, tt := range []struct {
		name             string
		event            func(t *testing.T) string
		mergeBase        string // the compare API's answer for base...head; "" the base itself
		wantID, wantRun  string
		wantFrom, wantGH string
		exit             int
	}{
		{"the merge base's over a newer one on the base branch",
			func(t *testing.T) string { return prInto(t, "main", mainSHA) }, forkedAt,
			"801", "run 981", "the merge base 555555555555 of this pull request, on main (run 981, 10 days old)", mainSHA + "..." + head, exitOK},
		{"the base branch's newest over the default branch's",
			func(t *testing.T) string { return prInto(t, "release/1.x", relTip) }, "9999999999999999999999999999999999999999",
			"803", "run 983", "the newest on release/1.x, 777777777777 (run 983, 9 days old): the merge base 999999999999 has none", relTip + "..." + head, exitOK},
		{"the default branch's when the base branch has none (a stacked PR)",
			func(t *testing.T) string {
				return prInto(t, "fuse-attn-part1", "8888888888888888888888888888888888888888")
			}, "",
			"802", "run 982", `the newest on main, 0d3a7e9c1b5f (run 982, 7 days old): "fuse-attn-part1" has none`, "", exitOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			gh := githubtest.New(t)
			gh.Artifacts = artifacts(t)
			if tt.mergeBase != "" {
				gh.MergeBases = map[string]string{tt.wantGH: tt.mergeBase}
			}
			e := newActionEnv(t, gh, "pull_request", map[string]string{"profile": fixture("base_b")})
			e.vars["GITHUB_EVENT_PATH"] = tt.event(t)
			if code := e.run(); code != tt.exit {
				e.logf(t)
				t.Fatalf("exit %d, want %d", code, tt.exit)
			}
			if gh.Count(githubtest.RouteCompare) != 1 {
				t.Errorf("compare API asked %d times, want once", gh.Count(githubtest.RouteCompare))
			}
			log := e.stdout.String()
			if want := fmt.Sprintf("gate: baseline: artifact \"gate-baseline\" (%s): %s", tt.wantID, tt.wantFrom); !strings.Contains(log, want) {
				t.Errorf("log does not say %q:\n%s", want, log)
			}
			cs := gh.IssueComments(7)
			if len(cs) != 1 || !strings.Contains(cs[0].Body, "Baseline: "+tt.wantFrom) {
				t.Errorf("comment does not say where the baseline came from (%q):\n%.800s", tt.wantFrom, cs[0].Body)
			}
		})
	}
}

func TestActionRefusesUnsafeBaseline(t *testing.T) {
	t.Parallel()
	base := string(fixtureSummary(t, "base_a"))
	for _, tt := range []struct {
		name  string
		entry []ziptest.Entry
		want  string
	}{
		{"parent path", []ziptest.Entry{{Name: "../../summary.json", Data: base}}, "path leaves the archive"},
		{"oversized entry", []ziptest.Entry{{Name: "summary.json", Data: "{}", Raw: true, Claimed: 64<<20 + 1}}, "allowed per file"},
		{"symlink", []ziptest.Entry{{Name: "summary.json", Data: "/etc/passwd", Mode: 0o777 | os.ModeSymlink}}, "not a regular file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			gh := githubtest.New(t)
			gh.Artifacts = []githubtest.Artifact{{ID: 600, Name: "gate-baseline", Created: time.Now(), RunID: 9, HeadBranch: "main", HeadSHA: mainSHA, Zip: ziptest.Make(t, tt.entry...)}}
			e := newActionEnv(t, gh, "pull_request", map[string]string{"profile": fixture("base_b")})
			if code := e.run(); code != exitNotComparable {
				e.logf(t)
				t.Fatalf("exit %d, want %d", code, exitNotComparable)
			}
			if out := e.outputs(t); out["verdict"] != "no_baseline" {
				t.Errorf("verdict %q", out["verdict"])
			}
			log := e.stdout.String()
			if !strings.Contains(log, "::error::gate: baseline") || !strings.Contains(log, "unsafe zip") || !strings.Contains(log, tt.want) {
				t.Errorf("no error annotation naming the refusal (%s):\n%s", tt.want, log)
			}
		})
	}
}

func TestActionCommentMode(t *testing.T) {
	t.Parallel()
	// The pull_request job of a fork wrote its output directory; gate judges
	// the summary.json in it again, against the baseline it fetches itself,
	// and comments on the PR found by commit.
	gh := githubtest.New(t)
	withBaselines(t, gh)
	pr := newActionEnv(t, nil, "pull_request", map[string]string{"profile": fixture("regress_double_attn"), "baseline": fixture("base_a"), "github-token": ""})
	delete(pr.vars, "GITHUB_API_URL")
	if code := pr.run(); code != exitFail {
		pr.logf(t)
		t.Fatalf("pull_request job: exit %d", code)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(pr.dir, "gate-report", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	summary, result := read("summary.json"), read("result.json")
	const forkSHA = "b7e3c1a9d5f2e8c4a0b6d3f9e1c7a5b2d8f4e0c6"
	artifact := func(entries ...ziptest.Entry) {
		gh.Artifacts = append(gh.Artifacts[:5], githubtest.Artifact{ID: 700, Name: "gate-report", Created: time.Now(), RunID: 12000000042, HeadBranch: "faster-sampling", HeadSHA: forkSHA,
			Zip: ziptest.Make(t, entries...)})
	}
	artifact(ziptest.Entry{Name: "summary.json", Data: summary}, ziptest.Entry{Name: "result.json", Data: result}, ziptest.Entry{Name: "report.md", Data: "@everyone this text is never posted"})
	gh.PRs = []githubtest.PR{
		{Number: 3, SHA: forkSHA, HeadRepo: "someone-else/demo", State: "open"}, // same commit pushed to another fork
		{Number: 9, SHA: forkSHA, HeadRepo: "contributor/demo", State: "open"},
	}
	e := newActionEnv(t, gh, "workflow_run", map[string]string{"mode": "comment"})
	if code := e.run(); code != exitOK {
		e.logf(t)
		t.Fatalf("comment mode: exit %d", code)
	}
	if len(gh.IssueComments(3)) != 0 {
		t.Error("commented on the PR from another head repository")
	}
	cs := gh.IssueComments(9)
	if len(cs) != 1 || !strings.HasPrefix(cs[0].Body, "<!-- gate:report id=default -->") || !strings.Contains(cs[0].Body, "gate: fail") {
		t.Fatalf("comments on #9: %+v", cs)
	}
	if strings.Contains(cs[0].Body, "@everyone") {
		t.Error("the artifact's report.md was posted")
	}
	if !strings.Contains(cs[0].Body, mainSHA[:12]) {
		t.Error("the comment does not name the baseline commit gate fetched")
	}
	out := e.outputs(t)
	if out["verdict"] != "fail" || !strings.HasSuffix(out["comment-url"], fmt.Sprintf("#issuecomment-%d", cs[0].ID)) {
		t.Errorf("outputs = %v", out)
	}
	regressions := out["regressions"]

	// The fork's result.json lies: a pass above its failed metrics, and
	// another gate's config id, whose comment it would take over. Neither
	// is read.
	lie := strings.Replace(result, `"verdict": "fail"`, `"verdict": "pass"`, 1)
	lie = strings.Replace(lie, `"config_id": ""`, `"config_id": "decode"`, 1)
	if lie == result {
		t.Fatal("the forgery changed nothing")
	}
	// Its summary records loosened rules: they are news, not law.
	var s map[string]any
	json.Unmarshal([]byte(summary), &s)
	s["gate"] = map[string]any{"rules": []map[string]any{{"metric": "phases.**", "ignore": true}, {"metric": "kernels.**", "fail": "500%"}}, "exit": map[string]any{}}
	loose, _ := json.Marshal(s)
	artifact(ziptest.Entry{Name: "summary.json", Data: string(loose)}, ziptest.Entry{Name: "result.json", Data: lie})
	gh.Writes()
	if code := e.run(); code != exitOK {
		e.logf(t)
		t.Fatalf("forged result: exit %d", code)
	}
	cs = gh.IssueComments(9)
	if len(cs) != 1 || !strings.HasPrefix(cs[0].Body, "<!-- gate:report id=default -->") || !strings.Contains(cs[0].Body, "gate: fail") {
		t.Fatalf("forged result: comments on #9: %.500s", cs[len(cs)-1].Body)
	}
	if !strings.Contains(cs[0].Body, "This pull request changes gate's rules") || !strings.Contains(cs[0].Body, "ignore of `phases.**` (") {
		t.Errorf("the comment does not list the fork's rule changes:\n%.1500s", cs[0].Body)
	}
	if out := e.outputs(t); out["verdict"] != "fail" || out["regressions"] != regressions {
		t.Errorf("forged result: outputs %v, want the fail with %s regressions", out, regressions)
	}

	// Without a summary there is nothing to judge: a warning, no comment.
	artifact(ziptest.Entry{Name: "gate/result.json", Data: lie})
	gh.Writes()
	if code := e.run(); code != exitOK {
		t.Fatalf("no summary: exit %d", code)
	}
	if w := gh.Writes(); len(w) != 0 {
		t.Errorf("an artifact without a summary led to writes %v", w)
	}
	if log := e.stdout.String(); !strings.Contains(log, "::warning::gate: run 12000000042") || !strings.Contains(log, "has no summary.json") {
		t.Errorf("no warning for the artifact without a summary:\n%s", log)
	}
}

// TestActionCommentModeJudgesAsThePullRequest: mode comment finds the pull
// request through the API and judges as that pull request's own job does:
// the baseline of its base branch's merge base (not the default branch's
// newest), and what its label and description accept.
func TestActionCommentModeJudgesAsThePullRequest(t *testing.T) {
	t.Parallel()
	const (
		forkSHA  = "b7e3c1a9d5f2e8c4a0b6d3f9e1c7a5b2d8f4e0c6" // workflow_run.json's head_sha
		relTip   = "7777777777777777777777777777777777777777"
		forkedAt = "5555555555555555555555555555555555555555"
	)
	day := time.Now().Add(-10 * 24 * time.Hour).Truncate(time.Hour)
	head := string(fixtureSummary(t, "regress_host_sync"))
	gh := githubtest.New(t)
	gh.Artifacts = []githubtest.Artifact{
		{ID: 801, Name: "gate-baseline", Created: day, RunID: 981, HeadBranch: "release/1.x", HeadSHA: forkedAt,
			Zip: baselineZip(t, ziptest.Entry{Name: "summary.json", Data: string(summaryWith(t, "base_a", recording(t, "accept-label: perf-accepted\n")))})},
		// The default branch's newest already holds the head's code: judged
		// against it, the pull request would pass.
		{ID: 802, Name: "gate-baseline", Created: day.Add(72 * time.Hour), RunID: 982, HeadBranch: "main", HeadSHA: mainSHA,
			Zip: baselineZip(t, ziptest.Entry{Name: "summary.json", Data: head})},
		{ID: 700, Name: "gate-report", Created: time.Now(), RunID: 12000000042, HeadBranch: "exact-sampling", HeadSHA: forkSHA,
			Zip: ziptest.Make(t, ziptest.Entry{Name: "summary.json", Data: head})},
	}
	gh.PRs = []githubtest.PR{{Number: 7, SHA: forkSHA, HeadRepo: "contributor/demo", State: "open", BaseRef: "release/1.x", BaseSHA: relTip}}
	gh.MergeBases = map[string]string{relTip + "..." + forkSHA: forkedAt}
	e := newActionEnv(t, gh, "workflow_run", map[string]string{"mode": "comment"})
	if code := e.run(); code != exitOK {
		e.logf(t)
		t.Fatalf("comment mode: exit %d", code)
	}
	cs := gateComments(gh)
	if len(cs) != 1 || !strings.Contains(cs[0].Body, "❌ **gate: fail**") ||
		!strings.Contains(cs[0].Body, "Baseline: the merge base 555555555555 of this pull request, on release/1.x (run 981") {
		e.logf(t)
		t.Fatalf("want a fail against release/1.x's merge-base baseline; comments %+v", cs)
	}
	if out := e.outputs(t); out["verdict"] != "fail" {
		t.Errorf("outputs %v", out)
	}

	// The label and a reason line accept the decode regressions, as they do
	// in the pull request's job; the comment is edited, not added.
	labelled(gh, "gate: accept phases.decode.* — a host sync per step buys exact sampling", "perf-accepted")
	if code := e.run(); code != exitOK {
		e.logf(t)
		t.Fatalf("accepted: exit %d", code)
	}
	cs = gateComments(gh)
	if len(cs) != 1 || !strings.HasPrefix(cs[0].Body, "<!-- gate:report id=default -->\n☑️ **Accepted** by this pull request:") {
		t.Fatalf("accepted: comments %+v", cs)
	}
	if out := e.outputs(t); out["verdict"] != "accepted" {
		t.Errorf("accepted: outputs %v", out)
	}
}

// fakeProfiler stands in for nsys: it prints like a hostile workload and
// summarises a fixture export.
type fakeProfiler struct {
	export string
	got    *action.ProfileRequest
}

func (p fakeProfiler) Profile(ctx context.Context, req action.ProfileRequest) (*parse.Summary, error) {
	*p.got = req
	fmt.Fprintln(req.Stdout, "::set-output name=verdict::pass")
	return load.Summary(ctx, p.export, req.Parse)
}

func TestActionProfileMode(t *testing.T) {
	t.Parallel()
	var got action.ProfileRequest
	e := newActionEnv(t, nil, "pull_request", map[string]string{
		"command": "python bench.py --steps 48", "nsys-args": "-t cuda,nvtx --cuda-graph-trace=graph",
		"baseline": fixture("base_a"), "github-token": "", "comment": "never",
	})
	e.profiler = fakeProfiler{export: fixture("base_b"), got: &got}
	for k, v := range map[string]string{"GITHUB_ENV": "/runner/env", "GITHUB_PATH": "/runner/path", "GITHUB_STATE": "/runner/state",
		"ACTIONS_RUNTIME_TOKEN": "ghs_runtime", "ACTIONS_ID_TOKEN_REQUEST_URL": "https://oidc", "DEPLOY_TOKEN": "ghs_deploy", "CUDA_VISIBLE_DEVICES": "1"} {
		e.vars[k] = v
	}
	if code := e.run(); code != exitOK {
		e.logf(t)
		t.Fatalf("exit %d", code)
	}
	if got.Command != "python bench.py --steps 48" || strings.Join(got.NsysArgs, " ") != "-t cuda,nvtx --cuda-graph-trace=graph" || got.Dir != filepath.Join(e.dir, "gate-report") {
		t.Errorf("profiler got %+v", got)
	}
	// The workload is PR code: it gets no way to act as the step.
	env := strings.Join(got.Env, "\n")
	for _, gone := range []string{"GITHUB_OUTPUT=", "GITHUB_STEP_SUMMARY=", "GITHUB_ENV=", "GITHUB_PATH=", "GITHUB_STATE=", "ACTIONS_RUNTIME_TOKEN=", "ACTIONS_ID_TOKEN_REQUEST_URL=", "DEPLOY_TOKEN=", "INPUT_", "ghs_"} {
		if strings.Contains(env, gone) {
			t.Errorf("the workload's environment has %s:\n%s", gone, env)
		}
	}
	for _, kept := range []string{"PATH=", "GITHUB_SHA=", "GITHUB_WORKSPACE=", "CUDA_VISIBLE_DEVICES=1"} {
		if !strings.Contains(env, kept) {
			t.Errorf("the workload's environment lacks %s:\n%s", kept, env)
		}
	}
	// The workload's output is fenced by stop-commands.
	log := e.stdout.String()
	m := regexp.MustCompile(`::stop-commands::(\S+)`).FindStringSubmatch(log)
	if m == nil {
		t.Fatalf("no stop-commands around the workload:\n%s", log)
	}
	i, j, k := strings.Index(log, m[0]), strings.Index(log, "::set-output"), strings.Index(log, "::"+m[1]+"::")
	if !(i < j && j < k) {
		t.Errorf("workload output not between stop-commands and resume:\n%s", log)
	}
	// ... inside one folded group, opened before and closed after.
	g, eg := strings.Index(log, "::group::gate: profiling python bench.py --steps 48\n"), strings.Index(log, "::endgroup::")
	if !(g >= 0 && g < i && k < eg) {
		t.Errorf("profiling not in one ::group:: around stop-commands (group %d, stop %d, resume %d, end %d):\n%s", g, i, k, eg, log)
	}
	if out := e.outputs(t); out["verdict"] != "pass" {
		t.Errorf("outputs = %v", out)
	}
}

func TestActionLocalRunWithoutRunnerFiles(t *testing.T) {
	t.Parallel()
	// Outside a runner there are no env files and no token: nothing may
	// panic, outputs are printed, and the exit code is still the verdict's.
	dir := t.TempDir()
	vars := map[string]string{
		"INPUT_PROFILE":    fixture("regress_double_attn"),
		"INPUT_BASELINE":   fixture("base_a"),
		"INPUT_OUTPUT-DIR": filepath.Join(dir, "out"),
	}
	var stdout, stderr bytes.Buffer
	c := &Command{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return vars[k] }}
	if code := c.Main([]string{"gate", "action"}); code != exitFail {
		t.Fatalf("exit %d, want %d\n%s%s", code, exitFail, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "output verdict=fail") {
		t.Errorf("outputs not printed:\n%s", stdout.String())
	}
	// Masking is the runner's: outside it ::add-mask:: would print the
	// token in clear.
	vars["INPUT_GITHUB-TOKEN"] = "ghp_LOCALTOKEN123"
	stdout.Reset()
	c.Main([]string{"gate", "action"})
	if strings.Contains(stdout.String(), "ghp_LOCALTOKEN123") {
		t.Errorf("the token was printed outside Actions:\n%s", stdout.String())
	}
	for _, f := range []string{"summary.json", "result.json", "report.md", "report.html"} {
		if _, err := os.Stat(filepath.Join(dir, "out", f)); err != nil {
			t.Error(err)
		}
	}
}

func TestActionBadInputs(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		inputs map[string]string
		want   string
	}{
		{map[string]string{"mode": "deploy"}, "input mode"},
		{map[string]string{"mode": "compare"}, "input profile: required"},
		{map[string]string{"mode": "profile"}, "input command: required"},
		{map[string]string{"profile": "x", "fail-on": "sometimes"}, "input fail-on"},
		{map[string]string{"profile": "x", "comment": "yes"}, "input comment"},
		{map[string]string{"profile": "x", "check-run": "yes please"}, "input check-run"},
		{map[string]string{"profile": filepath.Join("..", "testdata", "github", "missing.sqlite")}, "input profile"},
		{map[string]string{"profile": "x", "id": "llama 8b"}, "input id: \"llama 8b\""},
		{map[string]string{"profile": "x", "leg": "maybe"}, "input leg"},
		{map[string]string{"mode": "merge", "leg": "true"}, "input leg: mode merge posts the report itself"},
		{map[string]string{"mode": "merge", "baseline": "base.json"}, "input baseline: mode merge fetches each entry's own"},
		{map[string]string{"mode": "merge", "entries": "a,b/c"}, "input entries"},
		{map[string]string{"mode": "merge", "github-token": ""}, "mode merge needs github-token"},
		{map[string]string{"profile": fixture("base_b"), "matrix": `{"model": {"name": "x"}}`}, "input matrix: the value of \"model\""},
	} {
		e := newActionEnv(t, nil, "pull_request", tt.inputs)
		if code := e.run(); code != exitError {
			t.Errorf("%v: exit %d, want %d", tt.inputs, code, exitError)
		}
		if !strings.Contains(e.stdout.String(), "::error::") || !strings.Contains(e.stdout.String(), tt.want) {
			t.Errorf("%v: no error annotation with %q:\n%s", tt.inputs, tt.want, e.stdout.String())
		}
	}
}

// TestHideEnvironment runs hideEnvironment in a child process (it cannot be
// undone) and checks that the child is no longer dumpable, so that its
// /proc/<pid>/environ is root's.
func TestHideEnvironment(t *testing.T) {
	if os.Getenv("GATE_TEST_HIDE_ENVIRONMENT") == "1" {
		if !dumpable() {
			t.Fatal("dumpable before")
		}
		if err := hideEnvironment(); err != nil {
			t.Fatal(err)
		}
		if dumpable() {
			t.Fatal("still dumpable")
		}
		return
	}
	if runtime.GOOS != "linux" {
		t.Skip("prctl is Linux's")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHideEnvironment$", "-test.v")
	cmd.Env = append(os.Environ(), "GATE_TEST_HIDE_ENVIRONMENT=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestHideEnvironment") {
		t.Errorf("child: %v\n%s", err, out)
	}
}
