package gate

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

	"github.com/nsys-gate/gate/gate/nvml"
	"github.com/nsys-gate/gate/parse"
)

// ProfileNsysArgs are the nsys profile flags gate uses unless told otherwise:
// CUDA and NVTX only (CPU sampling makes captures huge and needs
// perf_event_open), kernels inside CUDA graphs traced one by one so they can
// be attributed, and the SQLite export made in the same run.
var ProfileNsysArgs = []string{"-t", "cuda,nvtx", "-s", "none", "--cpuctxsw=none", "--cuda-graph-trace=node", "--export=sqlite"}

// nsysHint says what to install when nsys is missing.
const nsysHint = "install NVIDIA Nsight Systems (https://developer.nvidia.com/nsight-systems) and put nsys on the PATH, or pass --nsys PATH"

// ProfileOptions says what `gate profile` runs and where its results go.
type ProfileOptions struct {
	Command []string // the workload: program and arguments
	Dir     string   // output folder: profile.nsys-rep, profile.sqlite, summary.json, ncu.csv
	Nsys    string   // nsys to run; empty: nsys from the PATH
	// NsysArgs replace ProfileNsysArgs when set; NsysExtra are added to
	// whichever are used. gate adds -f true -o DIR/profile itself.
	NsysArgs  []string
	NsysExtra []string
	Parse     parse.Options
	// Extra are files of metrics from outside the profile (vLLM bench
	// results, /metrics scrapes, logs, gate's metrics JSON) for Summary.Extra.
	Extra []string

	// WithNCU adds a second, targeted Nsight Compute run over the NCUTop
	// kernels with the most GPU time, filling Summary.Bandwidth.
	WithNCU     bool
	NCU         string   // ncu to run; empty: PATH, then /opt/nvidia/nsight-compute
	NCUTop      int      // kernels to measure (default 5)
	NCUSkip     int      // matching launches to skip first (warm-up)
	NCULaunches int      // launches to measure per launch configuration (default 3)
	NCUArgs     []string // extra ncu flags

	// NVML is read before the workload starts; nil means the system's. GPU
	// picks the device ("0", "GPU-..."); empty: CUDA_VISIBLE_DEVICES' first.
	NVML nvml.Library
	GPU  string

	Stdout, Stderr io.Writer // the workload's streams (and nsys's)
	Progress       io.Writer // gate's own progress lines
	Env            []string  // the workload's environment; nil: gate's
	Getenv         func(string) string
	LookPath       func(string) (string, error) // nil: exec.LookPath
}

// WorkloadError is a workload that exited non-zero under the profiler.
type WorkloadError struct {
	Code int
	Argv []string
}

func (e *WorkloadError) Error() string {
	return fmt.Sprintf("the workload exited with code %d under nsys (%s)", e.Code, strings.Join(e.Argv, " "))
}

// Profile runs o.Command under Nsight Systems and returns its summary, also
// written to DIR/summary.json: a preflight NVML reading first (its
// fingerprint goes to Summary.GPU.NVML, its warnings to Summary.Warnings),
// then nsys, then the parse, then, with WithNCU, the Nsight Compute pass. The
// workload's output streams through; a failing workload is a *WorkloadError.
func Profile(ctx context.Context, o ProfileOptions) (*parse.Summary, error) {
	o.defaults()
	if len(o.Command) == 0 {
		return nil, errors.New("no workload to profile: give the command after --")
	}
	nsys, err := o.findNsys()
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, err
	}
	o.Dir = dir
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("output folder: %w", err)
	}
	fp := o.preflight()

	base := filepath.Join(dir, "profile")
	args := o.NsysArgs
	if len(args) == 0 {
		args = ProfileNsysArgs
	}
	argv := append([]string{"profile"}, args...)
	argv = append(argv, o.NsysExtra...)
	argv = append(argv, "-f", "true", "-o", base)
	argv = append(argv, o.Command...)
	os.Remove(base + ".sqlite") // never parse a stale export
	o.progress("profiling: %s %s", nsys, strings.Join(argv, " "))
	code, err := o.run(ctx, nsys, argv)
	if err != nil {
		return nil, fmt.Errorf("running nsys: %w", err)
	}
	if code != 0 {
		return nil, &WorkloadError{Code: code, Argv: o.Command}
	}
	export, err := o.export(ctx, nsys, base)
	if err != nil {
		return nil, err
	}
	o.progress("parsing %s", export)
	s, err := LoadSummary(export, o.Parse)
	if err != nil {
		return nil, err
	}
	attachNVML(s, fp)
	if o.WithNCU {
		if err := profileNCU(ctx, &o, s); err != nil {
			o.progress("Nsight Compute pass failed, summary has no bandwidth section: %v", err)
			s.Warnings = append(s.Warnings, parse.Warning{Code: "ncu_failed", Message: oneLine(err).Error()})
		}
	}
	out, err := finishSummary(s, dir, o.Extra)
	if err != nil {
		return nil, err
	}
	o.progress("wrote %s", out)
	return s, nil
}

// finishSummary adds the extra metrics files and gate's version to a fresh
// profile's summary and writes it to dir/summary.json, whose path it returns.
func finishSummary(s *parse.Summary, dir string, extra []string) (string, error) {
	if err := AttachExtra(s, extra...); err != nil {
		return "", err
	}
	if s.Source.GateVersion == "" {
		s.Source.GateVersion = version()
	}
	var buf bytes.Buffer
	if err := WriteSummaryJSON(&buf, s); err != nil {
		return "", err
	}
	out := filepath.Join(dir, "summary.json")
	return out, os.WriteFile(out, buf.Bytes(), 0o644)
}

func (o *ProfileOptions) defaults() {
	if o.Dir == "" {
		o.Dir = "gate-profile"
	}
	if o.NCUTop <= 0 {
		o.NCUTop = 5
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

func (o *ProfileOptions) lookPath(name string) (string, error) { return o.LookPath(name) }

func (o *ProfileOptions) progress(format string, args ...any) {
	fmt.Fprintf(o.Progress, "gate: "+format+"\n", args...)
}

func (o *ProfileOptions) findNsys() (string, error) {
	name := o.Nsys
	if name == "" {
		name = "nsys"
	}
	p, err := o.LookPath(name)
	if err != nil {
		if o.Nsys != "" {
			return "", fmt.Errorf("nsys %s: %v: %s", o.Nsys, err, nsysHint)
		}
		return "", fmt.Errorf("nsys not found on the PATH: %s", nsysHint)
	}
	return p, nil
}

// run runs name with args, streaming to the workload's streams, and returns
// its exit code; err is for a program that could not be started at all.
func (o *ProfileOptions) run(ctx context.Context, name string, args []string) (int, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = nil
	cmd.Stdout, cmd.Stderr = o.Stdout, o.Stderr
	cmd.Env = o.Env
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return exit.ExitCode(), nil
	}
	return 0, err
}

// export returns the SQLite export nsys made, or makes it from the report
// when the nsys flags did not ask for one.
func (o *ProfileOptions) export(ctx context.Context, nsys, base string) (string, error) {
	export := base + ".sqlite"
	if fi, err := os.Stat(export); err == nil && fi.Size() > 0 {
		return export, nil
	}
	report := base + ".nsys-rep"
	if _, err := os.Stat(report); err != nil {
		return "", fmt.Errorf("nsys wrote neither %s nor %s: did the workload launch any CUDA work?", filepath.Base(export), filepath.Base(report))
	}
	argv := []string{"export", "--type", "sqlite", "--force-overwrite", "true", "--output", export, report}
	o.progress("exporting: %s %s", nsys, strings.Join(argv, " "))
	code, err := o.run(ctx, nsys, argv)
	if err != nil || code != 0 {
		return "", fmt.Errorf("nsys export of %s failed (code %d): %v", report, code, err)
	}
	if _, err := os.Stat(export); err != nil {
		return "", fmt.Errorf("nsys export wrote no %s", export)
	}
	return export, nil
}

// preflight reads the GPU before the workload runs and says what it saw.
func (o *ProfileOptions) preflight() *parse.NVML {
	gpu := o.GPU
	if gpu == "" {
		gpu = nvml.GPUFromEnv(o.Getenv)
	}
	fp, err := nvml.Read(o.NVML, gpu)
	if !fp.Available {
		o.progress("preflight: GPU fingerprint unknown (%v)", err)
		return fp
	}
	o.progress("preflight: %s, driver %s, CUDA %s, SM %d MHz, memory %d MHz, %d °C, clock reasons [%s], %d other process(es)",
		fp.Name, fp.Driver, fp.CUDADriver, fp.SMClockMHz, fp.MemClockMHz, fp.TemperatureC, strings.Join(fp.ThrottleReasons, " "), fp.OtherProcesses)
	for _, w := range nvml.Preflight(fp) {
		o.progress("warning: %s", w.Message)
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
