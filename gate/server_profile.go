package gate

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/nsys-gate/gate/parse"
)

// ServerFlags registers the server-mode flags of `gate profile --server` on
// fs and returns the options they fill. The server command is the
// command's positional arguments (after --); the caller sets Command.
func ServerFlags(fs *flag.FlagSet) *ServerOptions {
	o := &ServerOptions{}
	fs.StringVar(&o.URL, "server-url", "http://127.0.0.1:8000", "server mode: the server's base URL")
	fs.StringVar(&o.HealthPath, "health-path", "/health", "server mode: path that answers 200 once the server is ready")
	fs.DurationVar(&o.ReadyTimeout, "ready-timeout", 10*time.Minute, "server mode: how long to wait for the health check")
	fs.StringVar(&o.Capture, "capture", CaptureAPI, "server mode: what nsys records: api (between the server's /start_profile and /stop_profile), delay (--capture-delay, --capture-duration) or none (everything)")
	fs.DurationVar(&o.Delay, "capture-delay", 0, "server mode, --capture delay: start recording this long after launch")
	fs.DurationVar(&o.Duration, "capture-duration", 0, "server mode, --capture delay: record for this long")
	fs.IntVar(&o.Warmup, "warmup", 2, "server mode: warm-up requests before the capture (-1: none)")
	fs.IntVar(&o.Load.Requests, "requests", 32, "server mode: measured requests")
	fs.IntVar(&o.Load.Concurrency, "concurrency", 4, "server mode: requests in flight at once")
	fs.IntVar(&o.Load.PromptTokens, "prompt-tokens", 128, "server mode: prompt length in words (about one token each)")
	fs.IntVar(&o.Load.OutputTokens, "output-tokens", 64, "server mode: tokens generated per request (max_tokens, ignore_eos)")
	fs.Int64Var(&o.Load.Seed, "seed", 0, "server mode: seed of the prompts")
	fs.StringVar(&o.Load.Model, "model", "", "server mode: model name in requests (default: the first of /v1/models)")
	fs.DurationVar(&o.Load.RequestTimeout, "request-timeout", 5*time.Minute, "server mode: limit for one request")
	return o
}

// ProfileServer is `gate profile --server`: it runs the server mode under
// nsys with its report in o.Dir (profile.nsys-rep, profile.sqlite,
// server.log), summarises the export like Profile and adds the serving
// metrics (load.*, vllm.metrics.*, vllm.log.*) to Summary.Extra, then writes
// o.Dir/summary.json. From o it uses Dir, Nsys, NsysArgs, NsysExtra, Parse,
// Env and Progress.
func ProfileServer(ctx context.Context, o ProfileOptions, so ServerOptions) (*parse.Summary, error) {
	if o.Dir == "" {
		o.Dir = "gate-profile"
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("output folder: %w", err)
	}
	nsys := o.Nsys
	if nsys == "" {
		if nsys, err = exec.LookPath("nsys"); err != nil {
			return nil, fmt.Errorf("nsys not found: %s", nsysHint)
		}
	}
	so.Nsys = nsys
	so.NsysArgs = append(append([]string(nil), o.NsysArgs...), o.NsysExtra...)
	if len(o.NsysArgs) == 0 {
		so.NsysArgs = append(append([]string(nil), DefaultServerNsysArgs...), o.NsysExtra...)
	}
	so.Output = filepath.Join(dir, "profile")
	so.LogPath = filepath.Join(dir, "server.log")
	so.Env = append(so.Env, o.Env...)
	os.Remove(so.Output + ".sqlite") // never parse a stale export
	progress := func(format string, args ...any) {
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "gate: "+format+"\n", args...)
		}
	}
	progress("server mode: %s (log: %s)", so.Command, so.LogPath)
	res, err := RunServer(ctx, so)
	if err != nil {
		return nil, err
	}
	progress("server mode: %d requests completed, %d failed", res.Completed, res.Failed)
	export := res.Report + ".sqlite"
	progress("parsing %s", export)
	s, err := LoadSummary(export, o.Parse)
	if err != nil {
		return nil, err
	}
	res.Attach(s)
	out, err := finishSummary(s, dir, o.Extra)
	if err != nil {
		return nil, err
	}
	progress("wrote %s", out)
	return s, nil
}
