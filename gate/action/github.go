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
	// MergeBase is the commit that head forked from base (the compare API's
	// merge_base_commit): where a pull request's baseline is best taken.
	MergeBase(ctx context.Context, base, head string) (string, error)
	// CreateCheckRun records a completed check run.
	CreateCheckRun(ctx context.Context, run CheckRun) error
	// Identity is the login that comments made with the token are written
	// by (github-actions[bot] for a GITHUB_TOKEN).
	Identity(ctx context.Context) (string, error)
	// Issue returns an issue or pull request as it is now: its description
	// and labels (what a re-run reads afresh, unlike the event payload).
	Issue(ctx context.Context, number int) (Issue, error)
	// LabelEvents lists the labels added to and removed from an issue or
	// pull request, oldest first, with who did it.
	LabelEvents(ctx context.Context, number int) ([]LabelEvent, error)
}

// Endpoint is where and as whom the GitHub client talks: the runner's
// GITHUB_API_URL and GITHUB_GRAPHQL_URL (empty: github.com's), the token,
// and the repository it is bound to.
type Endpoint struct {
	APIURL, GraphQLURL string
	Token              string
	Owner, Repo        string
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
	User string // login of the author (github-actions[bot] for GITHUB_TOKEN)
}

// PullRequest is what the comment mode needs to trust a pull request.
type PullRequest struct {
	Number   int
	State    string
	HeadSHA  string
	HeadRepo string // owner/name of the head repository
	// The branch it goes into and that branch's commit it was last
	// compared with: where its baseline comes from.
	BaseRef, BaseSHA string
}

// Issue is an issue or pull request's description and labels.
type Issue struct {
	Number int
	Body   string
	Labels []string
}

// LabelEvent is a label added to (Added) or removed from an issue or pull
// request by Actor.
type LabelEvent struct {
	Label string
	Actor string
	Added bool
	At    time.Time
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

// APIError is a GitHub API call that failed: with an HTTP status (0 when
// no answer came), after Tries tries, perhaps under a rate limit.
type APIError struct {
	Op          string // what was attempted, e.g. "creating comment on #7"
	Status      int
	Tries       int
	RateLimited bool      // GitHub refused for the rate, not the permission
	Until       time.Time // when the rate limit resets, if known
	Err         error
}

func (e *APIError) Error() string { return fmt.Sprintf("%s: %v", e.Op, e.Err) }
func (e *APIError) Unwrap() error { return e.Err }

// Short says in a few words how the call failed: "502 after 4 tries",
// "rate limited until 14:05:00 UTC", "no answer after 4 tries".
func (e *APIError) Short() string {
	s := "no answer"
	if e.Status != 0 {
		s = fmt.Sprint(e.Status)
	}
	if e.RateLimited {
		s = "rate limited"
		if !e.Until.IsZero() {
			s += " until " + e.Until.UTC().Format("15:04:05 UTC")
		}
	}
	switch {
	case e.Tries > 1:
		s += fmt.Sprintf(" after %d tries", e.Tries)
	case e.Tries == 1 && !e.RateLimited:
		s += " after 1 try"
	}
	return s
}

// isForbidden reports whether err is GitHub refusing the token: a fork's
// read-only GITHUB_TOKEN, or a permission missing from the workflow's
// permissions block. Such failures degrade the action, never fail it. A
// rate limit is not one: it also answers 403.
func isForbidden(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusForbidden && !ae.RateLimited
}

// isGone reports whether err is an artifact that is no longer there (404,
// or 410 once GitHub has expired it), so that an older one may serve.
func isGone(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && (ae.Status == http.StatusNotFound || ae.Status == http.StatusGone)
}

// TruncatedError is a listing that stopped at its page cap: the items read
// so far are returned with it, and the caller warns.
type TruncatedError struct {
	Op    string
	Pages int
}

func (e *TruncatedError) Error() string {
	return fmt.Sprintf("%s: stopped after %d pages; later items were not read", e.Op, e.Pages)
}
