package action

import (
	"context"
	"fmt"
	"net/http"
	"sync"
)

// FakeGitHub is an in-memory GitHub for tests of the logic above the REST
// calls: what a test puts in its fields is what the API lists, and every
// write is recorded in Calls. Set Forbid to answer writes with a 403, as
// GitHub does for a fork's read-only token. Package githubrest's tests
// cover the REST shapes themselves.
type FakeGitHub struct {
	mu sync.Mutex

	ArtifactList []Artifact
	Zips         map[int64][]byte         // artifact ID -> zip
	CommentsOn   map[int][]Comment        // issue number -> comments
	PRs          map[string][]PullRequest // commit -> pull requests
	// MergeBases answers MergeBase for "base...head"; absent, the merge
	// base is base (a pull request up to date with its base branch).
	MergeBases map[string]string
	Checks     []CheckRun
	Issues     map[int]Issue        // issue number -> description and labels
	Events     map[int][]LabelEvent // issue number -> label events, oldest first
	Forbid     bool
	Login      string   // the token's identity; default github-actions[bot]
	Calls      []string // "create #7", "edit 12", in order
	nextID     int64
}

var _ GitHub = (*FakeGitHub)(nil)

// NewFakeGitHub returns an empty fake.
func NewFakeGitHub() *FakeGitHub {
	return &FakeGitHub{Zips: map[int64][]byte{}, CommentsOn: map[int][]Comment{}, PRs: map[string][]PullRequest{}, nextID: 100}
}

// Artifacts implements GitHub.
func (m *FakeGitHub) Artifacts(_ context.Context, name string) ([]Artifact, error) {
	return m.artifacts(func(a Artifact) bool { return a.Name == name }), nil
}

// RunArtifacts implements GitHub.
func (m *FakeGitHub) RunArtifacts(_ context.Context, runID int64) ([]Artifact, error) {
	return m.artifacts(func(a Artifact) bool { return a.RunID == runID }), nil
}

// artifacts lists the artifacts that keep says to.
func (m *FakeGitHub) artifacts(keep func(Artifact) bool) []Artifact {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Artifact
	for _, a := range m.ArtifactList {
		if keep(a) {
			out = append(out, a)
		}
	}
	return out
}

// DownloadArtifact implements GitHub.
func (m *FakeGitHub) DownloadArtifact(_ context.Context, id int64, limit int64) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.Zips[id]
	if !ok {
		return nil, &APIError{Op: fmt.Sprintf("downloading artifact %d", id), Status: http.StatusNotFound, Err: fmt.Errorf("404 Not Found")}
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: zip larger than %d bytes", ErrUnsafeZip, limit)
	}
	return b, nil
}

// Comments implements GitHub.
func (m *FakeGitHub) Comments(_ context.Context, number int) ([]Comment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Comment(nil), m.CommentsOn[number]...), nil
}

// write records a write call and refuses it, as GitHub refuses a read-only
// token, when Forbid is set. The caller holds mu.
func (m *FakeGitHub) write(call, op string) error {
	m.Calls = append(m.Calls, call)
	if m.Forbid {
		return forbidden(op)
	}
	return nil
}

func forbidden(op string) error {
	return &APIError{Op: op, Status: http.StatusForbidden, Err: fmt.Errorf("403 Resource not accessible by integration")}
}

// CreateComment implements GitHub.
func (m *FakeGitHub) CreateComment(_ context.Context, number int, body string) (Comment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.write(fmt.Sprintf("create #%d", number), "creating comment"); err != nil {
		return Comment{}, err
	}
	m.nextID++
	c := Comment{ID: m.nextID, Body: body, URL: fmt.Sprintf("https://github.com/o/r/pull/%d#issuecomment-%d", number, m.nextID), User: m.login()}
	m.CommentsOn[number] = append(m.CommentsOn[number], c)
	return c, nil
}

// EditComment implements GitHub.
func (m *FakeGitHub) EditComment(_ context.Context, id int64, body string) (Comment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.write(fmt.Sprintf("edit %d", id), "editing comment"); err != nil {
		return Comment{}, err
	}
	for n := range m.CommentsOn {
		for i := range m.CommentsOn[n] {
			if m.CommentsOn[n][i].ID == id {
				m.CommentsOn[n][i].Body = body
				return m.CommentsOn[n][i], nil
			}
		}
	}
	return Comment{}, &APIError{Op: "editing comment", Status: http.StatusNotFound, Err: fmt.Errorf("404 Not Found")}
}

// PullRequestsForCommit implements GitHub.
func (m *FakeGitHub) PullRequestsForCommit(_ context.Context, sha string) ([]PullRequest, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.PRs[sha], nil
}

// MergeBase implements GitHub.
func (m *FakeGitHub) MergeBase(_ context.Context, base, head string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if mb, ok := m.MergeBases[base+"..."+head]; ok {
		return mb, nil
	}
	return base, nil
}

// CreateCheckRun implements GitHub.
func (m *FakeGitHub) CreateCheckRun(_ context.Context, run CheckRun) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Forbid {
		return forbidden("creating check run")
	}
	m.Checks = append(m.Checks, run)
	return nil
}

func (m *FakeGitHub) login() string {
	if m.Login == "" {
		return githubActionsBot
	}
	return m.Login
}

// Identity implements GitHub.
func (m *FakeGitHub) Identity(context.Context) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.login(), nil
}

// Issue implements GitHub.
func (m *FakeGitHub) Issue(_ context.Context, number int) (Issue, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	is, ok := m.Issues[number]
	if !ok {
		return Issue{}, &APIError{Op: fmt.Sprintf("reading #%d", number), Status: http.StatusNotFound, Err: fmt.Errorf("404 Not Found")}
	}
	is.Number = number
	return is, nil
}

// LabelEvents implements GitHub.
func (m *FakeGitHub) LabelEvents(_ context.Context, number int) ([]LabelEvent, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]LabelEvent(nil), m.Events[number]...), nil
}
