package githubrest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nsys-gate/gate/gate/action"
	"github.com/nsys-gate/gate/internal/githubtest"
	"github.com/nsys-gate/gate/internal/ziptest"
)

// fakeClock stands in for time: the client's waits advance it and return
// at once, and are recorded.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.waits = append(c.waits, d)
}

func (c *fakeClock) total() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var t time.Duration
	for _, w := range c.waits {
		t += w
	}
	return t
}

// newTestClient is a client of gh whose waits only advance clock.
func newTestClient(t *testing.T, gh *githubtest.Server, clock *fakeClock) *Client {
	t.Helper()
	c, err := New(action.Endpoint{APIURL: gh.URL, GraphQLURL: gh.URL + "/graphql", Token: githubtest.Token, Owner: "nsys-gate", Repo: "demo"},
		Options{Transport: gh.Client().Transport, Retry: Retry{Sleep: clock.Sleep, Now: clock.Now}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func withArtifact(t *testing.T, gh *githubtest.Server) {
	gh.Artifacts = []githubtest.Artifact{{ID: 7, Name: "gate-baseline", Created: t0, RunID: 70, HeadBranch: "main", HeadSHA: "abc",
		Zip: ziptest.Make(t, ziptest.Entry{Name: "summary.json", Data: "{}"})}}
}

func apiError(t *testing.T, err error) *action.APIError {
	t.Helper()
	var ae *action.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v (%T), want an *action.APIError", err, err)
	}
	return ae
}

func TestRetryTransientFailures(t *testing.T) {
	for _, tt := range []struct {
		name  string
		route string
		fail  githubtest.Failure
		call  func(*Client) error
	}{
		{"502 on the artifact list", githubtest.RouteArtifacts, githubtest.Failure{Status: 502, Times: 3},
			func(c *Client) error { _, err := c.Artifacts(context.Background(), "gate-baseline"); return err }},
		{"500 on the zip redirect", githubtest.RouteZip, githubtest.Failure{Status: 500, Times: 2},
			func(c *Client) error { _, err := c.DownloadArtifact(context.Background(), 7, 1<<20); return err }},
		{"503 from the signed blob URL", githubtest.RouteBlob, githubtest.Failure{Status: 503, Times: 1},
			func(c *Client) error { _, err := c.DownloadArtifact(context.Background(), 7, 1<<20); return err }},
		{"a dropped connection", githubtest.RouteComments, githubtest.Failure{Drop: true, Times: 2},
			func(c *Client) error { _, err := c.Comments(context.Background(), 7); return err }},
		{"502 on a comment edit", githubtest.RouteEditComment, githubtest.Failure{Status: 502, Times: 1},
			func(c *Client) error { _, err := c.EditComment(context.Background(), 1, "new body"); return err }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			gh := githubtest.New(t)
			withArtifact(t, gh)
			gh.Comments[7] = []githubtest.Comment{{ID: 1, Body: "old", User: githubtest.BotLogin, Type: "Bot"}}
			gh.Fail(tt.route, tt.fail)
			clock := &fakeClock{now: t0}
			if err := tt.call(newTestClient(t, gh, clock)); err != nil {
				t.Fatalf("failed despite retries: %v", err)
			}
			if got, want := gh.Count(tt.route), tt.fail.Times+1; got != want {
				t.Errorf("%d requests, want %d", got, want)
			}
			// Exponential backoff from 1 s, jittered into the upper half.
			for i, w := range clock.waits {
				step := time.Second << i
				if w < step/2 || w > step {
					t.Errorf("wait %d = %v, want within [%v, %v]", i, w, step/2, step)
				}
			}
			if len(clock.waits) != tt.fail.Times {
				t.Errorf("waits %v, want %d", clock.waits, tt.fail.Times)
			}
		})
	}
	// The edit's body is sent again on the retry, not lost.
	gh := githubtest.New(t)
	gh.Comments[7] = []githubtest.Comment{{ID: 1, Body: "old", User: githubtest.BotLogin, Type: "Bot"}}
	gh.Fail(githubtest.RouteEditComment, githubtest.Failure{Status: 502, Times: 1})
	if _, err := newTestClient(t, gh, &fakeClock{now: t0}).EditComment(context.Background(), 1, "new body"); err != nil {
		t.Fatal(err)
	}
	if cs := gh.IssueComments(7); cs[0].Body != "new body" {
		t.Errorf("retried edit stored %q", cs[0].Body)
	}
}

func TestRetryGivesUp(t *testing.T) {
	gh := githubtest.New(t)
	gh.Fail(githubtest.RouteArtifacts, githubtest.Failure{Status: 502, Times: 10})
	clock := &fakeClock{now: t0}
	_, err := newTestClient(t, gh, clock).Artifacts(context.Background(), "gate-baseline")
	ae := apiError(t, err)
	if ae.Status != 502 || ae.Tries != 4 || ae.RateLimited || ae.Short() != "502 after 4 tries" {
		t.Errorf("error %+v (%q), want 502 after 4 tries", ae, ae.Short())
	}
	if gh.Count(githubtest.RouteArtifacts) != 4 {
		t.Errorf("%d requests, want 4", gh.Count(githubtest.RouteArtifacts))
	}
	if !strings.Contains(err.Error(), "502") {
		t.Errorf("message %q does not name the status", err)
	}

	// A refused token is not retried: it will not change its mind.
	gh.Fail(githubtest.RouteCreateComment, githubtest.Failure{Status: 403, Message: "Resource not accessible by integration", Times: 5})
	_, err = newTestClient(t, gh, clock).CreateComment(context.Background(), 7, "x")
	if ae := apiError(t, err); ae.Status != 403 || ae.RateLimited || gh.Count(githubtest.RouteCreateComment) != 1 {
		t.Errorf("403 without rate-limit headers: %+v after %d requests, want one try, not rate limited", ae, gh.Count(githubtest.RouteCreateComment))
	}
	// Nor is a 404.
	gh.Fail(githubtest.RoutePulls, githubtest.Failure{Status: 404, Times: 5})
	_, err = newTestClient(t, gh, clock).PullRequestsForCommit(context.Background(), "abc")
	if ae := apiError(t, err); ae.Status != 404 || gh.Count(githubtest.RoutePulls) != 1 {
		t.Errorf("404: %+v after %d requests", ae, gh.Count(githubtest.RoutePulls))
	}
}

func TestRetryRateLimits(t *testing.T) {
	secondaryDoc := "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
	for _, tt := range []struct {
		name     string
		fail     githubtest.Failure
		wantWait time.Duration // the first wait; 0: none, it gives up
		until    time.Time     // when it gives up: the reset it reports
	}{
		{"secondary, Retry-After", githubtest.Failure{Status: 403, Times: 1, Header: map[string]string{"Retry-After": "30"},
			Message: "You have exceeded a secondary rate limit", DocURL: secondaryDoc}, 30 * time.Second, time.Time{}},
		{"secondary, 429 with Retry-After", githubtest.Failure{Status: 429, Times: 1, Header: map[string]string{"Retry-After": "7"}}, 7 * time.Second, time.Time{}},
		{"secondary, no Retry-After", githubtest.Failure{Status: 403, Times: 1, Message: "You have exceeded a secondary rate limit", DocURL: secondaryDoc}, time.Minute, time.Time{}},
		{"primary, resets soon", githubtest.Failure{Status: 403, Times: 1, Message: "API rate limit exceeded for installation ID 1.",
			Header: map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Limit": "1000", "X-RateLimit-Reset": fmt.Sprint(t0.Add(40 * time.Second).Unix())}}, 41 * time.Second, time.Time{}},
		{"primary, resets in an hour", githubtest.Failure{Status: 403, Times: 1, Message: "API rate limit exceeded for installation ID 1.",
			Header: map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Limit": "1000", "X-RateLimit-Reset": fmt.Sprint(t0.Add(time.Hour).Unix())}}, 0, t0.Add(time.Hour + time.Second)},
		{"secondary, Retry-After beyond the budget", githubtest.Failure{Status: 403, Times: 1, Header: map[string]string{"Retry-After": "600"},
			Message: "You have exceeded a secondary rate limit", DocURL: secondaryDoc}, 0, t0.Add(10 * time.Minute)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			gh := githubtest.New(t)
			gh.Fail(githubtest.RouteCreateComment, tt.fail)
			clock := &fakeClock{now: t0}
			_, err := newTestClient(t, gh, clock).CreateComment(context.Background(), 7, "report")
			if tt.wantWait == 0 {
				ae := apiError(t, err)
				if !ae.RateLimited || !ae.Until.Equal(tt.until) || ae.Status != 403 {
					t.Errorf("error %+v, want rate limited until %v", ae, tt.until)
				}
				if want := "rate limited until " + tt.until.Format("15:04:05 UTC"); !strings.HasPrefix(ae.Short(), want) {
					t.Errorf("Short() = %q, want %q", ae.Short(), want)
				}
				if len(clock.waits) != 0 || gh.Count(githubtest.RouteCreateComment) != 1 {
					t.Errorf("waited %v over %d requests for a limit beyond the budget", clock.waits, gh.Count(githubtest.RouteCreateComment))
				}
				return
			}
			if err != nil {
				t.Fatalf("failed despite waiting: %v", err)
			}
			if len(clock.waits) != 1 || clock.waits[0] != tt.wantWait {
				t.Errorf("waits %v, want [%v]", clock.waits, tt.wantWait)
			}
			if len(gh.IssueComments(7)) != 1 {
				t.Error("the comment was not posted after the wait")
			}
		})
	}
}

func TestRetryBudgetIsShared(t *testing.T) {
	// Every call answers a secondary limit of 60 s: the client waits twice
	// (its whole 2 minutes), then gives up rather than exceed the budget.
	gh := githubtest.New(t)
	gh.Fail(githubtest.RouteComments, githubtest.Failure{Status: 429, Times: 100, Header: map[string]string{"Retry-After": "60"}})
	clock := &fakeClock{now: t0}
	c := newTestClient(t, gh, clock)
	for range 3 {
		c.Comments(context.Background(), 7)
	}
	if clock.total() != defaultBudget || len(clock.waits) != 2 {
		t.Errorf("waits %v, want two of 60 s: the %v budget", clock.waits, defaultBudget)
	}
	// Once spent, transient failures are tried once.
	gh.Fail(githubtest.RouteArtifacts, githubtest.Failure{Status: 502, Times: 3})
	_, err := c.Artifacts(context.Background(), "x")
	if ae := apiError(t, err); ae.Status != 502 || ae.Tries != 1 || ae.Short() != "502 after 1 try" {
		t.Errorf("after the budget: %+v (%q)", ae, ae.Short())
	}
	if len(clock.waits) != 2 {
		t.Errorf("waited again after the budget was spent: %v", clock.waits)
	}
}

func TestListingCapIsReported(t *testing.T) {
	gh := githubtest.New(t)
	gh.PageSize = 1
	for i := range maxPages + 10 {
		gh.Comments[7] = append(gh.Comments[7], githubtest.Comment{ID: int64(i + 1), Body: "chatter", User: "reviewer", Type: "User"})
	}
	cs, err := newTestClient(t, gh, &fakeClock{now: t0}).Comments(context.Background(), 7)
	var trunc *action.TruncatedError
	if !errors.As(err, &trunc) || len(cs) != maxPages {
		t.Fatalf("%d comments, err %v: want the %d read and a TruncatedError", len(cs), err, maxPages)
	}
	if !strings.Contains(err.Error(), "listing comments of #7: stopped after 50 pages") {
		t.Errorf("message %q", err)
	}
}

func TestIdentity(t *testing.T) {
	for _, tt := range []struct{ login, typ, want string }{
		{"github-actions", "Bot", "github-actions[bot]"},
		{"perf-gate-app", "Bot", "perf-gate-app[bot]"},
		{"octodev", "User", "octodev"},
	} {
		gh := githubtest.New(t)
		gh.Viewer, gh.ViewerType = tt.login, tt.typ
		got, err := newTestClient(t, gh, &fakeClock{now: t0}).Identity(context.Background())
		if err != nil || got != tt.want {
			t.Errorf("viewer %s (%s): %q, %v; want %q", tt.login, tt.typ, got, err, tt.want)
		}
	}
	gh := githubtest.New(t)
	gh.Fail(githubtest.RouteGraphQL, githubtest.Failure{Status: http.StatusUnauthorized, Times: 1})
	if _, err := newTestClient(t, gh, &fakeClock{now: t0}).Identity(context.Background()); err == nil {
		t.Error("a refused GraphQL call gave an identity")
	}
}

func TestGraphQLURL(t *testing.T) {
	for _, tt := range []struct{ api, want string }{
		{"https://api.github.com", "https://api.github.com/graphql"},
		{"https://ghes.example.com/api/v3", "https://ghes.example.com/api/graphql"},
	} {
		c, err := New(action.Endpoint{APIURL: tt.api, Token: "t", Owner: "o", Repo: "r"}, Options{})
		if err != nil || c.graphqlURL != tt.want {
			t.Errorf("%s: graphql %q, %v; want %q", tt.api, c.graphqlURL, err, tt.want)
		}
	}
}
