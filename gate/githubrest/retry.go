package githubrest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/hashicorp/go-retryablehttp"
)

// GitHub fails now and then: a 502 from the artifact list, a reset
// connection, a rate limit. Every request (API calls and artifact
// downloads alike) goes through a retrying transport, go-retryablehttp with
// GitHub's rules for when and how long to wait:
//
//   - 5xx (but 501) and connection errors: exponential backoff from 1 s
//     with jitter;
//   - 429 or 403 with Retry-After (a secondary rate limit): the time it
//     says; a secondary limit without it: one minute, as GitHub asks;
//   - 403 or 429 with X-RateLimit-Remaining: 0 (the primary limit): until
//     X-RateLimit-Reset.
//
// All waits of one client come out of one budget, so that a step never
// hangs on a rate limit that resets in an hour: a wait beyond what is left
// gives up at once, with an error that says until when GitHub refuses.

// Retry is how a client retries. The zero value is the default: 4 tries per
// request within a 2 minute budget, sleeping for real.
type Retry struct {
	Tries  int           // attempts per request, the first included (default 4)
	Budget time.Duration // total waiting across all requests (default 2 minutes)
	// Sleep waits d. nil lets the transport sleep; tests pass one that
	// advances a fake clock and returns at once.
	Sleep func(d time.Duration)
	// Now is the clock rate-limit resets are measured against (default
	// time.Now).
	Now func() time.Time
}

// Defaults of Retry.
const (
	defaultTries  = 4
	defaultBudget = 2 * time.Minute
	firstBackoff  = time.Second
	// secondaryWait is GitHub's advice for a secondary rate limit that
	// names no Retry-After.
	secondaryWait = time.Minute
)

// retrier decides, for one client, whether and how long to wait.
type retrier struct {
	tries int
	sleep func(time.Duration)
	now   func() time.Time

	mu   sync.Mutex
	left time.Duration // of the budget
	// asked holds the rate-limit wait that check read from a response, for
	// backoff: the transport drains the body (where GitHub names a
	// secondary limit) in between.
	asked map[*http.Response]time.Duration
}

func newRetrier(r Retry) *retrier {
	p := &retrier{tries: r.Tries, sleep: r.Sleep, now: r.Now, left: r.Budget, asked: map[*http.Response]time.Duration{}}
	if p.tries < 1 {
		p.tries = defaultTries
	}
	if p.left <= 0 {
		p.left = defaultBudget
	}
	if p.now == nil {
		p.now = time.Now
	}
	return p
}

// transport wraps base (each try bounded by timeout) in the retries.
func (p *retrier) transport(base http.RoundTripper, timeout time.Duration) http.RoundTripper {
	c := retryablehttp.NewClient()
	c.HTTPClient = &http.Client{
		Transport: base,
		Timeout:   timeout,
		// A transport never follows redirects: go-github reads the artifact
		// zip's 302 itself, and the signed URL must not get the token.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	c.Logger = nil
	c.RetryMax = p.tries - 1
	c.CheckRetry = p.check
	c.Backoff = p.backoff
	c.ErrorHandler = p.giveUp
	return &retryablehttp.RoundTripper{Client: c}
}

// check says whether a try is worth repeating. A rate limit that resets
// after the budget is spent is not, and says so.
func (p *retrier) check(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	retry, _ := retryablehttp.DefaultRetryPolicy(ctx, resp, err)
	if err != nil {
		return retry, nil
	}
	wait, limited := p.rateLimitWait(resp)
	if !limited && !retry {
		return false, nil
	}
	p.mu.Lock()
	left := p.left
	if limited && wait <= left {
		p.asked[resp] = wait
	}
	p.mu.Unlock()
	if limited && wait > left {
		return false, &rateLimited{until: p.now().Add(wait)}
	}
	if left <= 0 {
		return false, errBudgetSpent
	}
	return true, nil
}

// errBudgetSpent stops retrying once a client has waited its budget.
var errBudgetSpent = errors.New("retry budget spent")

// rateLimitWait is how long GitHub asks to wait before resp's request is
// tried again, and whether resp is a rate limit at all.
func (p *retrier) rateLimitWait(resp *http.Response) (time.Duration, bool) {
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusTooManyRequests {
		return 0, false
	}
	if s := resp.Header.Get("Retry-After"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 {
			return time.Duration(n) * time.Second, true
		}
		if t, err := http.ParseTime(s); err == nil {
			return max(t.Sub(p.now()), 0), true
		}
	}
	if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		if n, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil {
			// The reset is a whole second; wait past it.
			return max(time.Unix(n, 0).Sub(p.now())+time.Second, 0), true
		}
		return secondaryWait, true
	}
	if resp.StatusCode == http.StatusTooManyRequests || isSecondaryLimit(resp) {
		return secondaryWait, true
	}
	return 0, false
}

// isSecondaryLimit reads the error body, as go-github does, for GitHub's
// secondary-rate-limit documentation link.
func isSecondaryLimit(resp *http.Response) bool {
	var abuse *github.AbuseRateLimitError
	return errors.As(github.CheckResponse(resp), &abuse)
}

// backoff is the wait before try n+2, taken from the budget.
func (p *retrier) backoff(_, _ time.Duration, n int, resp *http.Response) time.Duration {
	p.mu.Lock()
	wait, limited := p.asked[resp]
	delete(p.asked, resp)
	p.mu.Unlock()
	if !limited {
		// Full exponential step, then jitter into its upper half, so that
		// runners that failed together do not retry together.
		step := firstBackoff << min(n, 10)
		wait = step/2 + rand.N(step/2+1)
	}
	p.mu.Lock()
	wait = min(wait, p.left)
	p.left -= wait
	p.mu.Unlock()
	if p.sleep != nil {
		p.sleep(wait)
		return 0
	}
	return wait
}

// giveUp turns the last failed try into the error the caller sees: how
// many tries it took, until when a rate limit holds, and GitHub's own error
// for the last answer (go-github's types, rate limits included), else the
// connection's.
func (p *retrier) giveUp(resp *http.Response, err error, tries int) (*http.Response, error) {
	e := &Exhausted{Tries: tries, Err: err}
	var rl *rateLimited
	if errors.As(err, &rl) {
		e.Until = rl.until
	}
	if resp != nil {
		e.Status = resp.StatusCode
		if gerr := github.CheckResponse(resp); gerr != nil {
			e.Err = gerr
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if e.Err == nil {
		e.Err = fmt.Errorf("HTTP %d", e.Status)
	}
	return nil, e
}

// Exhausted is a request that failed on its last try: Status is the last
// answer's (0 when the connection failed); Until, when set, is when the
// rate limit that stopped it resets.
type Exhausted struct {
	Status int
	Tries  int
	Until  time.Time
	Err    error
}

func (e *Exhausted) Error() string {
	s := e.Err.Error()
	if e.Tries > 1 {
		s += fmt.Sprintf(" (after %d tries)", e.Tries)
	}
	if !e.Until.IsZero() {
		s += "; " + (&rateLimited{e.Until}).Error()
	}
	return s
}

func (e *Exhausted) Unwrap() error { return e.Err }

// rateLimited is a rate limit that resets too late to wait for.
type rateLimited struct{ until time.Time }

func (e *rateLimited) Error() string {
	return "rate limited until " + e.until.UTC().Format("15:04:05 UTC")
}
