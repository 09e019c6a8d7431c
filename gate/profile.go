package gate

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/nsys-gate/gate/gate/config"
	"github.com/nsys-gate/gate/gate/nvml"
	"github.com/nsys-gate/gate/gate/profile"
	"github.com/nsys-gate/gate/parse"
)

const profileUsage = `usage: gate profile [flags] -- COMMAND [ARGS...]
       gate profile --preflight-only

Run COMMAND under Nsight Systems with gate's defaults
(` + "`nsys profile -t cuda,nvtx -s none --cpuctxsw=none --cuda-graph-trace=node --export=sqlite`" + `),
parse the export and write DIR/summary.json. nsys also samples the GPU's
counters (--gpu-metrics-devices=all at --gpu-metrics-hz: DRAM traffic, SM
and tensor activity per step; --gpu-metrics=false turns it off, and nsys
flags naming --gpu-metrics-devices decide instead; --server runs do not
sample, their minutes-long captures would make exports of hundreds of MB);
where nsys refuses (counters restricted to admin, an older GPU, another
profiler holding them), gate says why, profiles without and records it in
the summary.
Before the run gate reads the GPU through NVML (name, driver, clocks,
throttle reasons, other processes) and records it in the summary;
throttled clocks or a shared GPU become warnings in the report. With --with-ncu a second run under Nsight Compute
measures the DRAM traffic of the top kernels (the summary's bandwidth
section). With --server COMMAND is a server (vLLM or anything speaking its
OpenAI-compatible endpoints): gate waits for its health check, drives a
fixed, seeded request load, scrapes /metrics and shuts it down, and the
serving metrics join the summary.

gate's progress lines go to stderr and start with "gate:": what runs, how
long each part took, and every 30 s that a long run still goes. The
workload's output, which shares its streams with nsys's progress bars, goes
to DIR/nsys.log (server mode: DIR/server.log) and is printed only when the
run fails; --show-output streams it too. A workload that exits non-zero is
an error (exit 2) that reports its code and the end of the log.

flags:
`

// runProfile implements `gate profile`.
func (c *Command) runProfile(ctx context.Context, args []string) int {
	fs := c.newFlags("gate profile", profileUsage)
	o := profile.Options{}
	fs.StringVar(&o.Dir, "out", profile.DefaultDir, "output folder")
	fs.StringVar(&o.Nsys, "nsys", "", "nsys to run (default: nsys on the PATH)")
	fs.BoolVar(&o.ShowOutput, "show-output", false, "also stream the workload's (and nsys's) output, kept in DIR/nsys.log either way")
	nsysArgs := fs.String("nsys-args", "", "nsys profile flags replacing gate's defaults (space-separated)")
	nsysExtra := fs.String("nsys-extra", "", "nsys profile flags added to gate's defaults (space-separated)")
	gpuMetrics := fs.Bool("gpu-metrics", true, "sample the GPU's counters during the profile (DRAM traffic, SM and tensor activity); false turns it off")
	fs.IntVar(&o.GPUMetricsHz, "gpu-metrics-hz", profile.DefaultGPUMetricsHz, "how often nsys samples the GPU's counters, in Hz (10 to 200000)")
	withNCU := fs.Bool("with-ncu", false, "also measure per-kernel DRAM bandwidth with Nsight Compute")
	var n profile.NCUOptions
	fs.StringVar(&n.Path, "ncu", "", "ncu to run (default: ncu on the PATH, else /opt/nvidia/nsight-compute/*/ncu)")
	fs.IntVar(&n.Top, "ncu-top", 5, "measure this many kernels, those with the most GPU time")
	fs.IntVar(&n.Skip, "ncu-skip", 0, "launches of each launch configuration ncu skips first (warm-up)")
	fs.IntVar(&n.Launches, "ncu-launches", 0, "launches ncu measures of each launch configuration of the top kernels (default 3)")
	ncuArgs := fs.String("ncu-args", "", "extra ncu flags (space-separated)")
	scope := fs.String("scope", "", "NVTX range that bounds the measured window (default: the config's scope); also limits ncu to it")
	configPath := fs.String("config", "", "gate.yml with scope, phase patterns and component rules")
	fs.StringVar(&o.GPU, "gpu", "", "GPU to fingerprint: index or UUID (default: first of CUDA_VISIBLE_DEVICES, else 0)")
	var extras extraFlag
	fs.Var(&extras, "extra", extraUsage)
	isServer := fs.Bool("server", false, "COMMAND is a server: profile it under a fixed request load (see the server-mode flags)")
	so := serverFlags(fs.FlagSet)
	preflightOnly := fs.Bool("preflight-only", false, "print the NVML fingerprint and preflight warnings as JSON, run nothing")
	command, code, ok := fs.parse(args, false)
	if !ok {
		return code
	}
	if *preflightOnly {
		return c.preflightOnly(o.GPU)
	}
	o.Command = command
	if len(o.Command) == 0 {
		return fs.usageError("no workload: give it after --, e.g. gate profile -- python3 bench.py")
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		fmt.Fprintf(c.Stderr, "gate profile: %s\n", errorLine(err))
		return exitError
	}
	o.Parse = cfg.ParseOptions()
	if *scope != "" {
		o.Parse.Scope = *scope
	}
	o.NsysArgs = strings.Fields(*nsysArgs)
	o.NsysExtra = strings.Fields(*nsysExtra)
	o.NoGPUMetrics = !*gpuMetrics
	if o.GPUMetricsHz < 10 || o.GPUMetricsHz > 200000 {
		fmt.Fprintf(c.Stderr, "gate profile: --gpu-metrics-hz %d: nsys samples at 10 to 200000 Hz\n", o.GPUMetricsHz)
		return exitError
	}
	if *withNCU {
		n.Args = strings.Fields(*ncuArgs)
		o.NCU = &n
	}
	o.Stdout, o.Stderr, o.Progress = c.Stdout, c.Stderr, c.Stderr
	o.Getenv = c.Getenv
	o.Extra = extras
	o.Version = version()

	var s *parse.Summary
	if *isServer {
		so.Command = o.Command
		s, err = profile.Server(ctx, o, *so)
	} else {
		s, err = profile.Run(ctx, o)
	}
	if err != nil {
		fmt.Fprintf(c.Stderr, "gate profile: %s\n", errorLine(err))
		return exitError
	}
	if len(s.Warnings) > 0 {
		fmt.Fprintf(c.Stderr, "gate: %d warning(s) in the summary\n", len(s.Warnings))
	}
	return exitOK
}

// preflightOnly prints the GPU fingerprint and what preflight says about it.
func (c *Command) preflightOnly(gpu string) int {
	if gpu == "" {
		gpu = nvml.GPUFromEnv(c.Getenv)
	}
	fp, err := nvml.Read(nvml.Open(), gpu)
	if err != nil {
		fmt.Fprintf(c.Stderr, "gate: preflight: %v\n", err)
	}
	out := struct {
		NVML     any `json:"nvml"`
		Warnings any `json:"warnings"`
	}{fp, nonNil(nvml.Preflight(fp))}
	enc := json.NewEncoder(c.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return exitError
	}
	return exitOK
}

func nonNil(ws []parse.Warning) []parse.Warning {
	if ws == nil {
		return []parse.Warning{}
	}
	return ws
}
