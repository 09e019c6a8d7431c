// Package githubtest is a fake GitHub for tests: an httptest server that
// answers the REST endpoints gate uses (artifacts, their zips and signed
// blob URLs, issue comments, issues and their label events, pull requests
// by commit, check runs) and the
// GraphQL viewer query, with GitHub's JSON shapes, Link-header pagination
// and failure injection: a route can answer a given status a given number
// of times, with given headers (rate limits, Retry-After), or drop the
// connection.
package githubtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Repo and Token are what the server accepts: requests for another
// repository are unexpected, and every API call must carry Token.
const (
	Repo     = "nsys-gate/demo"
	Token    = "ghs_testtoken0123456789"
	BotLogin = "github-actions[bot]" // author of GITHUB_TOKEN comments
)

// Routes, the keys of Fail and Count.
const (
	RouteArtifacts     = "artifacts"      // GET  /repos/{repo}/actions/artifacts
	RouteRunArtifacts  = "run-artifacts"  // GET  /repos/{repo}/actions/runs/{id}/artifacts
	RouteZip           = "zip"            // GET  /repos/{repo}/actions/artifacts/{id}/zip
	RouteBlob          = "blob"           // GET  the signed URL the zip route redirects to
	RouteComments      = "comments"       // GET  /repos/{repo}/issues/{n}/comments
	RouteCreateComment = "create-comment" // POST /repos/{repo}/issues/{n}/comments
	RouteEditComment   = "edit-comment"   // PATCH /repos/{repo}/issues/comments/{id}
	RoutePulls         = "pulls"          // GET  /repos/{repo}/commits/{sha}/pulls
	RouteCompare       = "compare"        // GET  /repos/{repo}/compare/{base}...{head}
	RouteCheckRuns     = "check-runs"     // POST /repos/{repo}/check-runs
	RouteIssue         = "issue"          // GET  /repos/{repo}/issues/{n}
	RouteIssueEvents   = "issue-events"   // GET  /repos/{repo}/issues/{n}/events
	RouteGraphQL       = "graphql"        // POST /graphql
)

// Failure is an injected answer: Status (with Header and a GitHub error
// body) for the next Times requests of a route. Drop closes the connection
// without an answer instead.
type Failure struct {
	Status  int
	Times   int
	Header  map[string]string
	Message string // the error body's message; default the status text
	DocURL  string // the error body's documentation_url
	Drop    bool
}

// Artifact is one artifact and the run that made it. ZipStatus, when set,
// is what its zip route answers instead of the redirect (410 when GitHub
// has expired it since the listing).
type Artifact struct {
	ID         int64
	Name       string
	Expired    bool
	Created    time.Time
	RunID      int64
	HeadBranch string
	HeadSHA    string
	Zip        []byte
	ZipStatus  int
}

// Comment is an issue comment; Type is "User" or "Bot".
type Comment struct {
	ID   int64
	Body string
	User string
	Type string
}

// Issue is an issue or pull request's description and labels, as the
// issues API answers for it.
type Issue struct {
	Body   string
	Labels []string
	User   string // who opened it
}

// IssueEvent is one event of an issue's timeline: Event "labeled" or
// "unlabeled" (with Label), or any other GitHub event name.
type IssueEvent struct {
	Event   string
	Label   string
	Actor   string
	Created time.Time
}

// PR is a pull request, listed for its head commit.
type PR struct {
	Number   int
	SHA      string
	HeadRepo string
	State    string
	// BaseRef is the branch it goes into (default main), BaseSHA that
	// branch's commit.
	BaseRef, BaseSHA string
}

// Server is the fake. Set its fields before the code under test runs;
// read them with the accessors while it runs.
type Server struct {
	t   testing.TB
	URL string // the API root, GITHUB_API_URL
	srv *httptest.Server

	mu        sync.Mutex
	PageSize  int // items per page, whatever per_page asks (default 2)
	Artifacts []Artifact
	Comments  map[int][]Comment // by issue number
	PRs       []PR
	// MergeBases answers the compare API for "base...head" with its
	// merge_base_commit; absent, the merge base is base (a pull request up
	// to date with its base branch).
	MergeBases map[string]string
	CheckRuns  []map[string]any     // the bodies of created check runs
	Issues     map[int]Issue        // by number: what GET issues/{n} answers
	Events     map[int][]IssueEvent // by number, oldest first
	// Viewer is the token's identity as GraphQL's viewer answers it
	// (default github-actions, a Bot, as for GITHUB_TOKEN).
	Viewer     string
	ViewerType string
	// ForbidWrites answers 403 "Resource not accessible by integration" to
	// writes, as GitHub does for a fork's read-only token.
	ForbidWrites bool

	nextID   int64
	failures map[string][]Failure
	counts   map[string]int
	writes   []string // "METHOD path" of every write
}

// New starts a fake GitHub, closed when the test ends.
func New(t testing.TB) *Server {
	s := &Server{t: t, PageSize: 2, Comments: map[int][]Comment{}, nextID: 1000,
		Viewer: "github-actions", ViewerType: "Bot", failures: map[string][]Failure{}, counts: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// Client is an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Fail queues failures for route, answered in order before normal answers.
func (s *Server) Fail(route string, fs ...Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[route] = append(s.failures[route], fs...)
}

// Count is how many requests route has received, failed ones included.
func (s *Server) Count(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[route]
}

// Writes returns the write requests ("POST /repos/.../comments") seen so
// far and forgets them.
func (s *Server) Writes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.writes
	s.writes = nil
	return w
}

// IssueComments returns a copy of the comments on issue n.
func (s *Server) IssueComments(n int) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Comment(nil), s.Comments[n]...)
}

// Checks returns a copy of the created check runs.
func (s *Server) Checks() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]any(nil), s.CheckRuns...)
}

var (
	reArtifacts    = regexp.MustCompile(`^/repos/` + Repo + `/actions/artifacts$`)
	reRunArtifacts = regexp.MustCompile(`^/repos/` + Repo + `/actions/runs/(\d+)/artifacts$`)
	reArtifactZip  = regexp.MustCompile(`^/repos/` + Repo + `/actions/artifacts/(\d+)/zip$`)
	reBlob         = regexp.MustCompile(`^/blob/(\d+)$`)
	reComments     = regexp.MustCompile(`^/repos/` + Repo + `/issues/(\d+)/comments$`)
	reComment      = regexp.MustCompile(`^/repos/` + Repo + `/issues/comments/(\d+)$`)
	rePulls        = regexp.MustCompile(`^/repos/` + Repo + `/commits/([0-9a-f]+)/pulls$`)
	reCompare      = regexp.MustCompile(`^/repos/` + Repo + `/compare/([^/.]+)\.\.\.([^/.]+)$`)
	reCheckRuns    = regexp.MustCompile(`^/repos/` + Repo + `/check-runs$`)
	reIssue        = regexp.MustCompile(`^/repos/` + Repo + `/issues/(\d+)$`)
	reIssueEvents  = regexp.MustCompile(`^/repos/` + Repo + `/issues/(\d+)/events$`)
)

// route names the endpoint of r, "" for an unknown one.
func route(r *http.Request) string {
	p, get, post := r.URL.Path, r.Method == http.MethodGet, r.Method == http.MethodPost
	switch {
	case get && reBlob.MatchString(p):
		return RouteBlob
	case get && reArtifacts.MatchString(p):
		return RouteArtifacts
	case get && reRunArtifacts.MatchString(p):
		return RouteRunArtifacts
	case get && reArtifactZip.MatchString(p):
		return RouteZip
	case get && reComments.MatchString(p):
		return RouteComments
	case post && reComments.MatchString(p):
		return RouteCreateComment
	case r.Method == http.MethodPatch && reComment.MatchString(p):
		return RouteEditComment
	case get && rePulls.MatchString(p):
		return RoutePulls
	case get && reCompare.MatchString(p):
		return RouteCompare
	case post && reCheckRuns.MatchString(p):
		return RouteCheckRuns
	case get && reIssue.MatchString(p):
		return RouteIssue
	case get && reIssueEvents.MatchString(p):
		return RouteIssueEvents
	case post && p == "/graphql":
		return RouteGraphQL
	}
	return ""
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rt := route(r)
	s.counts[rt]++
	if rt != RouteBlob && r.Header.Get("Authorization") != "Bearer "+Token {
		s.t.Errorf("%s %s: Authorization %q", r.Method, r.URL.Path, r.Header.Get("Authorization"))
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "Bad credentials"})
		return
	}
	if r.Method != http.MethodGet && rt != RouteGraphQL {
		s.writes = append(s.writes, r.Method+" "+r.URL.Path)
	}
	if q := s.failures[rt]; len(q) > 0 {
		f := q[0]
		if f.Times--; f.Times <= 0 {
			s.failures[rt] = q[1:]
		} else {
			q[0] = f
		}
		s.fail(w, f)
		return
	}
	switch rt {
	case RouteBlob:
		s.blob(w, r)
	case RouteArtifacts:
		name := r.URL.Query().Get("name")
		if name == "" {
			s.t.Errorf("artifacts listed without a name filter")
		}
		var list []map[string]any
		for _, a := range s.Artifacts {
			if a.Name == name {
				list = append(list, s.artifactJSON(a))
			}
		}
		s.page(w, r, list, "artifacts")
	case RouteRunArtifacts:
		run, _ := strconv.ParseInt(reRunArtifacts.FindStringSubmatch(r.URL.Path)[1], 10, 64)
		var list []map[string]any
		for _, a := range s.Artifacts {
			if a.RunID == run {
				list = append(list, s.artifactJSON(a))
			}
		}
		s.page(w, r, list, "artifacts")
	case RouteZip:
		id, _ := strconv.ParseInt(reArtifactZip.FindStringSubmatch(r.URL.Path)[1], 10, 64)
		for _, a := range s.Artifacts {
			if a.ID == id && a.ZipStatus != 0 {
				s.fail(w, Failure{Status: a.ZipStatus})
				return
			}
		}
		w.Header().Set("Location", fmt.Sprintf("%s/blob/%d?sig=signed", s.URL, id))
		w.WriteHeader(http.StatusFound)
	case RouteComments:
		n, _ := strconv.Atoi(reComments.FindStringSubmatch(r.URL.Path)[1])
		var list []map[string]any
		for _, c := range s.Comments[n] {
			list = append(list, s.commentJSON(n, c))
		}
		s.page(w, r, list, "")
	case RouteCreateComment:
		if s.ForbidWrites {
			s.fail(w, Failure{Status: http.StatusForbidden, Message: "Resource not accessible by integration"})
			return
		}
		n, _ := strconv.Atoi(reComments.FindStringSubmatch(r.URL.Path)[1])
		s.nextID++
		c := Comment{ID: s.nextID, Body: readBody(s.t, r), User: s.viewerLogin(), Type: s.ViewerType}
		s.Comments[n] = append(s.Comments[n], c)
		writeJSON(w, http.StatusCreated, s.commentJSON(n, c))
	case RouteEditComment:
		s.editComment(w, r)
	case RoutePulls:
		s.pulls(w, r)
	case RouteCompare:
		s.compare(w, r)
	case RouteCheckRuns:
		if s.ForbidWrites {
			s.fail(w, Failure{Status: http.StatusForbidden, Message: "Resource not accessible by integration"})
			return
		}
		var run map[string]any
		json.Unmarshal([]byte(readBody(s.t, r)), &run)
		s.CheckRuns = append(s.CheckRuns, run)
		writeJSON(w, http.StatusCreated, map[string]any{"id": 1, "name": run["name"], "head_sha": run["head_sha"], "status": "completed", "conclusion": run["conclusion"]})
	case RouteGraphQL:
		s.graphql(w, r)
	case RouteIssue:
		s.issue(w, r)
	case RouteIssueEvents:
		s.issueEvents(w, r)
	default:
		s.t.Errorf("unexpected request %s %s", r.Method, r.URL)
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
	}
}

// viewerLogin is the login GitHub shows as the author of the token's
// comments: a Bot's gets "[bot]".
func (s *Server) viewerLogin() string {
	if s.ViewerType == "Bot" {
		return s.Viewer + "[bot]"
	}
	return s.Viewer
}

// fail writes an injected failure as GitHub writes its errors.
func (s *Server) fail(w http.ResponseWriter, f Failure) {
	if f.Drop {
		hj, ok := w.(http.Hijacker)
		if !ok {
			s.t.Errorf("cannot drop the connection")
			return
		}
		conn, _, err := hj.Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	for k, v := range f.Header {
		w.Header().Set(k, v)
	}
	msg := f.Message
	if msg == "" {
		msg = http.StatusText(f.Status)
	}
	body := map[string]any{"message": msg, "status": strconv.Itoa(f.Status)}
	if f.DocURL != "" {
		body["documentation_url"] = f.DocURL
	}
	writeJSON(w, f.Status, body)
}

// The signed blob URL is another host in real life: it must never see the
// token.
func (s *Server) blob(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "" {
		s.t.Errorf("artifact blob fetched with an Authorization header")
		http.Error(w, "<Error><Code>InvalidAuthenticationInfo</Code></Error>", http.StatusBadRequest)
		return
	}
	id, _ := strconv.ParseInt(reBlob.FindStringSubmatch(r.URL.Path)[1], 10, 64)
	for _, a := range s.Artifacts {
		if a.ID == id && r.URL.Query().Get("sig") == "signed" {
			w.Header().Set("Content-Type", "application/zip")
			w.Write(a.Zip)
			return
		}
	}
	http.NotFound(w, r)
}

func (s *Server) editComment(w http.ResponseWriter, r *http.Request) {
	if s.ForbidWrites {
		s.fail(w, Failure{Status: http.StatusForbidden, Message: "Resource not accessible by integration"})
		return
	}
	id, _ := strconv.ParseInt(reComment.FindStringSubmatch(r.URL.Path)[1], 10, 64)
	body := readBody(s.t, r)
	for n, cs := range s.Comments {
		for i := range cs {
			if cs[i].ID != id {
				continue
			}
			if cs[i].User != s.viewerLogin() {
				s.t.Errorf("edit of comment %d by %s, written by %s", id, s.viewerLogin(), cs[i].User)
			}
			cs[i].Body = body
			writeJSON(w, http.StatusOK, s.commentJSON(n, cs[i]))
			return
		}
	}
	writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
}

func (s *Server) pulls(w http.ResponseWriter, r *http.Request) {
	sha := rePulls.FindStringSubmatch(r.URL.Path)[1]
	var list []map[string]any
	for _, pr := range s.PRs {
		if pr.SHA == sha {
			if pr.BaseRef == "" {
				pr.BaseRef = "main"
			}
			list = append(list, map[string]any{
				"number": pr.Number, "state": pr.State,
				"html_url": fmt.Sprintf("https://github.com/%s/pull/%d", Repo, pr.Number),
				"head":     map[string]any{"sha": pr.SHA, "ref": "feature", "repo": map[string]any{"full_name": pr.HeadRepo}},
				"base":     map[string]any{"ref": pr.BaseRef, "sha": pr.BaseSHA, "repo": map[string]any{"full_name": Repo}},
			})
		}
	}
	s.page(w, r, list, "")
}

// issue answers GET issues/{n} with GitHub's shape: a pull request is an
// issue with a pull_request object.
func (s *Server) issue(w http.ResponseWriter, r *http.Request) {
	n, _ := strconv.Atoi(reIssue.FindStringSubmatch(r.URL.Path)[1])
	is, ok := s.Issues[n]
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
		return
	}
	labels := []map[string]any{}
	for i, l := range is.Labels {
		labels = append(labels, map[string]any{"id": 7000 + i, "name": l, "color": "ededed", "default": false,
			"url": fmt.Sprintf("%s/repos/%s/labels/%s", s.URL, Repo, l)})
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": 3000000 + n, "number": n, "state": "open", "title": "a pull request", "body": is.Body,
		"user":     map[string]any{"login": is.User, "type": "User"},
		"labels":   labels,
		"html_url": fmt.Sprintf("https://github.com/%s/pull/%d", Repo, n),
		"pull_request": map[string]any{"url": fmt.Sprintf("%s/repos/%s/pulls/%d", s.URL, Repo, n),
			"html_url": fmt.Sprintf("https://github.com/%s/pull/%d", Repo, n)},
	})
}

// issueEvents answers GET issues/{n}/events, paged, with GitHub's shape.
func (s *Server) issueEvents(w http.ResponseWriter, r *http.Request) {
	n, _ := strconv.Atoi(reIssueEvents.FindStringSubmatch(r.URL.Path)[1])
	var list []map[string]any
	for i, ev := range s.Events[n] {
		e := map[string]any{
			"id": 9000000 + i, "node_id": fmt.Sprintf("LE_%d", i), "event": ev.Event,
			"actor":      map[string]any{"login": ev.Actor, "type": "User"},
			"created_at": ev.Created.Format(time.RFC3339),
			"url":        fmt.Sprintf("%s/repos/%s/issues/events/%d", s.URL, Repo, 9000000+i),
		}
		if ev.Label != "" {
			e["label"] = map[string]any{"name": ev.Label, "color": "ededed"}
		}
		list = append(list, e)
	}
	s.page(w, r, list, "")
}

// compare answers the compare API with GitHub's shape, less the commit and
// file lists that gate does not read.
func (s *Server) compare(w http.ResponseWriter, r *http.Request) {
	m := reCompare.FindStringSubmatch(r.URL.Path)
	base, head := m[1], m[2]
	mb, ok := s.MergeBases[base+"..."+head]
	if !ok {
		mb = base
	}
	commit := func(sha string) map[string]any {
		return map[string]any{"sha": sha, "url": fmt.Sprintf("%s/repos/%s/commits/%s", s.URL, Repo, sha),
			"commit": map[string]any{"message": "a commit"}}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"url":               fmt.Sprintf("%s/repos/%s/compare/%s...%s", s.URL, Repo, base, head),
		"html_url":          fmt.Sprintf("https://github.com/%s/compare/%s...%s", Repo, base, head),
		"base_commit":       commit(base),
		"merge_base_commit": commit(mb),
		"status":            "diverged",
		"ahead_by":          1,
		"behind_by":         1,
		"total_commits":     1,
		"commits":           []any{},
		"files":             []any{},
	})
}

// graphql answers the viewer query, the only one gate asks.
func (s *Server) graphql(w http.ResponseWriter, r *http.Request) {
	var q struct {
		Query string `json:"query"`
	}
	json.NewDecoder(r.Body).Decode(&q)
	if !strings.Contains(q.Query, "viewer") {
		s.t.Errorf("unexpected GraphQL query %q", q.Query)
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"viewer": map[string]any{"login": s.Viewer, "__typename": s.ViewerType}}})
}

// page writes one page of list with GitHub's Link header. key wraps the page
// in an object ({"total_count": n, key: [...]}), as the artifacts API does.
func (s *Server) page(w http.ResponseWriter, r *http.Request, list []map[string]any, key string) {
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	if page < 1 {
		page = 1
	}
	size := s.PageSize
	if pp, _ := strconv.Atoi(r.URL.Query().Get("per_page")); pp > 0 && pp < size {
		size = pp
	}
	last := (len(list) + size - 1) / size
	lo, hi := min((page-1)*size, len(list)), min(page*size, len(list))
	if last > page {
		link := func(n int, rel string) string {
			u := *r.URL
			q := u.Query()
			q.Set("page", strconv.Itoa(n))
			u.RawQuery = q.Encode()
			return fmt.Sprintf("<%s%s>; rel=%q", s.URL, u.RequestURI(), rel)
		}
		w.Header().Set("Link", link(page+1, "next")+", "+link(last, "last"))
	}
	items := list[lo:hi]
	if items == nil {
		items = []map[string]any{}
	}
	if key == "" {
		writeJSON(w, http.StatusOK, items)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"total_count": len(list), key: items})
}

func (s *Server) artifactJSON(a Artifact) map[string]any {
	return map[string]any{
		"id": a.ID, "node_id": fmt.Sprintf("MDg6QXJ0aWZhY3Q%d", a.ID), "name": a.Name,
		"size_in_bytes":        len(a.Zip),
		"url":                  fmt.Sprintf("%s/repos/%s/actions/artifacts/%d", s.URL, Repo, a.ID),
		"archive_download_url": fmt.Sprintf("%s/repos/%s/actions/artifacts/%d/zip", s.URL, Repo, a.ID),
		"expired":              a.Expired,
		"created_at":           a.Created.Format(time.RFC3339),
		"expires_at":           a.Created.Add(90 * 24 * time.Hour).Format(time.RFC3339),
		"updated_at":           a.Created.Format(time.RFC3339),
		"workflow_run": map[string]any{
			"id": a.RunID, "repository_id": 820000001, "head_repository_id": 820000001,
			"head_branch": a.HeadBranch, "head_sha": a.HeadSHA,
		},
	}
}

func (s *Server) commentJSON(n int, c Comment) map[string]any {
	return map[string]any{
		"id": c.ID, "node_id": fmt.Sprintf("IC_kwDO%d", c.ID), "body": c.Body,
		"html_url":           fmt.Sprintf("https://github.com/%s/pull/%d#issuecomment-%d", Repo, n, c.ID),
		"issue_url":          fmt.Sprintf("%s/repos/%s/issues/%d", s.URL, Repo, n),
		"user":               map[string]any{"login": c.User, "id": 41898282, "type": c.Type},
		"author_association": "NONE",
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func readBody(t testing.TB, r *http.Request) string {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Error(err)
	}
	var v struct {
		Body string `json:"body"`
	}
	if json.Unmarshal(b, &v) == nil && v.Body != "" {
		return v.Body
	}
	return string(b)
}
