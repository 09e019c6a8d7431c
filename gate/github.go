package gate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
)

// githubAPI is the part of GitHub's REST API the action uses, owned here so
// that tests can run the whole action against a fake or an httptest server.
// Implementations are bound to one repository and page through lists
// themselves: callers see complete results.
type githubAPI interface {
	// Artifacts lists the repository's artifacts called name, newest first.
	Artifacts(ctx context.Context, name string) ([]artifact, error)
	// RunArtifacts lists the artifacts of one workflow run.
	RunArtifacts(ctx context.Context, runID int64) ([]artifact, error)
	// DownloadArtifact returns the zip of an artifact, at most limit bytes.
	DownloadArtifact(ctx context.Context, id int64, limit int64) ([]byte, error)
	// Comments lists every comment of an issue or pull request, oldest first.
	Comments(ctx context.Context, number int) ([]issueComment, error)
	CreateComment(ctx context.Context, number int, body string) (issueComment, error)
	EditComment(ctx context.Context, id int64, body string) (issueComment, error)
	// PullRequestsForCommit lists the pull requests whose head includes sha.
	PullRequestsForCommit(ctx context.Context, sha string) ([]pullRequest, error)
	CreateCheckRun(ctx context.Context, run checkRun) error
}

// artifact is an Actions artifact and the run that made it.
type artifact struct {
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

// issueComment is a comment on an issue or pull request.
type issueComment struct {
	ID   int64
	Body string
	URL  string // html_url
	User string // login of the author
	Bot  bool   // the author is a bot (github-actions[bot] for GITHUB_TOKEN)
}

// pullRequest is what the comment mode needs to trust a pull request.
type pullRequest struct {
	Number   int
	State    string
	HeadSHA  string
	HeadRepo string // owner/name of the head repository
}

// checkRun is a completed check run.
type checkRun struct {
	Name       string
	HeadSHA    string
	Conclusion string // success, failure, neutral
	Title      string
	Summary    string // markdown, at most 65,535 characters
	DetailsURL string
}

// apiError is a GitHub API call that failed with an HTTP status.
type apiError struct {
	Op     string // what was attempted, e.g. "creating comment on #7"
	Status int
	Err    error
}

func (e *apiError) Error() string { return fmt.Sprintf("%s: %v", e.Op, e.Err) }
func (e *apiError) Unwrap() error { return e.Err }

// isForbidden reports whether err is GitHub refusing the token: a fork's
// read-only GITHUB_TOKEN, or a permission missing from the workflow's
// permissions block. Such failures degrade the action, never fail it.
func isForbidden(err error) bool {
	var ae *apiError
	return errors.As(err, &ae) && ae.Status == http.StatusForbidden
}

// restAPI implements githubAPI with go-github v60.
type restAPI struct {
	client      *github.Client
	download    *http.Client // for signed artifact URLs: never carries the token
	owner, repo string
}

var _ githubAPI = (*restAPI)(nil)

// newRESTAPI returns a client for owner/repo at apiURL (GITHUB_API_URL; empty
// means api.github.com), authenticated with token. httpClient carries the
// transport and timeouts of both the API calls and the downloads.
func newRESTAPI(apiURL, token, owner, repo string, httpClient *http.Client) (*restAPI, error) {
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 60 * time.Second}
	}
	// NewClient copies the client it is given before WithAuthToken wraps its
	// transport, so httpClient itself stays token-free for downloads.
	client := github.NewClient(httpClient)
	if token != "" {
		client = client.WithAuthToken(token)
	}
	if apiURL != "" {
		// go-github v60 needs BaseURL to end in a slash; GITHUB_API_URL does
		// not (https://api.github.com, https://ghes.example/api/v3).
		u, err := url.Parse(strings.TrimSuffix(apiURL, "/") + "/")
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("GITHUB_API_URL: not a URL: %q", apiURL)
		}
		client.BaseURL = u
	}
	return &restAPI{client: client, download: httpClient, owner: owner, repo: repo}, nil
}

func wrapAPI(op string, resp *github.Response, err error) error {
	if err == nil {
		return nil
	}
	status := 0
	if resp != nil && resp.Response != nil {
		status = resp.StatusCode
	}
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		status = er.Response.StatusCode
	}
	return &apiError{Op: op, Status: status, Err: err}
}

// maxPages bounds every listing, so that a runaway pagination cannot spend
// the token's hourly request budget.
const maxPages = 50

func (a *restAPI) Artifacts(ctx context.Context, name string) ([]artifact, error) {
	// v60's ListArtifacts has no name filter (added in v67); the REST endpoint
	// takes one, so ask for it on the request and still filter the answer.
	var out []artifact
	for page := 1; page <= maxPages; page++ {
		q := url.Values{"name": {name}, "per_page": {"100"}, "page": {fmt.Sprint(page)}}
		u := fmt.Sprintf("repos/%s/%s/actions/artifacts?%s", a.owner, a.repo, q.Encode())
		req, err := a.client.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		var list github.ArtifactList
		resp, err := a.client.Do(ctx, req, &list)
		if err != nil {
			return nil, wrapAPI("listing artifacts", resp, err)
		}
		for _, ga := range list.Artifacts {
			if ga.GetName() == name {
				out = append(out, fromGitHubArtifact(ga))
			}
		}
		if resp.NextPage == 0 {
			break
		}
		page = resp.NextPage - 1
	}
	return out, nil
}

func (a *restAPI) RunArtifacts(ctx context.Context, runID int64) ([]artifact, error) {
	var out []artifact
	opts := &github.ListOptions{PerPage: 100}
	for i := 0; i < maxPages; i++ {
		list, resp, err := a.client.Actions.ListWorkflowRunArtifacts(ctx, a.owner, a.repo, runID, opts)
		if err != nil {
			return nil, wrapAPI(fmt.Sprintf("listing artifacts of run %d", runID), resp, err)
		}
		for _, ga := range list.Artifacts {
			out = append(out, fromGitHubArtifact(ga))
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return out, nil
}

func fromGitHubArtifact(ga *github.Artifact) artifact {
	a := artifact{
		ID:        ga.GetID(),
		Name:      ga.GetName(),
		Size:      ga.GetSizeInBytes(),
		Expired:   ga.GetExpired(),
		CreatedAt: ga.GetCreatedAt().Time,
	}
	if r := ga.WorkflowRun; r != nil {
		a.RunID = r.GetID()
		a.HeadBranch = r.GetHeadBranch()
		a.HeadSHA = r.GetHeadSHA()
		a.RepoID = r.GetRepositoryID()
		a.HeadRepoID = r.GetHeadRepositoryID()
	}
	return a
}

func (a *restAPI) DownloadArtifact(ctx context.Context, id int64, limit int64) ([]byte, error) {
	op := fmt.Sprintf("downloading artifact %d", id)
	// GitHub answers 302 with a signed URL valid for about a minute.
	u, resp, err := a.client.Actions.DownloadArtifact(ctx, a.owner, a.repo, id, 1)
	if err != nil {
		return nil, wrapAPI(op, resp, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	// Deliberately a plain request: the signed URL is its own credential and
	// the storage host must never see the token.
	r, err := a.download.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	defer r.Body.Close()
	if r.StatusCode != http.StatusOK {
		return nil, &apiError{Op: op, Status: r.StatusCode, Err: fmt.Errorf("signed URL answered %s", r.Status)}
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: %w: zip larger than %d bytes", op, errUnsafeZip, limit)
	}
	return b, nil
}

func (a *restAPI) Comments(ctx context.Context, number int) ([]issueComment, error) {
	var out []issueComment
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for i := 0; i < maxPages; i++ {
		cs, resp, err := a.client.Issues.ListComments(ctx, a.owner, a.repo, number, opts)
		if err != nil {
			return nil, wrapAPI(fmt.Sprintf("listing comments of #%d", number), resp, err)
		}
		for _, c := range cs {
			out = append(out, fromGitHubComment(c))
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return out, nil
}

func fromGitHubComment(c *github.IssueComment) issueComment {
	return issueComment{
		ID:   c.GetID(),
		Body: c.GetBody(),
		URL:  c.GetHTMLURL(),
		User: c.GetUser().GetLogin(),
		Bot:  c.GetUser().GetType() == "Bot",
	}
}

func (a *restAPI) CreateComment(ctx context.Context, number int, body string) (issueComment, error) {
	c, resp, err := a.client.Issues.CreateComment(ctx, a.owner, a.repo, number, &github.IssueComment{Body: github.String(body)})
	if err != nil {
		return issueComment{}, wrapAPI(fmt.Sprintf("creating comment on #%d", number), resp, err)
	}
	return fromGitHubComment(c), nil
}

func (a *restAPI) EditComment(ctx context.Context, id int64, body string) (issueComment, error) {
	c, resp, err := a.client.Issues.EditComment(ctx, a.owner, a.repo, id, &github.IssueComment{Body: github.String(body)})
	if err != nil {
		return issueComment{}, wrapAPI(fmt.Sprintf("editing comment %d", id), resp, err)
	}
	return fromGitHubComment(c), nil
}

func (a *restAPI) PullRequestsForCommit(ctx context.Context, sha string) ([]pullRequest, error) {
	var out []pullRequest
	opts := &github.ListOptions{PerPage: 100}
	for i := 0; i < maxPages; i++ {
		prs, resp, err := a.client.PullRequests.ListPullRequestsWithCommit(ctx, a.owner, a.repo, sha, opts)
		if err != nil {
			return nil, wrapAPI(fmt.Sprintf("listing pull requests for %s", sha), resp, err)
		}
		for _, p := range prs {
			out = append(out, pullRequest{
				Number:   p.GetNumber(),
				State:    p.GetState(),
				HeadSHA:  p.GetHead().GetSHA(),
				HeadRepo: p.GetHead().GetRepo().GetFullName(),
			})
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return out, nil
}

func (a *restAPI) CreateCheckRun(ctx context.Context, run checkRun) error {
	opts := github.CreateCheckRunOptions{
		Name:       run.Name,
		HeadSHA:    run.HeadSHA,
		Status:     github.String("completed"),
		Conclusion: github.String(run.Conclusion),
		Output: &github.CheckRunOutput{
			Title:   github.String(run.Title),
			Summary: github.String(run.Summary),
		},
	}
	if run.DetailsURL != "" {
		opts.DetailsURL = github.String(run.DetailsURL)
	}
	_, resp, err := a.client.Checks.CreateCheckRun(ctx, a.owner, a.repo, opts)
	return wrapAPI("creating check run", resp, err)
}
