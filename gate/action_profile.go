package gate

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// profiler runs a workload under Nsight Systems and returns the path of the
// SQLite export it made. The action's profile mode depends only on this, so
// tests run it with a fake and the nsys runner of `gate profile` can be put
// behind it.
type profiler interface {
	Profile(ctx context.Context, req profileRequest) (export string, err error)
}

// profileRequest is one workload to profile.
type profileRequest struct {
	Command  string   // run with sh -c
	NsysArgs []string // replaces defaultNsysArgs when set
	Dir      string   // where the report and export are written
	Workdir  string   // the workload's working directory
	Stdout   io.Writer
	Stderr   io.Writer
}

// defaultNsysArgs trace CUDA and NVTX only: CPU sampling needs
// perf_event_open, which a Docker action's default seccomp profile denies, and
// node-level graph tracing lets gate attribute kernels inside CUDA graphs.
var defaultNsysArgs = []string{"-t", "cuda,nvtx", "-s", "none", "--cpuctxsw=none", "--cuda-graph-trace=node"}

// newActionProfiler returns the profiler of the action's profile mode; tests
// replace it.
var newActionProfiler = func() profiler { return nsysProfiler{nsys: "nsys"} }

// nsysProfiler runs `nsys profile ... --export=sqlite -o DIR/profile sh -c CMD`.
type nsysProfiler struct{ nsys string }

func (p nsysProfiler) Profile(ctx context.Context, req profileRequest) (string, error) {
	if _, err := exec.LookPath(p.nsys); err != nil {
		return "", fmt.Errorf("nsys not found on PATH: use the action's Docker image, install Nsight Systems, or use mode compare with an export made elsewhere")
	}
	args := req.NsysArgs
	if len(args) == 0 {
		args = defaultNsysArgs
	}
	out := filepath.Join(req.Dir, "profile")
	argv := append([]string{"profile"}, args...)
	if !hasFlag(args, "--export") {
		argv = append(argv, "--export=sqlite")
	}
	argv = append(argv, "--force-overwrite=true", "-o", out, "sh", "-c", req.Command)
	cmd := exec.CommandContext(ctx, p.nsys, argv...)
	cmd.Dir = req.Workdir
	cmd.Stdout, cmd.Stderr = req.Stdout, req.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("nsys %s: %w", strings.Join(argv, " "), err)
	}
	export := out + ".sqlite"
	if _, err := os.Stat(export); err != nil {
		return "", fmt.Errorf("nsys wrote no SQLite export: %w", err)
	}
	return export, nil
}

func hasFlag(args []string, flag string) bool {
	for _, a := range args {
		if a == flag || strings.HasPrefix(a, flag+"=") {
			return true
		}
	}
	return false
}
