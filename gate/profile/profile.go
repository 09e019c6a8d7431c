// Package profile runs a workload under Nsight Systems (and, when asked, a
// second time under Nsight Compute) and summarises what it recorded: the
// heart of `gate profile`. Start at Run and Options; Server does the same
// for an inference server under a request load (package server), and ncu.go
// holds the targeted Nsight Compute pass.
package profile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/nsys-gate/gate/gate/load"
	"github.com/nsys-gate/gate/gate/nvml"
	"github.com/nsys-gate/gate/internal/safefile"
	"github.com/nsys-gate/gate/parse"
)

// DefaultDir is the output folder when Options.Dir is empty.
const DefaultDir = "gate-profile"

// defaultNsysArgs returns the nsys profile flags gate uses unless told
// otherwise: CUDA and NVTX only (CPU sampling makes captures huge and needs
// perf_event_open), kernels inside CUDA graphs traced one by one so they can
// be attributed, and the SQLite export made in the same run.
func defaultNsysArgs() []string {
	return []string{"-t", "cuda,nvtx", "-s", "none", "--cpuctxsw=none", "--cuda-graph-trace=node", "--export=sqlite"}
}

// Options says what to run and where its results go.
type Options struct {
	Command []string // the workload: program and arguments
	Dir     string   // output folder (default DefaultDir): profile.nsys-rep, profile.sqlite, summary.json, ncu.csv
	Nsys    string   // nsys to run; empty: nsys from the PATH
	// NsysArgs replace defaultNsysArgs() when set; NsysExtra are added to
	// whichever are used. gate adds -f true -o DIR/profile itself.
	NsysArgs  []string
	NsysExtra []string
	Parse     parse.Options
	// Extra are files of metrics from outside the profile (vLLM bench
	// results, /metrics scrapes, logs, gate's metrics JSON) for Summary.Extra.
	Extra []string
	// NCU, when set, adds a second, targeted Nsight Compute run over the
	// kernels with the most GPU time, filling Summary.Bandwidth.
	NCU *NCUOptions
	// NoGPUMetrics turns off sampling the GPU's counters (DRAM traffic, SM
	// and tensor activity: Summary.GPUMetrics), which nsys otherwise does
	// on every GPU at GPUMetricsHz (0: DefaultGPUMetricsHz). nsys flags that
	// name --gpu-metrics-devices themselves decide instead. Where nsys
	// refuses (counters restricted to admin, an older GPU, another profiler
	// holding them) the profile runs without, and says why in a warning.
	NoGPUMetrics bool
	GPUMetricsHz int

	// NVML is read before the workload starts; nil means the system's. GPU
	// picks the device ("0", "GPU-..."); empty: CUDA_VISIBLE_DEVICES' first.
	NVML nvml.Library
	GPU  string

	// Stdout and Stderr get the workload's output (and nsys's and ncu's,
	// which share its streams) only with ShowOutput; it always goes to
	// DIR/nsys.log (DIR/ncu.log), whose end is printed when a run fails.
	Stdout, Stderr io.Writer
	ShowOutput     bool
	Progress       io.Writer // gate's own progress lines; nil: Stderr
	Env            []string  // the workload's environment; nil: gate's
	Getenv         func(string) string
	LookPath       func(string) (string, error) // nil: exec.LookPath
	// Version is gate's version, recorded in Source.GateVersion.
	Version string
}

// WorkloadError is a workload that exited non-zero under the profiler.
type WorkloadError struct {
	Code int
	Argv []string
}

func (e *WorkloadError) Error() string {
	return fmt.Sprintf("the workload exited with code %d under nsys (%s)", e.Code, strings.Join(e.Argv, " "))
}

// Run runs o.Command under Nsight Systems and returns its summary, also
// written to DIR/summary.json: a preflight NVML reading first (its
// fingerprint goes to Summary.GPU.NVML, its warnings to Summary.Warnings),
// then nsys, then the parse, then, with NCU, the Nsight Compute pass. The
// workload's output goes to DIR/nsys.log (and to Stdout/Stderr with
// ShowOutput); a failing workload is a *WorkloadError, and the end of the
// log is printed to Progress.
func Run(ctx context.Context, o Options) (*parse.Summary, error) {
	o.defaults()
	if len(o.Command) == 0 {
		return nil, errors.New("no workload to profile: give the command after --")
	}
	nsys := load.Nsys{Path: o.Nsys, LookPath: o.LookPath}
	bin, err := nsys.Find()
	if err != nil {
		return nil, err
	}
	nsys.Path = bin
	dir, err := outputDir(o.Dir)
	if err != nil {
		return nil, err
	}
	o.Dir = dir
	t := o.tools()
	fp := preflight(t, o.NVML, o.GPU, o.Getenv)

	base := filepath.Join(dir, "profile")
	args := o.NsysArgs
	if len(args) == 0 {
		args = defaultNsysArgs()
	}
	gm := gpuMetricsArgs(o.NoGPUMetrics, o.GPUMetricsHz, args, o.NsysExtra)
	argv := func(gm []string) []string {
		argv := append([]string{"profile"}, args...)
		argv = append(argv, gm...)
		argv = append(argv, o.NsysExtra...)
		argv = append(argv, "-f", "true", "-o", base)
		return append(argv, o.Command...)
	}
	code, noGM, err := profileWithGPUMetrics(ctx, t, bin, base, filepath.Join(dir, nsysLog), gm, argv)
	if err != nil {
		return nil, fmt.Errorf("running nsys: %w", err)
	}
	if code != 0 {
		return nil, &WorkloadError{Code: code, Argv: o.Command}
	}
	export, err := exportOf(ctx, t, nsys, base)
	if err != nil {
		return nil, err
	}
	s, err := parseExport(ctx, t, export, o.Parse)
	if err != nil {
		return nil, err
	}
	if noGM == nil && len(gm) > 0 && s.GPUMetrics == nil {
		w := noGPUMetrics(gm, "the export has none ("+refusal(logTail(filepath.Join(dir, nsysLog), tailLines), 0)+")")
		noGM = &w
		t.logf("GPU metrics: %s", w.Message)
	}
	if noGM != nil {
		s.Warnings = append(s.Warnings, *noGM)
	}
	attachNVML(s, fp)
	if o.NCU != nil {
		n := ncuRun{NCUOptions: *o.NCU, tools: t, lookPath: o.LookPath, dir: dir, scope: o.Parse.Scope, command: o.Command}
		if err := n.measure(ctx, s); err != nil {
			t.logf("Nsight Compute pass failed, summary has no bandwidth section: %v", err)
			s.Warnings = append(s.Warnings, parse.Warning{Code: "ncu_failed", Message: err.Error()})
		}
	}
	if err := finish(t, s, dir, o.Extra, o.Version); err != nil {
		return nil, err
	}
	return s, nil
}

func (o *Options) defaults() {
	if o.Dir == "" {
		o.Dir = DefaultDir
	}
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	if o.Progress == nil {
		o.Progress = o.Stderr
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.LookPath == nil {
		o.LookPath = exec.LookPath
	}
	if o.NVML == nil {
		o.NVML = nvml.Open()
	}
}

func (o *Options) tools() tools {
	return tools{stdout: o.Stdout, stderr: o.Stderr, progress: o.Progress, env: o.Env, show: o.ShowOutput}
}

// outputDir makes dir (default DefaultDir) and returns its absolute path.
func outputDir(dir string) (string, error) {
	if dir == "" {
		dir = DefaultDir
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return "", fmt.Errorf("output folder: %w", err)
	}
	return abs, nil
}

// exportOf returns the SQLite export nsys made, or makes it from the report
// when the nsys flags did not ask for one.
func exportOf(ctx context.Context, t tools, nsys load.Nsys, base string) (string, error) {
	export := base + ".sqlite"
	if fi, err := os.Stat(export); err == nil && fi.Size() > 0 {
		return export, nil
	}
	report := base + ".nsys-rep"
	if _, err := os.Stat(report); err != nil {
		return "", fmt.Errorf("nsys wrote neither %s nor %s: did the workload launch any CUDA work?", filepath.Base(export), filepath.Base(report))
	}
	t.logf("exporting: %s export %s", nsys.Path, report)
	start := time.Now()
	if err := nsys.Export(ctx, report, export); err != nil {
		return "", err
	}
	t.logf("exporting: done in %s", elapsed(start))
	return export, nil
}

// parseExport summarises an export, saying how long it took and what it
// found.
func parseExport(ctx context.Context, t tools, export string, opts parse.Options) (*parse.Summary, error) {
	size := ""
	if fi, err := os.Stat(export); err == nil {
		size = fmt.Sprintf(" (%.1f MB)", float64(fi.Size())/1e6)
	}
	t.logf("parsing %s%s", export, size)
	start := time.Now()
	s, err := load.Summary(ctx, export, opts)
	if err != nil {
		return nil, err
	}
	var found []string
	for _, name := range []string{parse.PhasePrefill, parse.PhaseDecode} {
		if p := s.Phases[name]; p != nil && p.Steps > 0 {
			found = append(found, plural(p.Steps, name+" step"))
		}
	}
	found = append(found, plural(len(s.Kernels), "kernel"))
	t.logf("parsing: done in %s: %s", elapsed(start), strings.Join(found, ", "))
	return s, nil
}

// plural is "1 decode step" or "96 decode steps".
func plural(n int, one string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %ss", n, one)
}

// nsysLog is the file in the output folder that keeps nsys's output and the
// workload's.
const nsysLog = "nsys.log"

// finish adds the extra metrics files and gate's version to a fresh
// profile's summary and writes it to dir/summary.json.
func finish(t tools, s *parse.Summary, dir string, extra []string, version string) error {
	if err := load.Extra(s, extra...); err != nil {
		return err
	}
	if s.Source.GateVersion == "" {
		s.Source.GateVersion = version
	}
	out := filepath.Join(dir, load.SummaryFile)
	var b bytes.Buffer
	if err := parse.EncodeSummary(&b, s); err != nil {
		return fmt.Errorf("%s: %w", out, err)
	}
	if err := safefile.Write(out, b.Bytes()); err != nil {
		return err
	}
	t.logf("wrote %s", out)
	return nil
}

// tools runs nsys, ncu and the workload with the workload's streams and
// environment, and prints gate's progress lines.
type tools struct {
	stdout, stderr, progress io.Writer
	env                      []string
	show                     bool          // runLogged also streams the output
	every                    time.Duration // runLogged's heartbeat; 0: heartbeat
	quietFail                bool          // runLogged leaves a failure to its caller (see failed)
}

func (t tools) logf(format string, args ...any) {
	fmt.Fprintf(t.progress, "gate: "+format+"\n", args...)
}

// run runs name with args, streaming to the workload's streams, and returns
// its exit code; err is for a program that could not be started at all.
//
// The program (nsys, ncu, and the workload under them) runs in a process
// group of its own, so that what it leaves behind can be found: when it
// exits, or ctx is cancelled, the whole group is killed, and gate waits at
// most outputGrace for a straggler still holding its output open. A
// workload's backgrounded child cannot print after gate has moved on.
func (t tools) run(ctx context.Context, name string, args []string) (int, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = nil
	cmd.Stdout, cmd.Stderr = t.stdout, t.stderr
	cmd.Env = t.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return killGroup(cmd.Process.Pid) }
	cmd.WaitDelay = outputGrace
	err := cmd.Start()
	if err == nil {
		err = cmd.Wait()
		// Its children may outlive it; the group outlives none of them.
		killGroup(cmd.Process.Pid)
		if errors.Is(err, exec.ErrWaitDelay) {
			t.logf("a process left behind by %s held its output open; it was killed", filepath.Base(name))
			return cmd.ProcessState.ExitCode(), nil
		}
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return exit.ExitCode(), nil
	}
	return 0, err
}

// outputGrace is how long a finished program's leftover children may hold
// its output open before gate closes it.
const outputGrace = 2 * time.Second

// killGroup kills the process group led by pid; a group already gone is not
// an error.
func killGroup(pid int) error {
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}

// preflight reads the GPU before the workload runs and says what it saw.
func preflight(t tools, lib nvml.Library, gpu string, getenv func(string) string) *parse.NVML {
	if gpu == "" {
		gpu = nvml.GPUFromEnv(getenv)
	}
	fp, err := nvml.Read(lib, gpu)
	if !fp.Available {
		t.logf("preflight: GPU fingerprint unknown (%v)", err)
		return fp
	}
	t.logf("preflight: %s, driver %s, CUDA %s, SM %d MHz, memory %d MHz, %d °C, clock reasons [%s], %d other process(es)",
		fp.Name, fp.Driver, fp.CUDADriver, fp.SMClockMHz, fp.MemClockMHz, fp.TemperatureC, strings.Join(fp.ThrottleReasons, " "), fp.OtherProcesses)
	for _, w := range nvml.Preflight(fp) {
		t.logf("warning: %s", w.Message)
	}
	return fp
}

// attachNVML records the fingerprint and its preflight warnings in s, and
// fills what the export did not say about the GPU from it.
func attachNVML(s *parse.Summary, fp *parse.NVML) {
	s.GPU.NVML = fp
	if fp == nil || !fp.Available {
		return
	}
	if s.GPU.PeakBandwidth <= 0 && fp.PeakBandwidth > 0 {
		s.GPU.PeakBandwidth = fp.PeakBandwidth
	}
	if s.Memory.PeakBandwidth <= 0 {
		s.Memory.PeakBandwidth = s.GPU.PeakBandwidth
	}
	if s.GPU.Name == "" {
		s.GPU.Name = fp.Name
	}
	if s.GPU.Driver == "" {
		s.GPU.Driver = fp.Driver
	}
	if s.GPU.CUDA == "" {
		s.GPU.CUDA = fp.CUDADriver
	}
	s.Warnings = append(s.Warnings, nvml.Preflight(fp)...)
}
