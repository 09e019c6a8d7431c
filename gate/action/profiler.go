package action

import (
	"context"
	"io"

	"github.com/nsys-gate/gate/parse"
)

// Profiler runs a workload under Nsight Systems and summarises the profile.
// The action's profile mode depends only on this, so that its tests run
// without nsys or a GPU; gate's command line passes one that runs
// package profile.
type Profiler interface {
	Profile(ctx context.Context, req ProfileRequest) (*parse.Summary, error)
}

// ProfileRequest is one workload to profile.
type ProfileRequest struct {
	Command  string   // run with sh -c, in the current directory (the workspace)
	NsysArgs []string // replace the profiler's default nsys flags when set
	Dir      string   // where profile.nsys-rep, profile.sqlite and summary.json go
	Parse    parse.Options
	Stdout   io.Writer // gate's progress, and the end of nsys's log when the run fails
	Getenv   func(string) string
	// Env is the workload's whole environment: gate's, less what lets a
	// workload act as the step (workloadEnv).
	Env []string
}
