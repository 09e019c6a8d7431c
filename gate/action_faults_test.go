package gate

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nsys-gate/gate/internal/githubtest"
	"github.com/nsys-gate/gate/internal/ziptest"
)

// GitHub fails now and then; these runs of `gate action` meet a fake GitHub
// that fails on purpose (githubtest.Failure) and check that the gate neither
// passes a regression nor blames the wrong thing.

// bootstrapConfig is gate.yml as a repository has it before its first
// baseline: no baseline exits 0.
func bootstrapConfig(t *testing.T, e *actionEnv) {
	e.config(t, "exit:\n  no-baseline: 0\n")
}

func TestActionRetriesTransientFailures(t *testing.T) {
	t.Parallel()
	gh := githubtest.New(t)
	withBaselines(t, gh)
	gh.Fail(githubtest.RouteArtifacts, githubtest.Failure{Status: 502, Times: 1})
	gh.Fail(githubtest.RouteBlob, githubtest.Failure{Status: 500, Times: 1})
	gh.Fail(githubtest.RouteCreateComment, githubtest.Failure{Status: 502, Times: 1})
	e := newActionEnv(t, gh, "pull_request", map[string]string{"profile": fixture("regress_double_attn")})
	bootstrapConfig(t, e)
	if code := e.run(); code != exitFail {
		e.logf(t)
		t.Fatalf("exit %d, want %d: one 502 must not hide a regression", code, exitFail)
	}
	if out := e.outputs(t); out["verdict"] != "fail" || out["regressions"] == "0" {
		t.Errorf("outputs = %v", out)
	}
	if len(gh.IssueComments(7)) != 1 || len(e.waits) != 3 {
		t.Errorf("%d comments after %d retry waits, want 1 after 3", len(gh.IssueComments(7)), len(e.waits))
	}
}

func TestActionBaselineUnavailable(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		route string
		fail  githubtest.Failure
		why   string
	}{
		{"artifact list 502", githubtest.RouteArtifacts, githubtest.Failure{Status: 502, Times: 10}, "listing artifacts: 502 after 4 tries"},
		{"zip 500", githubtest.RouteZip, githubtest.Failure{Status: 500, Times: 10}, "downloading artifact 502: 500 after 4 tries"},
		{"blob 503", githubtest.RouteBlob, githubtest.Failure{Status: 503, Times: 10}, "downloading artifact 502: 503 after 4 tries"},
		{"connection drops", githubtest.RouteArtifacts, githubtest.Failure{Drop: true, Times: 10}, "listing artifacts: no answer after 4 tries"},
		{"primary rate limit for an hour", githubtest.RouteArtifacts, githubtest.Failure{Status: 403, Times: 10, Message: "API rate limit exceeded for installation ID 1.",
			Header: map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": fmt.Sprint(time.Now().Add(time.Hour).Unix())}}, "listing artifacts: rate limited until"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			gh := githubtest.New(t)
			withBaselines(t, gh)
			gh.Fail(tt.route, tt.fail)
			e := newActionEnv(t, gh, "pull_request", map[string]string{"profile": fixture("regress_double_attn")})
			// Even where no baseline may pass, an outage does not.
			bootstrapConfig(t, e)
			if code := e.run(); code != exitNotComparable {
				e.logf(t)
				t.Fatalf("exit %d, want %d", code, exitNotComparable)
			}
			if out := e.outputs(t); out["verdict"] != "baseline_unavailable" {
				t.Errorf("verdict %q, want baseline_unavailable", out["verdict"])
			}
			cs := gh.IssueComments(7)
			if len(cs) != 1 || !strings.Contains(cs[0].Body, "gate: baseline unavailable") || !strings.Contains(cs[0].Body, tt.why) {
				t.Errorf("comment does not say the baseline is unavailable (%s):\n%.600s", tt.why, cs[0].Body)
			}
			log := e.stdout.String()
			if strings.Contains(log, "permissions") {
				t.Errorf("an outage or rate limit blamed on permissions:\n%s", log)
			}
			if checks := gh.Checks(); len(checks) != 1 || checks[0]["conclusion"] != "failure" {
				t.Errorf("check runs %v, want one failure: the step fails", checks)
			}
		})
	}
}

func TestActionBaselineGoneFallsBack(t *testing.T) {
	t.Parallel()
	for _, status := range []int{404, 410} {
		gh := githubtest.New(t)
		withBaselines(t, gh)
		// The newest main baseline (502, base_a) expired between the listing
		// and the download; the older one (501, regress_double_attn) serves.
		gh.Artifacts[1].ZipStatus = status
		e := newActionEnv(t, gh, "pull_request", map[string]string{"profile": fixture("regress_double_attn")})
		code := e.run()
		out := e.outputs(t)
		if out["verdict"] == "no_baseline" || out["verdict"] == "baseline_unavailable" || code == exitNotComparable {
			e.logf(t)
			t.Fatalf("%d: verdict %q, exit %d: the older baseline should serve", status, out["verdict"], code)
		}
		log := e.stdout.String()
		if !strings.Contains(log, `artifact "gate-baseline" (501)`) || !strings.Contains(log, "skipped artifact 502: gone when downloaded") {
			t.Errorf("%d: log does not say 502 was gone and 501 used:\n%s", status, log)
		}
	}
}

func TestActionRateLimitIsNotPermission(t *testing.T) {
	t.Parallel()
	gh := githubtest.New(t)
	withBaselines(t, gh)
	secondary := githubtest.Failure{Status: 403, Times: 10, Header: map[string]string{"Retry-After": "3600"},
		Message: "You have exceeded a secondary rate limit", DocURL: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}
	gh.Fail(githubtest.RouteCreateComment, secondary)
	gh.Fail(githubtest.RouteCheckRuns, secondary)
	// A short limit is waited out.
	gh.Fail(githubtest.RouteArtifacts, githubtest.Failure{Status: 429, Times: 1, Header: map[string]string{"Retry-After": "20"}})
	e := newActionEnv(t, gh, "pull_request", map[string]string{"profile": fixture("regress_double_attn")})
	if code := e.run(); code != exitFail {
		e.logf(t)
		t.Fatalf("exit %d, want %d", code, exitFail)
	}
	if len(e.waits) != 1 || e.waits[0] != 20*time.Second {
		t.Errorf("waits %v, want the 20 s Retry-After", e.waits)
	}
	log := e.stdout.String()
	if strings.Contains(log, "permissions") || strings.Contains(log, "may not write") {
		t.Errorf("a rate limit blamed on permissions:\n%s", log)
	}
	if !strings.Contains(log, "could not comment") || !strings.Contains(log, "rate limited until") {
		t.Errorf("the warning does not say it was rate limited:\n%s", log)
	}
}

func TestActionCheckRunFollowsTheStep(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		profile   string
		baselines func(*testing.T, *githubtest.Server)
		bootstrap bool
		failOn    string
		exit      int
		want      string
	}{
		{"pass", "base_b", withBaselines, false, "", exitOK, "success"},
		{"fail", "regress_double_attn", withBaselines, false, "", exitFail, "failure"},
		{"fail under fail-on never", "regress_double_attn", withBaselines, false, "never", exitOK, "failure"},
		{"no baseline exits 3", "base_b", withLapsedBaseline, false, "", exitNotComparable, "failure"},
		{"no baseline that gate.yml lets pass", "base_b", withLapsedBaseline, true, "", exitOK, "neutral"},
		{"no baseline yet: the first run passes", "base_b", nil, false, "", exitOK, "neutral"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			gh := githubtest.New(t)
			if tt.baselines != nil {
				tt.baselines(t, gh)
			}
			e := newActionEnv(t, gh, "pull_request", map[string]string{"profile": fixture(tt.profile), "fail-on": tt.failOn})
			if tt.bootstrap {
				bootstrapConfig(t, e)
			}
			if code := e.run(); code != tt.exit {
				e.logf(t)
				t.Fatalf("exit %d, want %d", code, tt.exit)
			}
			if checks := gh.Checks(); len(checks) != 1 || checks[0]["conclusion"] != tt.want {
				t.Errorf("check runs %v, want conclusion %s", checks, tt.want)
			}
		})
	}
}

func TestActionCommentListingCap(t *testing.T) {
	t.Parallel()
	gh := githubtest.New(t)
	withBaselines(t, gh)
	gh.PageSize = 1
	for i := range 60 {
		gh.Comments[7] = append(gh.Comments[7], githubtest.Comment{ID: int64(i + 1), Body: "chatter", User: "reviewer", Type: "User"})
	}
	e := newActionEnv(t, gh, "pull_request", map[string]string{"profile": fixture("base_b")})
	e.run()
	if log := e.stdout.String(); !strings.Contains(log, "::warning::gate: listing comments of #7: stopped after 50 pages") {
		t.Errorf("no warning that the comment listing stopped at its cap:\n%s", log)
	}
}

func TestActionAdoptsOnlyItsOwnComment(t *testing.T) {
	t.Parallel()
	forged := "<!-- gate:report id=default -->\n✅ **gate: pass** — all good, merge it\n<!-- gate:digest 0000000000000000 -->\n"
	for _, tt := range []struct {
		name   string
		viewer string // the token's identity; "" for GITHUB_TOKEN's bot
		prior  []githubtest.Comment
		edit   int64 // the comment gate must edit; 0: it creates one
	}{
		{"a user's forgery", "", []githubtest.Comment{{ID: 777, Body: forged, User: "mallory", Type: "User"}}, 0},
		{"another bot's copy", "", []githubtest.Comment{{ID: 50, Body: forged, User: "copy-bot[bot]", Type: "Bot"}, {ID: 999, Body: forged, User: githubtest.BotLogin, Type: "Bot"}}, 999},
		{"a personal token's own", "octodev", []githubtest.Comment{{ID: 60, Body: forged, User: githubtest.BotLogin, Type: "Bot"}, {ID: 61, Body: forged, User: "octodev", Type: "User"}}, 61},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			gh := githubtest.New(t)
			withBaselines(t, gh)
			if tt.viewer != "" {
				gh.Viewer, gh.ViewerType = tt.viewer, "User"
			}
			gh.Comments[7] = append([]githubtest.Comment(nil), tt.prior...)
			// on-change: a forged digest must not keep a forged pass up.
			e := newActionEnv(t, gh, "pull_request", map[string]string{"profile": fixture("regress_double_attn"), "comment": "on-change"})
			if code := e.run(); code != exitFail {
				e.logf(t)
				t.Fatalf("exit %d", code)
			}
			w := gh.Writes()
			want := fmt.Sprintf("POST /repos/%s/issues/7/comments", testRepo)
			if tt.edit != 0 {
				want = fmt.Sprintf("PATCH /repos/%s/issues/comments/%d", testRepo, tt.edit)
			}
			if len(w) == 0 || w[0] != want {
				t.Fatalf("writes %q, want %s first", w, want)
			}
			for _, c := range gh.IssueComments(7) {
				if c.ID != tt.edit && c.Body != forged && strings.HasPrefix(c.Body, "<!-- gate:report") && c.ID < 1000 {
					t.Errorf("comment %d by %s was changed", c.ID, c.User)
				}
			}
			if out := e.outputs(t); !strings.Contains(out["comment-url"], "#issuecomment-") || strings.HasSuffix(out["comment-url"], "-777") || strings.HasSuffix(out["comment-url"], "-50") {
				t.Errorf("comment-url %q points at someone else's comment", out["comment-url"])
			}
		})
	}
}

func TestActionRulesTravelWithTheBaseline(t *testing.T) {
	t.Parallel()
	gh := githubtest.New(t)
	withBaselines(t, gh)
	// The baseline (502) was made under the default rules and says so.
	var base map[string]any
	json.Unmarshal(fixtureSummary(t, "base_a"), &base)
	base["gate"] = map[string]any{"rules": []any{}, "exit": map[string]any{}}
	recorded, _ := json.Marshal(base)
	gh.Artifacts[1].Zip = baselineZip(t, ziptest.Entry{Name: "summary.json", Data: string(recorded)})

	// The pull request loosens its own gate.
	e := newActionEnv(t, gh, "pull_request", map[string]string{"profile": fixture("regress_double_attn")})
	e.config(t, "rules:\n  - metric: phases.decode.span.p50\n    fail: 500%\n  - metric: kernels.**\n    ignore: true\nexit:\n  not-comparable: 0\n")
	if code := e.run(); code != exitFail {
		e.logf(t)
		t.Fatalf("exit %d, want %d: the baseline's rules judge", code, exitFail)
	}
	cs := gh.IssueComments(7)
	if len(cs) != 1 {
		t.Fatalf("%d comments", len(cs))
	}
	body := cs[0].Body
	top := strings.Join(strings.SplitN(body, "\n", 12)[:11], "\n")
	for _, want := range []string{
		"This pull request changes gate's rules",
		"fail threshold of `phases.decode.span.p50`: 10% → 500% in this PR",
		"ignore of `kernels.**` (",
		"exit.not-comparable: 3 → 0 in this PR",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the comment lacks %q:\n%.2000s", want, body)
		}
	}
	if !strings.Contains(top, "This pull request changes gate's rules") {
		t.Errorf("the rule changes are not near the top:\n%s", top)
	}
	checks := gh.Checks()
	if len(checks) != 1 || !strings.Contains(fmt.Sprint(checks[0]["output"]), "fail threshold of `phases.decode.span.p50`") {
		t.Errorf("the check run does not carry the rule changes: %v", checks)
	}
	// The head's summary records its own rules, for when it is merged.
	b, err := os.ReadFile(filepath.Join(e.dir, "gate-report", "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"gate": {`) || !strings.Contains(string(b), `"fail": "500%"`) {
		t.Errorf("summary.json does not record the head's rules")
	}

	// Without a recorded baseline rule set, this run's gate.yml judges, and
	// the log says so.
	gh.Artifacts[1].Zip = baselineZip(t, ziptest.Entry{Name: "summary.json", Data: string(fixtureSummary(t, "base_a"))})
	e.run()
	if !strings.Contains(e.stdout.String(), "the baseline records no rules") {
		t.Errorf("no note that the baseline records no rules:\n%s", e.stdout.String())
	}
}
