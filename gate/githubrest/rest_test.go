package githubrest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nsys-gate/gate/gate/action"
	"github.com/nsys-gate/gate/internal/githubtest"
)

func TestNewRESTAPIBaseURL(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", "https://api.github.com/"},
		{"https://api.github.com", "https://api.github.com/"},
		{"https://ghes.example.com/api/v3", "https://ghes.example.com/api/v3/"},
		{"https://ghes.example.com/api/v3/", "https://ghes.example.com/api/v3/"},
	} {
		api, err := New(action.Endpoint{APIURL: tt.in, Token: "t", Owner: "o", Repo: "r"}, Options{})
		if err != nil {
			t.Fatalf("%q: %v", tt.in, err)
		}
		if got := api.client.BaseURL.String(); got != tt.want {
			t.Errorf("GITHUB_API_URL %q: BaseURL %q, want %q", tt.in, got, tt.want)
		}
	}
	if _, err := New(action.Endpoint{APIURL: "api.github.com", Token: "t", Owner: "o", Repo: "r"}, Options{}); err == nil || !strings.Contains(err.Error(), "GITHUB_API_URL") {
		t.Errorf("a URL without scheme: %v", err)
	}
}

// TestRESTAPIUnderPathPrefix runs the client against an Enterprise Server
// style API root (/api/v3) and checks that a 403 is recognised as one.
func TestRESTAPIUnderPathPrefix(t *testing.T) {
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.Method+" "+r.URL.Path)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"message": "Resource not accessible by integration", "status": "403"}`)
			return
		}
		io.WriteString(w, `[{"id": 1, "body": "x", "user": {"login": "a", "type": "User"}}]`)
	}))
	defer srv.Close()
	api, err := New(action.Endpoint{APIURL: srv.URL + "/api/v3", Token: "t", Owner: "o", Repo: "r"}, Options{Transport: srv.Client().Transport})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := api.Comments(context.Background(), 7)
	if err != nil || len(cs) != 1 || cs[0].User != "a" {
		t.Fatalf("comments: %v %+v", err, cs)
	}
	_, err = api.CreateComment(context.Background(), 7, "b")
	var ae *action.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusForbidden {
		t.Errorf("403 not recognised: %v", err)
	}
	if strings.Join(paths, ",") != "GET /api/v3/repos/o/r/issues/7/comments,POST /api/v3/repos/o/r/issues/7/comments" {
		t.Errorf("paths = %v", paths)
	}
}

// TestMergeBase reads merge_base_commit from the compare API's answer, one
// commit per page, and reports a refusal as an APIError.
func TestMergeBase(t *testing.T) {
	gh := githubtest.New(t)
	const base, head, forked = "0d3a7e9c1b5f2a4e6c8b0d2f4a6c8e0b2d4f6a8c", "6c1f0b9e2d4a7c3b8e5f1a0d9c2b4e6f8a1c3d5e", "5555555555555555555555555555555555555555"
	gh.MergeBases = map[string]string{base + "..." + head: forked}
	c := newTestClient(t, gh, &fakeClock{now: t0})
	got, err := c.MergeBase(context.Background(), base, head)
	if err != nil || got != forked {
		t.Errorf("MergeBase = %q, %v; want %s", got, err, forked)
	}
	gh.Fail(githubtest.RouteCompare, githubtest.Failure{Status: http.StatusNotFound, Times: 1, Message: "No common ancestor between " + base + " and " + head + "."})
	_, err = c.MergeBase(context.Background(), base, head)
	if ae := apiError(t, err); ae.Status != http.StatusNotFound || !strings.Contains(err.Error(), "comparing "+base+"..."+head) {
		t.Errorf("a 404 from the compare API: %v", err)
	}
}

// TestIssueAndLabelEvents reads a pull request's description and labels,
// and who labelled it, from the issues API's shapes, every page of events.
func TestIssueAndLabelEvents(t *testing.T) {
	gh := githubtest.New(t)
	day := t0.Add(-24 * time.Hour)
	gh.Issues = map[int]githubtest.Issue{7: {Body: "gate: accept phases.decode.* — exact sampling", Labels: []string{"perf-accepted", "enhancement"}, User: "octodev"}}
	gh.Events = map[int][]githubtest.IssueEvent{7: {
		{Event: "labeled", Label: "perf-accepted", Actor: "mallory", Created: day},
		{Event: "head_ref_force_pushed", Actor: "octodev", Created: day.Add(time.Minute)},
		{Event: "unlabeled", Label: "perf-accepted", Actor: "bob", Created: day.Add(2 * time.Minute)},
		{Event: "labeled", Label: "perf-accepted", Actor: "alice", Created: day.Add(3 * time.Minute)},
		{Event: "labeled", Label: "enhancement", Actor: "octodev", Created: day.Add(4 * time.Minute)},
	}}
	c := newTestClient(t, gh, &fakeClock{now: t0})
	is, err := c.Issue(context.Background(), 7)
	if err != nil || is.Number != 7 || is.Body != "gate: accept phases.decode.* — exact sampling" || strings.Join(is.Labels, ",") != "perf-accepted,enhancement" {
		t.Errorf("Issue = %+v, %v", is, err)
	}
	evs, err := c.LabelEvents(context.Background(), 7)
	if err != nil {
		t.Fatal(err)
	}
	want := []action.LabelEvent{
		{Label: "perf-accepted", Actor: "mallory", Added: true, At: day},
		{Label: "perf-accepted", Actor: "bob", Added: false, At: day.Add(2 * time.Minute)},
		{Label: "perf-accepted", Actor: "alice", Added: true, At: day.Add(3 * time.Minute)},
		{Label: "enhancement", Actor: "octodev", Added: true, At: day.Add(4 * time.Minute)},
	}
	if len(evs) != len(want) {
		t.Fatalf("LabelEvents = %+v, want %+v", evs, want)
	}
	for i := range want {
		if evs[i].Label != want[i].Label || evs[i].Actor != want[i].Actor || evs[i].Added != want[i].Added || !evs[i].At.Equal(want[i].At) {
			t.Errorf("event %d = %+v, want %+v", i, evs[i], want[i])
		}
	}
	if n := gh.Count(githubtest.RouteIssueEvents); n != 3 {
		t.Errorf("%d pages of events read, want 3 (two a page)", n)
	}
	_, err = c.Issue(context.Background(), 8)
	if ae := apiError(t, err); ae.Status != http.StatusNotFound {
		t.Errorf("an issue that does not exist: %v", err)
	}
}
