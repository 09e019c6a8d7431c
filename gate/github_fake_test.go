package gate

import (
	"context"
	"fmt"
	"net/http"
)

// memGitHub is an in-memory githubAPI for tests of the logic above the REST
// calls; the end-to-end tests use fakeGitHub, which speaks HTTP.
type memGitHub struct {
	artifacts []artifact
	zips      map[int64][]byte
	comments  map[int][]issueComment
	prs       map[string][]pullRequest
	checks    []checkRun
	forbid    bool // writes answer 403
	nextID    int64
	calls     []string
}

var _ githubAPI = (*memGitHub)(nil)

func newMemGitHub() *memGitHub {
	return &memGitHub{zips: map[int64][]byte{}, comments: map[int][]issueComment{}, prs: map[string][]pullRequest{}, nextID: 100}
}

func (m *memGitHub) Artifacts(_ context.Context, name string) ([]artifact, error) {
	var out []artifact
	for _, a := range m.artifacts {
		if a.Name == name {
			out = append(out, a)
		}
	}
	return out, nil
}

func (m *memGitHub) RunArtifacts(_ context.Context, runID int64) ([]artifact, error) {
	var out []artifact
	for _, a := range m.artifacts {
		if a.RunID == runID {
			out = append(out, a)
		}
	}
	return out, nil
}

func (m *memGitHub) DownloadArtifact(_ context.Context, id int64, limit int64) ([]byte, error) {
	b, ok := m.zips[id]
	if !ok {
		return nil, &apiError{Op: fmt.Sprintf("downloading artifact %d", id), Status: http.StatusNotFound, Err: fmt.Errorf("404 Not Found")}
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: zip larger than %d bytes", errUnsafeZip, limit)
	}
	return b, nil
}

func (m *memGitHub) Comments(_ context.Context, number int) ([]issueComment, error) {
	return append([]issueComment(nil), m.comments[number]...), nil
}

func (m *memGitHub) forbidden(op string) error {
	return &apiError{Op: op, Status: http.StatusForbidden, Err: fmt.Errorf("403 Resource not accessible by integration")}
}

func (m *memGitHub) CreateComment(_ context.Context, number int, body string) (issueComment, error) {
	m.calls = append(m.calls, fmt.Sprintf("create #%d", number))
	if m.forbid {
		return issueComment{}, m.forbidden("creating comment")
	}
	m.nextID++
	c := issueComment{ID: m.nextID, Body: body, URL: fmt.Sprintf("https://github.com/o/r/pull/%d#issuecomment-%d", number, m.nextID), User: botLogin, Bot: true}
	m.comments[number] = append(m.comments[number], c)
	return c, nil
}

func (m *memGitHub) EditComment(_ context.Context, id int64, body string) (issueComment, error) {
	m.calls = append(m.calls, fmt.Sprintf("edit %d", id))
	if m.forbid {
		return issueComment{}, m.forbidden("editing comment")
	}
	for n := range m.comments {
		for i := range m.comments[n] {
			if m.comments[n][i].ID == id {
				m.comments[n][i].Body = body
				return m.comments[n][i], nil
			}
		}
	}
	return issueComment{}, &apiError{Op: "editing comment", Status: http.StatusNotFound, Err: fmt.Errorf("404 Not Found")}
}

func (m *memGitHub) PullRequestsForCommit(_ context.Context, sha string) ([]pullRequest, error) {
	return m.prs[sha], nil
}

func (m *memGitHub) CreateCheckRun(_ context.Context, run checkRun) error {
	if m.forbid {
		return m.forbidden("creating check run")
	}
	m.checks = append(m.checks, run)
	return nil
}
