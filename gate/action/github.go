package action

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// GitHub is the part of GitHub's REST API the action uses, owned here so
// that tests can run the whole action against a fake (FakeGitHub) or an
// httptest server; package githubrest implements it with go-github.
// Implementations are bound to one repository and page through lists
// themselves: callers see complete results.
type GitHub interface {
	// Artifacts lists the repository's artifacts called name, newest first.
	Artifacts(ctx context.Context, name string) ([]Artifact, error)
	// RunArtifacts lists the artifacts of one workflow run.
	RunArtifacts(ctx context.Context, runID int64) ([]Artifact, error)
	// DownloadArtifact returns the zip of an artifact, at most limit bytes;
	// a larger one is an error wrapping ErrUnsafeZip.
	DownloadArtifact(ctx context.Context, id int64, limit int64) ([]byte, error)
	// Comments lists every comment of an issue or pull request, oldest first.
	Comments(ctx context.Context, number int) ([]Comment, error)
	// CreateComment posts a comment on an issue or pull request.
	CreateComment(ctx context.Context, number int, body string) (Comment, error)
	// EditComment replaces the body of a comment.
	EditComment(ctx context.Context, id int64, body string) (Comment, error)
	// PullRequestsForCommit lists the pull requests whose head includes sha.
	PullRequestsForCommit(ctx context.Context, sha string) ([]PullRequest, error)
	// CreateCheckRun records a completed check run.
	CreateCheckRun(ctx context.Context, run CheckRun) error
}

// Artifact is an Actions artifact and the run that made it.
type Artifact struct {
	ID        int64
	Name      string
	Size      int64
	Expired   bool
	CreatedAt time.Time
	// Of the workflow run that uploaded it.
	RunID      int64
	HeadBranch string
	HeadSHA    string
	// HeadRepoID differs from RepoID when the run was for a fork's branch.
	RepoID     int64
	HeadRepoID int64
}

// Comment is a comment on an issue or pull request.
type Comment struct {
	ID   int64
	Body string
	URL  string // html_url
	User string // login of the author
	Bot  bool   // the author is a bot (github-actions[bot] for GITHUB_TOKEN)
}

// PullRequest is what the comment mode needs to trust a pull request.
type PullRequest struct {
	Number   int
	State    string
	HeadSHA  string
	HeadRepo string // owner/name of the head repository
}

// CheckRun is a completed check run.
type CheckRun struct {
	Name       string
	HeadSHA    string
	Conclusion string // success, failure, neutral
	Title      string
	Summary    string // markdown, at most 65,535 characters
	DetailsURL string
}

// APIError is a GitHub API call that failed with an HTTP status.
type APIError struct {
	Op     string // what was attempted, e.g. "creating comment on #7"
	Status int
	Err    error
}

func (e *APIError) Error() string { return fmt.Sprintf("%s: %v", e.Op, e.Err) }
func (e *APIError) Unwrap() error { return e.Err }

// isForbidden reports whether err is GitHub refusing the token: a fork's
// read-only GITHUB_TOKEN, or a permission missing from the workflow's
// permissions block. Such failures degrade the action, never fail it.
func isForbidden(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusForbidden
}
