// Package githubrest is gate's GitHub REST client: go-github v60 behind the
// action's GitHub interface, bound to one repository. It pages through
// lists, honours GITHUB_API_URL (Enterprise Server included), retries
// transient failures and waits out short rate limits (retry.go), keeps the
// token off signed artifact URLs and reports HTTP failures as
// *action.APIError so that the action can tell a refused token from a
// rate limit and from a broken call. Start at New.
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
	graphqlURL  string
	owner, repo string
}

var _ action.GitHub = (*Client)(nil)

// Options are the optional parts of a client.
type Options struct {
	// Transport carries every try; nil means http.DefaultTransport.
	Transport http.RoundTripper
	// Timeout bounds one try of one request (default 60 s); retries and
	// their waits come on top, within Retry's budget.
	Timeout time.Duration
	Retry   Retry
}

// New returns a client for the endpoint's repository at its API URL
// (GITHUB_API_URL; empty means api.github.com), authenticated with its
// token, retrying as opts.Retry says.
func New(ep action.Endpoint, opts Options) (*Client, error) {
	base := opts.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	httpClient := &http.Client{Transport: newRetrier(opts.Retry).transport(base, timeout)}
	// NewClient copies the client it is given before WithAuthToken wraps its
	// transport, so httpClient itself stays token-free for downloads.
	client := github.NewClient(httpClient)
	if ep.Token != "" {
		client = client.WithAuthToken(ep.Token)
	}
	if ep.APIURL != "" {
		// go-github v60 needs BaseURL to end in a slash; GITHUB_API_URL does
		// not (https://api.github.com, https://ghes.example/api/v3).
		u, err := url.Parse(strings.TrimSuffix(ep.APIURL, "/") + "/")
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("GITHUB_API_URL: not a URL: %q", ep.APIURL)
		}
		client.BaseURL = u
	}
	gql := ep.GraphQLURL
	if gql == "" {
		gql = graphqlURL(client.BaseURL)
	}
	return &Client{client: client, download: httpClient, graphqlURL: gql, owner: ep.Owner, repo: ep.Repo}, nil
}

// graphqlURL derives the GraphQL endpoint from the REST root when the runner
// did not name it (GITHUB_GRAPHQL_URL): api.github.com/graphql, or
// host/api/graphql on Enterprise Server (whose REST root is host/api/v3).
func graphqlURL(api *url.URL) string {
	u := *api
	p := strings.TrimSuffix(u.Path, "/")
	if strings.HasSuffix(p, "/v3") {
		u.Path = strings.TrimSuffix(p, "/v3") + "/graphql"
	} else {
		u.Path = p + "/graphql"
	}
	return u.String()
}

// wrapAPI records the HTTP status, the number of tries and any rate limit
// of a failed call, so that the action can tell a refused token from a
// rate limit and from a broken call.
func wrapAPI(op string, resp *github.Response, err error) error {
	if err == nil {
		return nil
	}
	e := &action.APIError{Op: op, Err: err, Tries: 1}
	if resp != nil && resp.Response != nil {
		e.Status = resp.StatusCode
	}
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		e.Status = er.Response.StatusCode
	}
	var ex *Exhausted
	if errors.As(err, &ex) {
		e.Status, e.Tries, e.Until = ex.Status, ex.Tries, ex.Until
		e.RateLimited = !ex.Until.IsZero()
	}
	var rl *github.RateLimitError
	var abuse *github.AbuseRateLimitError
	switch {
	case e.RateLimited:
		// The transport measured the reset against its clock.
	case errors.As(err, &rl):
		e.RateLimited, e.Until = true, rl.Rate.Reset.Time
	case errors.As(err, &abuse):
		e.RateLimited = true
		if abuse.RetryAfter != nil {
			e.Until = time.Now().Add(*abuse.RetryAfter)
		}
	}
	return e
}

// maxPages bounds every listing, so that a runaway pagination cannot spend
// the token's hourly request budget.
const maxPages = 50

// pages calls list for page 1, 2, ... until the last page; when maxPages
// stop it first, the items read so far stand and the error is an
// *action.TruncatedError saying so.
func pages(op string, list func(page int) (*github.Response, error)) error {
	page := 1
	for i := 0; i < maxPages; i++ {
		resp, err := list(page)
		if err != nil {
			return wrapAPI(op, resp, err)
		}
		if resp.NextPage == 0 {
			return nil
		}
		page = resp.NextPage
	}
	return &action.TruncatedError{Op: op, Pages: maxPages}
}

func (a *Client) Artifacts(ctx context.Context, name string) ([]action.Artifact, error) {
	// v60's ListArtifacts has no name filter (added in v67); the REST endpoint
	// takes one, so ask for it on the request and still filter the answer.
	var out []action.Artifact
	err := pages("listing artifacts", func(page int) (*github.Response, error) {
		q := url.Values{"name": {name}, "per_page": {"100"}, "page": {fmt.Sprint(page)}}
		req, err := a.client.NewRequest(http.MethodGet, fmt.Sprintf("repos/%s/%s/actions/artifacts?%s", a.owner, a.repo, q.Encode()), nil)
		if err != nil {
			return nil, err
		}
		var list github.ArtifactList
		resp, err := a.client.Do(ctx, req, &list)
		for _, ga := range list.Artifacts {
			if ga.GetName() == name {
				out = append(out, fromGitHubArtifact(ga))
			}
		}
		return resp, err
	})
	return out, err
}

func (a *Client) RunArtifacts(ctx context.Context, runID int64) ([]action.Artifact, error) {
	var out []action.Artifact
	err := pages(fmt.Sprintf("listing artifacts of run %d", runID), func(page int) (*github.Response, error) {
		list, resp, err := a.client.Actions.ListWorkflowRunArtifacts(ctx, a.owner, a.repo, runID, &github.ListOptions{PerPage: 100, Page: page})
		if list != nil {
			for _, ga := range list.Artifacts {
				out = append(out, fromGitHubArtifact(ga))
			}
		}
		return resp, err
	})
	return out, err
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
		// An unexpected status (410 for an artifact expired since it was
		// listed) comes with resp, which carries it.
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
		return nil, wrapAPI(op, nil, err)
	}
	defer r.Body.Close()
	if r.StatusCode != http.StatusOK {
		return nil, &action.APIError{Op: op, Status: r.StatusCode, Tries: 1, Err: fmt.Errorf("signed URL answered %s", r.Status)}
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
	err := pages(fmt.Sprintf("listing comments of #%d", number), func(page int) (*github.Response, error) {
		opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100, Page: page}}
		cs, resp, err := a.client.Issues.ListComments(ctx, a.owner, a.repo, number, opts)
		for _, c := range cs {
			out = append(out, fromGitHubComment(c))
		}
		return resp, err
	})
	return out, err
}

func fromGitHubComment(c *github.IssueComment) action.Comment {
	return action.Comment{
		ID:   c.GetID(),
		Body: c.GetBody(),
		URL:  c.GetHTMLURL(),
		User: c.GetUser().GetLogin(),
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
	err := pages(fmt.Sprintf("listing pull requests for %s", sha), func(page int) (*github.Response, error) {
		prs, resp, err := a.client.PullRequests.ListPullRequestsWithCommit(ctx, a.owner, a.repo, sha, &github.ListOptions{PerPage: 100, Page: page})
		for _, p := range prs {
			out = append(out, action.PullRequest{
				Number:   p.GetNumber(),
				State:    p.GetState(),
				HeadSHA:  p.GetHead().GetSHA(),
				HeadRepo: p.GetHead().GetRepo().GetFullName(),
				BaseRef:  p.GetBase().GetRef(),
				BaseSHA:  p.GetBase().GetSHA(),
			})
		}
		return resp, err
	})
	return out, err
}

// MergeBase asks the compare API (GET /repos/{o}/{r}/compare/{base}...{head})
// for merge_base_commit. One commit per page: only the merge base is read,
// not the list of commits between.
func (a *Client) MergeBase(ctx context.Context, base, head string) (string, error) {
	op := fmt.Sprintf("comparing %s...%s", base, head)
	cmp, resp, err := a.client.Repositories.CompareCommits(ctx, a.owner, a.repo, base, head, &github.ListOptions{PerPage: 1})
	if err != nil {
		return "", wrapAPI(op, resp, err)
	}
	sha := cmp.GetMergeBaseCommit().GetSHA()
	if sha == "" {
		return "", fmt.Errorf("%s: no merge_base_commit in the answer", op)
	}
	return sha, nil
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

// Identity is the login that the token's comments are written by, from
// GraphQL's viewer: github-actions[bot] for a GITHUB_TOKEN, the app's bot
// for an installation token, the user for a personal token. REST has no
// such call that works for all three (GET /user refuses installation
// tokens).
func (a *Client) Identity(ctx context.Context) (string, error) {
	const op = "asking GraphQL who the token is"
	req, err := a.client.NewRequest(http.MethodPost, a.graphqlURL, map[string]string{"query": "query { viewer { login __typename } }"})
	if err != nil {
		return "", fmt.Errorf("%s: %w", op, err)
	}
	var out struct {
		Data struct {
			Viewer struct {
				Login    string `json:"login"`
				TypeName string `json:"__typename"`
			} `json:"viewer"`
		} `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	resp, err := a.client.Do(ctx, req, &out)
	if err != nil {
		return "", wrapAPI(op, resp, err)
	}
	v := out.Data.Viewer
	if v.Login == "" {
		if len(out.Errors) > 0 {
			return "", fmt.Errorf("%s: %s", op, out.Errors[0].Message)
		}
		return "", fmt.Errorf("%s: no login in the answer", op)
	}
	if v.TypeName == "Bot" && !strings.HasSuffix(v.Login, "[bot]") {
		// Comments show a bot's login with the suffix.
		return v.Login + "[bot]", nil
	}
	return v.Login, nil
}

// Issue reads an issue or pull request (GET /repos/{o}/{r}/issues/{n}),
// which pull requests answer too, with their description and labels.
func (a *Client) Issue(ctx context.Context, number int) (action.Issue, error) {
	is, resp, err := a.client.Issues.Get(ctx, a.owner, a.repo, number)
	if err != nil {
		return action.Issue{}, wrapAPI(fmt.Sprintf("reading #%d", number), resp, err)
	}
	out := action.Issue{Number: is.GetNumber(), Body: is.GetBody()}
	for _, l := range is.Labels {
		out.Labels = append(out.Labels, l.GetName())
	}
	return out, nil
}

// LabelEvents lists an issue's labeled and unlabeled events (GET
// /repos/{o}/{r}/issues/{n}/events), every page, oldest first.
func (a *Client) LabelEvents(ctx context.Context, number int) ([]action.LabelEvent, error) {
	var out []action.LabelEvent
	err := pages(fmt.Sprintf("listing the events of #%d", number), func(page int) (*github.Response, error) {
		evs, resp, err := a.client.Issues.ListIssueEvents(ctx, a.owner, a.repo, number, &github.ListOptions{PerPage: 100, Page: page})
		for _, ev := range evs {
			if e := ev.GetEvent(); (e == "labeled" || e == "unlabeled") && ev.Label != nil {
				out = append(out, action.LabelEvent{Label: ev.Label.GetName(), Actor: ev.GetActor().GetLogin(), Added: e == "labeled", At: ev.GetCreatedAt().Time})
			}
		}
		return resp, err
	})
	return out, err
}
