// Package githubrest is gate's GitHub REST client: go-github v60 behind the
// action's GitHub interface, bound to one repository. It pages through
// lists, honours GITHUB_API_URL (Enterprise Server included), keeps the
// token off signed artifact URLs and reports HTTP failures as
// *action.APIError so that the action can tell a refused token from a
// broken call. Start at New.
package githubrest

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

	"github.com/nsys-gate/gate/gate/action"
)

// Client implements action.GitHub with go-github v60.
type Client struct {
	client      *github.Client
	download    *http.Client // for signed artifact URLs: never carries the token
	owner, repo string
}

var _ action.GitHub = (*Client)(nil)

// New returns a client for owner/repo at apiURL (GITHUB_API_URL; empty
// means api.github.com), authenticated with token. httpClient carries the
// transport and timeouts of both the API calls and the downloads; nil means
// one with a 60 s timeout.
func New(apiURL, token, owner, repo string, httpClient *http.Client) (*Client, error) {
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
	return &Client{client: client, download: httpClient, owner: owner, repo: repo}, nil
}

// wrapAPI records the HTTP status of a failed call, so that the action can
// tell a 403 from other failures.
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
	return &action.APIError{Op: op, Status: status, Err: err}
}

// maxPages bounds every listing, so that a runaway pagination cannot spend
// the token's hourly request budget.
const maxPages = 50

func (a *Client) Artifacts(ctx context.Context, name string) ([]action.Artifact, error) {
	// v60's ListArtifacts has no name filter (added in v67); the REST endpoint
	// takes one, so ask for it on the request and still filter the answer.
	var out []action.Artifact
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

func (a *Client) RunArtifacts(ctx context.Context, runID int64) ([]action.Artifact, error) {
	var out []action.Artifact
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

func fromGitHubArtifact(ga *github.Artifact) action.Artifact {
	a := action.Artifact{
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

func (a *Client) DownloadArtifact(ctx context.Context, id int64, limit int64) ([]byte, error) {
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
		return nil, &action.APIError{Op: op, Status: r.StatusCode, Err: fmt.Errorf("signed URL answered %s", r.Status)}
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: %w: zip larger than %d bytes", op, action.ErrUnsafeZip, limit)
	}
	return b, nil
}

func (a *Client) Comments(ctx context.Context, number int) ([]action.Comment, error) {
	var out []action.Comment
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

func fromGitHubComment(c *github.IssueComment) action.Comment {
	return action.Comment{
		ID:   c.GetID(),
		Body: c.GetBody(),
		URL:  c.GetHTMLURL(),
		User: c.GetUser().GetLogin(),
		Bot:  c.GetUser().GetType() == "Bot",
	}
}

func (a *Client) CreateComment(ctx context.Context, number int, body string) (action.Comment, error) {
	c, resp, err := a.client.Issues.CreateComment(ctx, a.owner, a.repo, number, &github.IssueComment{Body: github.String(body)})
	if err != nil {
		return action.Comment{}, wrapAPI(fmt.Sprintf("creating comment on #%d", number), resp, err)
	}
	return fromGitHubComment(c), nil
}

func (a *Client) EditComment(ctx context.Context, id int64, body string) (action.Comment, error) {
	c, resp, err := a.client.Issues.EditComment(ctx, a.owner, a.repo, id, &github.IssueComment{Body: github.String(body)})
	if err != nil {
		return action.Comment{}, wrapAPI(fmt.Sprintf("editing comment %d", id), resp, err)
	}
	return fromGitHubComment(c), nil
}

func (a *Client) PullRequestsForCommit(ctx context.Context, sha string) ([]action.PullRequest, error) {
	var out []action.PullRequest
	opts := &github.ListOptions{PerPage: 100}
	for i := 0; i < maxPages; i++ {
		prs, resp, err := a.client.PullRequests.ListPullRequestsWithCommit(ctx, a.owner, a.repo, sha, opts)
		if err != nil {
			return nil, wrapAPI(fmt.Sprintf("listing pull requests for %s", sha), resp, err)
		}
		for _, p := range prs {
			out = append(out, action.PullRequest{
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

func (a *Client) CreateCheckRun(ctx context.Context, run action.CheckRun) error {
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
