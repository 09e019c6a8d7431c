package gate

import (
	"context"
	"fmt"

	"github.com/nsys-gate/gate/gate/action"
	"github.com/nsys-gate/gate/gate/githubrest"
	"github.com/nsys-gate/gate/gate/profile"
	"github.com/nsys-gate/gate/parse"
	"github.com/nsys-gate/gate/render"
)

const actionUsage = `usage: gate action

Runs as a GitHub Action; inputs come from INPUT_* variables (see action.yml
and docs/action.md).
`

// runAction is `gate action`: the GitHub Action's entry point. Its inputs
// come from the INPUT_* environment (action.yml), so the same binary runs as
// the Docker action or directly on a runner. It writes the report, the job
// summary and the outputs, posts the sticky PR comment and exits by the
// verdict and fail-on.
func (c *Command) runAction(ctx context.Context, args []string) int {
	fs := c.newFlags("gate action", actionUsage)
	rest, code, ok := fs.parse(args, false)
	if !ok {
		return code
	}
	if len(rest) > 0 {
		return fs.usageError("takes no arguments, inputs come from INPUT_* variables (got %q)", rest)
	}
	profiler := c.profiler
	if profiler == nil {
		profiler = nsysProfiler{}
	}
	loader, err := c.loader()
	if err != nil {
		fmt.Fprintf(c.Stderr, "gate action: %s\n", errorLine(err))
		return exitError
	}
	out, err := action.Run(ctx, action.Env{
		Load:     loader.Summary,
		Getenv:   c.Getenv,
		Stdout:   c.Stdout,
		Environ:  c.environ,
		GitHub:   c.newGitHub,
		Profiler: profiler,
		ExitCode: actionExit,
	})
	if err != nil {
		return exitError // the action has reported it as an error annotation
	}
	if out.Verdict == "" {
		return exitOK
	}
	code = actionExit(out)
	fmt.Fprintf(c.Stdout, "gate: %s (%d failed, %d warned, %d passed); exit %d\n", render.VerdictWords(out.Verdict), out.Counts.Fail, out.Counts.Warn, out.Counts.Pass, code)
	return code
}

// newGitHub is the action's GitHub client: go-github against GITHUB_API_URL,
// each try of a call or download bounded to 60 s, transient failures and
// short rate limits retried within githubrest's 2 minute budget.
func (c *Command) newGitHub(ep action.Endpoint) (action.GitHub, error) {
	return githubrest.New(ep, githubrest.Options{Retry: c.retry})
}

// nsysProfiler is the action's profile mode run by `gate profile`'s code:
// NVML preflight, nsys with gate's default flags, export, parse.
type nsysProfiler struct{}

func (nsysProfiler) Profile(ctx context.Context, req action.ProfileRequest) (*parse.Summary, error) {
	if err := hideEnvironment(); err != nil {
		fmt.Fprintf(req.Stdout, "gate: could not hide gate's environment from the workload: %v\n", err)
	}
	return profile.Run(ctx, profile.Options{
		Command:  []string{"sh", "-c", req.Command},
		Dir:      req.Dir,
		NsysArgs: req.NsysArgs,
		Parse:    req.Parse,
		Stdout:   req.Stdout,
		Stderr:   req.Stdout,
		Progress: req.Stdout,
		Getenv:   req.Getenv,
		Env:      req.Env,
		Version:  version(),
	})
}
