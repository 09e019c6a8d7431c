package gate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nsys-gate/gate/compare"
	"github.com/nsys-gate/gate/gate/config"
	"github.com/nsys-gate/gate/internal/githubtest"
	"github.com/nsys-gate/gate/internal/ziptest"
	"github.com/nsys-gate/gate/parse"
)

// A matrix of configurations, end to end against the fake GitHub: each leg
// runs `gate action` with leg: true as the runner would, its output
// directory is uploaded as its report artifact, and the merge job runs
// `gate action` in mode merge on the same run.

const prHead = "6c1f0b9e2d4a7c3b8e5f1a0d9c2b4e6f8a1c3d5e" // the payload's head.sha

// summaryWith is a fixture's summary changed by edit (another GPU, a
// recorded gate.yml), encoded.
func summaryWith(t *testing.T, name string, edit func(*parse.Summary)) []byte {
	t.Helper()
	s, err := parse.DecodeSummary(bytes.NewReader(fixtureSummary(t, name)))
	if err != nil {
		t.Fatal(err)
	}
	edit(s)
	var b bytes.Buffer
	if err := parse.EncodeSummary(&b, s); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// onGPU makes a summary look profiled on another GPU model.
func onGPU(gpu string) func(*parse.Summary) { return func(s *parse.Summary) { s.GPU.Name = gpu } }

// recording makes a summary record gate.yml's judging part, as one that
// gate action wrote as a baseline does.
func recording(t *testing.T, yml string) func(*parse.Summary) {
	cfg, err := config.Parse("gate.yml", []byte(yml))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := cfg.Record()
	if err != nil {
		t.Fatal(err)
	}
	return func(s *parse.Summary) { s.Gate = rec }
}

var artifactIDs atomic.Int64

func init() { artifactIDs.Store(5000) }

// baselineFor is entry id's baseline artifact, uploaded from main.
func baselineFor(t *testing.T, id string, summary []byte) githubtest.Artifact {
	name := "gate-baseline"
	if id != "" {
		name += "-" + id
	}
	return githubtest.Artifact{ID: artifactIDs.Add(1), Name: name, Created: time.Now().Add(-24 * time.Hour), RunID: 900, HeadBranch: "main", HeadSHA: mainSHA,
		Zip: baselineZip(t, ziptest.Entry{Name: "summary.json", Data: string(summary)})}
}

// leg is one matrix leg: its inputs and the head summary it gates.
type leg struct {
	inputs map[string]string
	head   []byte
}

// runLeg runs a leg of run runID and uploads its output directory as the
// report artifact it names, as the example workflow's upload step does. It
// returns the leg's entry id and environment.
func runLeg(t *testing.T, gh *githubtest.Server, runID int64, l leg) (string, *actionEnv) {
	t.Helper()
	in := map[string]string{"mode": "compare", "leg": "true"}
	for k, v := range l.inputs {
		in[k] = v
	}
	e := newActionEnv(t, gh, "pull_request", in)
	e.vars["GITHUB_RUN_ID"] = fmt.Sprint(runID)
	head := filepath.Join(e.dir, "head.json")
	if err := os.WriteFile(head, l.head, 0o644); err != nil {
		t.Fatal(err)
	}
	e.vars["INPUT_PROFILE"] = head
	if code := e.run(); code != exitOK {
		e.logf(t)
		t.Fatalf("leg %v: exit %d, want 0: a leg fails only on errors, the merge job gates", l.inputs, code)
	}
	if w := gh.Writes(); len(w) != 0 {
		t.Errorf("leg %v wrote %q: a leg neither comments nor makes a check run", l.inputs, w)
	}
	out := e.outputs(t)
	var entries []ziptest.Entry
	for _, f := range []string{"summary.json", "result.json", "report.md", "report.html"} {
		b, err := os.ReadFile(filepath.Join(e.dir, "gate-report", f))
		if err != nil {
			t.Fatalf("leg %s: %v", out["id"], err)
		}
		entries = append(entries, ziptest.Entry{Name: f, Data: string(b)})
	}
	gh.Artifacts = append(gh.Artifacts, githubtest.Artifact{ID: artifactIDs.Add(1), Name: out["report-artifact"], Created: time.Now(), RunID: runID,
		HeadBranch: "fuse-attn", HeadSHA: prHead, Zip: baselineZip(t, entries...)})
	return out["id"], e
}

// legResult is what a leg wrote to its result.json.
func legResult(t *testing.T, e *actionEnv) compare.Result {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(e.dir, "gate-report", "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r compare.Result
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// runMerge runs the merge job of run runID.
func runMerge(t *testing.T, gh *githubtest.Server, runID int64, inputs map[string]string) (*actionEnv, int) {
	t.Helper()
	in := map[string]string{"mode": "merge"}
	for k, v := range inputs {
		in[k] = v
	}
	e := newActionEnv(t, gh, "pull_request", in)
	e.vars["GITHUB_RUN_ID"] = fmt.Sprint(runID)
	return e, e.run()
}

// gateComments are the comments on PR 7 that gate wrote.
func gateComments(gh *githubtest.Server) []githubtest.Comment {
	var out []githubtest.Comment
	for _, c := range gh.IssueComments(7) {
		if c.User == githubtest.BotLogin && strings.HasPrefix(c.Body, "<!-- gate:report ") {
			out = append(out, c)
		}
	}
	return out
}

// row is the table row of entry id in a merged comment.
func row(body, id string) string {
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, "| `"+id+"` |") {
			return l
		}
	}
	return ""
}

// TestMatrixEndToEnd: three legs, named by their matrix values (two models
// on H200, one on L40S): one regresses, one passes and one is not
// comparable because its GPU changed. Each compares with its own baseline;
// the merge job posts one comment, edited in place on the second run, and
// one check run, and exits by the worst entry.
func TestMatrixEndToEnd(t *testing.T) {
	t.Parallel()
	gh := githubtest.New(t)
	withChatter(gh)
	// Each entry's own baseline. qwen's is the double-attention profile:
	// its head, the same, passes only against it. The unnamed gate-baseline
	// is there to be ignored.
	gh.Artifacts = []githubtest.Artifact{
		baselineFor(t, "h200-llama-8b", fixtureSummary(t, "base_a")),
		baselineFor(t, "h200-qwen-7b", fixtureSummary(t, "regress_double_attn")),
		baselineFor(t, "l40s-llama-8b", fixtureSummary(t, "base_a")),
		baselineFor(t, "", fixtureSummary(t, "regress_no_graphs")),
	}
	legs := func(llamaHead string) []leg {
		return []leg{
			{map[string]string{"matrix": `{"model": "llama-8b", "gpu": "h200"}`}, fixtureSummary(t, llamaHead)},
			{map[string]string{"matrix": `{"model": "qwen-7b", "gpu": "h200"}`}, fixtureSummary(t, "regress_double_attn")},
			{map[string]string{"matrix": `{"model": "llama-8b", "gpu": "l40s"}`}, summaryWith(t, "base_b", onGPU("NVIDIA L40S"))},
		}
	}
	const entries = "h200-llama-8b h200-qwen-7b l40s-llama-8b"
	wantLeg := map[string]compare.Verdict{"h200-llama-8b": compare.Fail, "h200-qwen-7b": compare.Pass, "l40s-llama-8b": compare.NotComparable}

	// First run: the legs.
	const run1 = 12000000201
	for _, l := range legs("regress_host_sync") {
		id, e := runLeg(t, gh, run1, l)
		if want, ok := wantLeg[id]; !ok {
			t.Errorf("leg %v named %q", l.inputs, id)
		} else if r := legResult(t, e); r.Verdict != want || r.ConfigID != id || !strings.HasSuffix(r.ReportURL, fmt.Sprint(run1)) {
			t.Errorf("leg %s: result.json says %s, config_id %q, report_url %q; want %s", id, r.Verdict, r.ConfigID, r.ReportURL, want)
		}
		if !strings.Contains(e.stdout.String(), `gate: baseline: artifact "gate-baseline-`+id+`"`) {
			t.Errorf("leg %s did not compare with its own baseline:\n%s", id, e.stdout.String())
		}
		if out := e.outputs(t); out["baseline-artifact"] != "gate-baseline-"+id || out["report-artifact"] != "gate-report-"+id {
			t.Errorf("leg %s outputs %v", id, out)
		}
	}

	// The merge job: one comment, one check run, exit 1.
	e, code := runMerge(t, gh, run1, map[string]string{"entries": entries})
	if code != exitFail {
		e.logf(t)
		t.Fatalf("merge: exit %d, want %d", code, exitFail)
	}
	if w := gh.Writes(); strings.Join(w, ";") != "POST /repos/"+testRepo+"/issues/7/comments;POST /repos/"+testRepo+"/check-runs" {
		t.Errorf("merge writes %q, want one comment and one check run", w)
	}
	for id := range wantLeg {
		if !strings.Contains(e.stdout.String(), `gate: baseline: artifact "gate-baseline-`+id+`"`) {
			t.Errorf("the merge job did not judge %s against its own baseline:\n%s", id, e.stdout.String())
		}
	}
	cs := gateComments(gh)
	if len(cs) != 1 {
		t.Fatalf("%d gate comments, want one for all entries", len(cs))
	}
	first := cs[0]
	if !strings.HasPrefix(first.Body, "<!-- gate:report id=default -->\n❌ **gate: fail** — 1 of 3 entries failed: `h200-llama-8b` decode · ") {
		t.Errorf("the comment does not lead with the failing entry:\n%.400s", first.Body)
	}
	for id, want := range map[string]string{
		"h200-llama-8b": "| H200 | ❌ fail | decode · ",
		"h200-qwen-7b":  "| H200 | ✅ pass |",
		"l40s-llama-8b": "| L40S (base H200) | ⚪ not comparable | GPU model differs",
	} {
		if r := row(first.Body, id); !strings.Contains(r, want) {
			t.Errorf("row of %s: %q, want %q in it", id, r, want)
		}
	}
	if i, j, k := strings.Index(first.Body, "| `h200-llama-8b` |"), strings.Index(first.Body, "| `l40s-llama-8b` |"), strings.Index(first.Body, "| `h200-qwen-7b` |"); !(i < j && j < k) {
		t.Errorf("rows not failing first: fail at %d, not comparable at %d, pass at %d", i, j, k)
	}
	if n := strings.Count(first.Body, "<details><summary>"); n < 3 {
		t.Errorf("%d folds, want each entry's report folded below", n)
	}
	if !strings.Contains(first.Body, fmt.Sprintf("(<https://github.com/%s/actions/runs/%d/artifacts/", testRepo, run1)) {
		t.Errorf("the comment does not link the entries' reports")
	}
	checks := gh.Checks()
	if len(checks) != 1 || checks[0]["conclusion"] != "failure" || checks[0]["name"] != "gate" || checks[0]["head_sha"] != prHead {
		t.Errorf("check runs %v, want one failure for the head", checks)
	}
	if out := checks[0]["output"].(map[string]any); out["title"] != "gate: fail" || !strings.Contains(out["summary"].(string), "| `h200-qwen-7b` |") {
		t.Errorf("check run output %v", out)
	}
	if out := e.outputs(t); out["verdict"] != "fail" || out["comment-url"] == "" || out["report-path"] != "gate-report/report.md" {
		t.Errorf("merge outputs %v", out)
	}
	if s := e.summary(t); !strings.Contains(s, "| `l40s-llama-8b` |") {
		t.Errorf("the job summary lacks the merged report")
	}
	if !strings.Contains(e.stdout.String(), "::error title=gate%3A h200-llama-8b%3A fail::") {
		t.Errorf("no error annotation for the failing entry:\n%s", e.stdout.String())
	}

	// Second run: the llama regression is fixed. The same comment is
	// edited; the L40S entry still exits 3.
	const run2 = 12000000202
	for _, l := range legs("base_b") {
		runLeg(t, gh, run2, l)
	}
	e, code = runMerge(t, gh, run2, map[string]string{"entries": entries})
	if code != exitNotComparable {
		e.logf(t)
		t.Fatalf("second merge: exit %d, want %d (not comparable)", code, exitNotComparable)
	}
	if w := gh.Writes(); len(w) != 2 || w[0] != fmt.Sprintf("PATCH /repos/%s/issues/comments/%d", testRepo, first.ID) {
		t.Errorf("second merge writes %q, want an edit of comment %d and a check run", w, first.ID)
	}
	cs = gateComments(gh)
	if len(cs) != 1 || cs[0].ID != first.ID {
		t.Fatalf("second merge: gate comments %d, want the first edited in place", len(cs))
	}
	if r := row(cs[0].Body, "h200-llama-8b"); !strings.Contains(r, "✅ pass") || !strings.HasPrefix(cs[0].Body, "<!-- gate:report id=default -->\n⚪ **gate: not comparable**") {
		t.Errorf("second merge: llama row %q; comment:\n%.300s", r, cs[0].Body)
	}
	if checks := gh.Checks(); len(checks) != 2 || checks[1]["conclusion"] != "failure" {
		t.Errorf("second merge: check runs %v", checks)
	}
}

// TestMatrixMissingAndFirstRun: an entry with no baseline yet and one
// whose leg uploaded nothing are both in the comment; the missing one fails
// the merge (exit 3), the new one alone would pass.
func TestMatrixMissingAndFirstRun(t *testing.T) {
	t.Parallel()
	gh := githubtest.New(t)
	gh.Artifacts = []githubtest.Artifact{baselineFor(t, "llama", fixtureSummary(t, "base_a"))}
	const run = 12000000301
	runLeg(t, gh, run, leg{map[string]string{"id": "llama"}, fixtureSummary(t, "base_b")})
	runLeg(t, gh, run, leg{map[string]string{"id": "mistral"}, fixtureSummary(t, "base_b")})

	e, code := runMerge(t, gh, run, map[string]string{"entries": "llama, mistral, llama-tp8"})
	if code != exitNotComparable {
		e.logf(t)
		t.Fatalf("exit %d, want %d: a leg that uploaded nothing is never a pass", code, exitNotComparable)
	}
	cs := gateComments(gh)
	if len(cs) != 1 {
		t.Fatalf("%d gate comments", len(cs))
	}
	body := cs[0].Body
	if r := row(body, "llama-tp8"); !strings.Contains(r, "⛔ missing | no artifact gate-report-llama-tp8 in run 12000000301") {
		t.Errorf("missing row %q", r)
	}
	if r := row(body, "mistral"); !strings.Contains(r, "⚪ no baseline | no baseline yet: this run will become the baseline once merged") {
		t.Errorf("no-baseline row %q", r)
	}
	if r := row(body, "llama"); !strings.Contains(r, "✅ pass") {
		t.Errorf("passing row %q", r)
	}
	if !strings.HasPrefix(body, "<!-- gate:report id=default -->\n⛔ **gate: missing** — 1 of 3 entries missing: `llama-tp8` no artifact") {
		t.Errorf("verdict line:\n%.300s", body)
	}
	if checks := gh.Checks(); len(checks) != 1 || checks[0]["conclusion"] != "failure" {
		t.Errorf("check runs %v", checks)
	}
	if out := e.outputs(t); out["verdict"] != "missing" {
		t.Errorf("outputs %v", out)
	}

	// Without the missing entry, a new entry's first run passes.
	gh.Writes()
	e, code = runMerge(t, gh, run, map[string]string{"entries": "llama mistral"})
	if code != exitOK {
		e.logf(t)
		t.Fatalf("exit %d, want 0: an entry's first run passes", code)
	}
	if checks := gh.Checks(); checks[len(checks)-1]["conclusion"] != "neutral" {
		t.Errorf("check run %v, want neutral", checks[len(checks)-1])
	}
}

// acceptanceSetup is a repository whose baselines record gate.yml's
// accept-label (yml), with legs of run for llama (a host-sync regression:
// decode metrics only) and, unless only, qwen (double attention: decode
// metrics and kernels per step).
func acceptanceSetup(t *testing.T, yml string, run int64, only bool) *githubtest.Server {
	gh := githubtest.New(t)
	base := summaryWith(t, "base_a", recording(t, yml))
	gh.Artifacts = []githubtest.Artifact{baselineFor(t, "llama", base), baselineFor(t, "qwen", base)}
	runLeg(t, gh, run, leg{map[string]string{"id": "llama"}, fixtureSummary(t, "regress_host_sync")})
	if !only {
		runLeg(t, gh, run, leg{map[string]string{"id": "qwen"}, fixtureSummary(t, "regress_double_attn")})
	}
	return gh
}

// labelled sets PR 7's description and labels, alice having labelled it.
func labelled(gh *githubtest.Server, body string, labels ...string) {
	gh.Issues = map[int]githubtest.Issue{7: {Body: body, Labels: labels, User: "octodev"}}
	gh.Events = map[int][]githubtest.IssueEvent{}
	for _, l := range labels {
		gh.Events[7] = append(gh.Events[7],
			githubtest.IssueEvent{Event: "labeled", Label: l, Actor: "mallory", Created: time.Now().Add(-3 * time.Hour)},
			githubtest.IssueEvent{Event: "unlabeled", Label: l, Actor: "mallory", Created: time.Now().Add(-2 * time.Hour)},
			githubtest.IssueEvent{Event: "review_requested", Actor: "octodev", Created: time.Now().Add(-90 * time.Minute)},
			githubtest.IssueEvent{Event: "labeled", Label: l, Actor: "alice", Created: time.Now().Add(-time.Hour)})
	}
}

func TestMatrixAcceptance(t *testing.T) {
	t.Parallel()
	const yml = "accept-label: perf-accepted\n"
	const body = "Exact sampling.\n\ngate: accept llama — a host sync per step buys exact sampling\ngate: accept qwen:phases.decode.* — the fused sampler costs decode time\n"

	t.Run("label and reason lines", func(t *testing.T) {
		t.Parallel()
		const run = 12000000401
		gh := acceptanceSetup(t, yml, run, false)
		labelled(gh, body, "perf-accepted", "enhancement")
		e, code := runMerge(t, gh, run, map[string]string{"entries": "llama qwen"})
		if code != exitFail {
			e.logf(t)
			t.Fatalf("exit %d, want 1: qwen's kernels-per-step regression was not named", code)
		}
		b := gateComments(gh)[0].Body
		if os.Getenv("GATE_SHOW") != "" {
			t.Logf("%s", b)
		}
		if r := row(b, "llama"); !strings.Contains(r, "☑️ accepted") {
			t.Errorf("llama row %q, want accepted", r)
		}
		// The cause it shows is the first regression no line accepted.
		if r := row(b, "qwen"); !strings.Contains(r, "❌ fail | ") || strings.Contains(r, "| decode · ") {
			t.Errorf("qwen row %q, want fail with a cause other than the accepted decode regression", r)
		}
		for _, w := range []string{
			"☑️ **Accepted** by this pull request:",
			"- `llama`: 4 failures accepted by alice (label `perf-accepted`) — a host sync per step buys exact sampling",
			"- `qwen:phases.decode.*` in `qwen`: 4 failures accepted by alice (label `perf-accepted`) — the fused sampler costs decode time",
		} {
			if !strings.Contains(b, w) {
				t.Errorf("the comment lacks %q:\n%.1500s", w, b)
			}
		}
		// The events come two a page: alice, who set the label last, is on
		// the fourth.
		if gh.Count(githubtest.RouteIssue) != 1 || gh.Count(githubtest.RouteIssueEvents) != 4 {
			t.Errorf("read the pull request %d times and its events' pages %d times, want 1 and 4", gh.Count(githubtest.RouteIssue), gh.Count(githubtest.RouteIssueEvents))
		}
	})

	t.Run("every failure accepted", func(t *testing.T) {
		t.Parallel()
		const run = 12000000402
		gh := acceptanceSetup(t, yml, run, true)
		labelled(gh, body, "perf-accepted")
		e, code := runMerge(t, gh, run, map[string]string{"entries": "llama"})
		if code != exitOK {
			e.logf(t)
			t.Fatalf("exit %d, want 0", code)
		}
		if out := e.outputs(t); out["verdict"] != "accepted" {
			t.Errorf("outputs %v", out)
		}
		if c := gh.Checks(); len(c) != 1 || c[0]["conclusion"] != "success" || c[0]["output"].(map[string]any)["title"] != "gate: accepted" {
			t.Errorf("check runs %v", c)
		}
		if b := gateComments(gh)[0].Body; !strings.HasPrefix(b, "<!-- gate:report id=default -->\n☑️ **gate: accepted** — ") {
			t.Errorf("comment:\n%.300s", b)
		}
	})

	t.Run("reason line without the label", func(t *testing.T) {
		t.Parallel()
		const run = 12000000403
		gh := acceptanceSetup(t, yml, run, true)
		labelled(gh, body, "enhancement")
		e, code := runMerge(t, gh, run, map[string]string{"entries": "llama"})
		if code != exitFail {
			e.logf(t)
			t.Fatalf("exit %d, want 1: the reason line alone accepts nothing", code)
		}
		b := gateComments(gh)[0].Body
		if !strings.Contains(b, "- `llama`: nothing accepted, the label perf-accepted is not set — a host sync per step buys exact sampling") || !strings.Contains(row(b, "llama"), "❌ fail") {
			t.Errorf("comment:\n%.1200s", b)
		}
		if n := gh.Count(githubtest.RouteIssueEvents); n != 0 {
			t.Errorf("read the label events %d times with the label not set", n)
		}
	})

	t.Run("the pull request's own tree", func(t *testing.T) {
		t.Parallel()
		const run = 12000000404
		// The baselines record no accept-label; the checkout's gate.yml
		// names one that is set on the pull request and carries a reason
		// line of its own.
		gh := acceptanceSetup(t, "rules: []\n", run, true)
		labelled(gh, body, "perf-accepted")
		e := newActionEnv(t, gh, "pull_request", map[string]string{"mode": "merge"})
		e.vars["GITHUB_RUN_ID"] = fmt.Sprint(run)
		e.config(t, "# gate: accept llama — from the tree\naccept-label: perf-accepted\nentries: [llama]\n")
		if code := e.run(); code != exitFail {
			e.logf(t)
			t.Fatalf("exit %d, want 1: gate.yml of the pull request's tree accepts nothing", code)
		}
		b := gateComments(gh)[0].Body
		if strings.Contains(b, "Accepted") || strings.Contains(b, "from the tree") || !strings.Contains(row(b, "llama"), "❌ fail") {
			t.Errorf("comment:\n%.1200s", b)
		}
		if !strings.Contains(e.stdout.String(), `gate.yml names accept-label "perf-accepted", but only the baseline's recorded one ("") counts`) {
			t.Errorf("the log does not say why the label accepts nothing:\n%s", e.stdout.String())
		}
		if n := gh.Count(githubtest.RouteIssue); n != 0 {
			t.Errorf("read the pull request %d times with nothing acceptable", n)
		}
	})
}

// TestActionAcceptsSingle: one configuration, no matrix: the same label
// and reason line pass the step, and the comment says so under its marker.
func TestActionAcceptsSingle(t *testing.T) {
	t.Parallel()
	gh := githubtest.New(t)
	gh.Artifacts = []githubtest.Artifact{baselineFor(t, "", summaryWith(t, "base_a", recording(t, "accept-label: perf-accepted\n")))}
	labelled(gh, "gate: accept phases.decode.* — a host sync per step buys exact sampling", "perf-accepted")
	e := newActionEnv(t, gh, "pull_request", map[string]string{"profile": fixture("regress_host_sync")})
	if code := e.run(); code != exitOK {
		e.logf(t)
		t.Fatalf("exit %d, want 0", code)
	}
	cs := gateComments(gh)
	if len(cs) != 1 || !strings.HasPrefix(cs[0].Body, "<!-- gate:report id=default -->\n☑️ **Accepted** by this pull request:\n\n- `phases.decode.*`: 4 failures accepted by alice") {
		t.Fatalf("comments %+v", cs)
	}
	if !strings.Contains(cs[0].Body, "❌ **gate: fail**") {
		t.Errorf("the report under the acceptance no longer says what regressed")
	}
	if out := e.outputs(t); out["verdict"] != "accepted" || out["regressions"] != "4" {
		t.Errorf("outputs %v", out)
	}
	if c := gh.Checks(); len(c) != 1 || c[0]["conclusion"] != "success" {
		t.Errorf("check runs %v", c)
	}
	if s := e.summary(t); !strings.Contains(s, "☑️ **Accepted**") {
		t.Errorf("the job summary does not say what was accepted")
	}
	if log := e.stdout.String(); strings.Contains(log, "::error") || strings.Count(log, "::notice title=gate%3A accepted::") != 4 {
		t.Errorf("want the 4 accepted regressions as notices, no error annotation:\n%s", log)
	}

	// A second run finds the same comment (its marker is still the first
	// line) and edits it; without the label it fails again.
	labelled(gh, "gate: accept phases.decode.* — a host sync per step buys exact sampling")
	gh.Writes()
	if code := e.run(); code != exitFail {
		t.Fatalf("without the label: exit %d, want 1", code)
	}
	if w := gh.Writes(); len(w) == 0 || w[0] != fmt.Sprintf("PATCH /repos/%s/issues/comments/%d", testRepo, cs[0].ID) {
		t.Errorf("writes %q, want the comment edited", w)
	}
}

// TestActionConfigIDNamesItsBaseline: a gate.yml id now names its
// baselines. Where the repository still uploads the plain gate-baseline
// (a workflow from before), that is no baseline, loudly, saying what to
// rename, never a first run that passes every pull request. An id from the
// matrix is a new entry: its first run passes.
func TestActionConfigIDNamesItsBaseline(t *testing.T) {
	t.Parallel()
	gh := githubtest.New(t)
	withBaselines(t, gh)
	e := newActionEnv(t, gh, "pull_request", map[string]string{"profile": fixture("base_b")})
	e.config(t, "id: llama-decode\n")
	if code := e.run(); code != exitNotComparable {
		e.logf(t)
		t.Fatalf("exit %d, want %d", code, exitNotComparable)
	}
	out := e.outputs(t)
	if out["verdict"] != "no_baseline" || out["baseline-artifact"] != "gate-baseline-llama-decode" {
		t.Errorf("outputs %v", out)
	}
	if b := gateComments(gh)[0].Body; !strings.Contains(b, `there is no artifact "gate-baseline-llama-decode", but there are "gate-baseline" ones`) || !strings.HasPrefix(b, "<!-- gate:report id=llama_decode -->") {
		t.Errorf("comment:\n%.600s", b)
	}

	m := newActionEnv(t, gh, "pull_request", map[string]string{"profile": fixture("base_b"), "matrix": `{"model": "llama", "gpu": "h200"}`})
	if code := m.run(); code != exitOK {
		m.logf(t)
		t.Fatalf("a new matrix entry's first run: exit %d, want 0", code)
	}
}

// TestMatrixMergeFromWorkflowRun: the fork-safe merge job (workflow_run)
// re-judges each leg against the baseline that leg's pull request would
// use: its base branch's merge base, not the default branch's newest
// (which here already holds the head's code and would pass it).
func TestMatrixMergeFromWorkflowRun(t *testing.T) {
	t.Parallel()
	const (
		forkSHA  = "b7e3c1a9d5f2e8c4a0b6d3f9e1c7a5b2d8f4e0c6" // workflow_run.json's head_sha and run
		forkRun  = 12000000042
		relTip   = "7777777777777777777777777777777777777777"
		forkedAt = "5555555555555555555555555555555555555555"
	)
	head := fixtureSummary(t, "regress_host_sync")
	day := time.Now().Add(-10 * 24 * time.Hour).Truncate(time.Hour)
	gh := githubtest.New(t)
	gh.Artifacts = []githubtest.Artifact{
		{ID: artifactIDs.Add(1), Name: "gate-baseline-llama", Created: day, RunID: 981, HeadBranch: "release/1.x", HeadSHA: forkedAt,
			Zip: baselineZip(t, ziptest.Entry{Name: "summary.json", Data: string(fixtureSummary(t, "base_a"))})},
		{ID: artifactIDs.Add(1), Name: "gate-baseline-llama", Created: day.Add(72 * time.Hour), RunID: 982, HeadBranch: "main", HeadSHA: mainSHA,
			Zip: baselineZip(t, ziptest.Entry{Name: "summary.json", Data: string(head)})},
	}
	runLeg(t, gh, forkRun, leg{inputs: map[string]string{"id": "llama"}, head: head})
	gh.PRs = []githubtest.PR{{Number: 7, SHA: forkSHA, HeadRepo: "contributor/demo", State: "open", BaseRef: "release/1.x", BaseSHA: relTip}}
	gh.MergeBases = map[string]string{relTip + "..." + forkSHA: forkedAt}
	e := newActionEnv(t, gh, "workflow_run", map[string]string{"mode": "merge"})
	if code := e.run(); code != exitFail {
		e.logf(t)
		t.Fatalf("exit %d, want %d: judged against release/1.x's merge-base baseline, the leg regresses", code, exitFail)
	}
	if log := e.stdout.String(); !strings.Contains(log, "the merge base 555555555555 of this pull request, on release/1.x") {
		t.Errorf("the log does not name the merge base's baseline:\n%s", log)
	}
	if cs := gateComments(gh); len(cs) != 1 || !strings.Contains(row(cs[0].Body, "llama"), "❌") {
		t.Errorf("want one merged comment on #7 with llama failing; comments %+v", cs)
	}
}
