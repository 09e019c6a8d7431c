package gate

import (
	"context"
	"io"

	"github.com/nsys-gate/gate/parse"
)

// profiler runs a workload under Nsight Systems and summarises the profile.
// The action's profile mode depends only on this, so that its tests run
// without nsys or a GPU.
type profiler interface {
	Profile(ctx context.Context, req profileRequest) (*parse.Summary, error)
}

// profileRequest is one workload to profile.
type profileRequest struct {
	Command  string   // run with sh -c, in the current directory (the workspace)
	NsysArgs []string // replace ProfileNsysArgs when set
	Dir      string   // where profile.nsys-rep, profile.sqlite and summary.json go
	Parse    parse.Options
	Stdout   io.Writer // the workload's output, nsys's and gate's progress
	Getenv   func(string) string
}

// newActionProfiler returns the profiler of the action's profile mode; tests
// replace it.
var newActionProfiler = func() profiler { return nsysProfiler{} }

// nsysProfiler is `gate profile`'s runner (Profile): NVML preflight, nsys
// with ProfileNsysArgs, export, parse.
type nsysProfiler struct{}

func (nsysProfiler) Profile(ctx context.Context, req profileRequest) (*parse.Summary, error) {
	return Profile(ctx, ProfileOptions{
		Command:  []string{"sh", "-c", req.Command},
		Dir:      req.Dir,
		NsysArgs: req.NsysArgs,
		Parse:    req.Parse,
		Stdout:   req.Stdout,
		Stderr:   req.Stdout,
		Progress: req.Stdout,
		Getenv:   req.Getenv,
	})
}
