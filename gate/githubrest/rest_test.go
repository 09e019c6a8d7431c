package githubrest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

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
	var ae *action.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusNotFound || !strings.Contains(err.Error(), "comparing "+base+"..."+head) {
		t.Errorf("a 404 from the compare API: %v", err)
	}
}
