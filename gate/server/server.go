// Package server runs an inference server for `gate profile --server`:
// start it in its own process group (under nsys when asked), wait for its
// health check, drive a fixed, seeded request load against its
// OpenAI-compatible API (load.go), scrape its /metrics before and after, and
// stop the whole group however the run ends. Start at Run and Options; the
// Result carries the serving metrics for the summary's extra section.
package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nsys-gate/gate/parse"
	"github.com/nsys-gate/gate/parse/vllm"
)

// Capture modes of the server mode: how nsys is told which part of the run
// to record.
const (
	// CaptureAPI records between the server's /start_profile and
	// /stop_profile (nsys --capture-range=cudaProfilerApi): vLLM calls
	// cudaProfilerStart/Stop there when started with the CUDA profiler
	// (--profiler-config profiler=cuda, or VLLM_TORCH_PROFILER_DIR in older
	// versions). Start-up, model loading and warm-up stay out of the report.
	CaptureAPI = "api"
	// CaptureDelay records from Delay after launch for Duration (nsys
	// --delay/--duration), for servers without the profile endpoints.
	CaptureDelay = "delay"
	// CaptureNone records the whole life of the server.
	CaptureNone = "none"
)

// DefaultNsysArgs returns the nsys profile options used when
// Options.NsysArgs is empty: the ones the fixtures were recorded with, plus
// --trace-fork-before-exec for vLLM's worker processes.
func DefaultNsysArgs() []string {
	return []string{"-t", "cuda,nvtx", "-s", "none", "--cpuctxsw=none",
		"--cuda-graph-trace=node", "--trace-fork-before-exec=true"}
}

// Options configures `gate profile --server`: start a server (under
// nsys when Nsys is set), wait until it is healthy, drive a fixed load
// against its OpenAI-compatible API, scrape its metrics and shut it down.
// Zero fields take the defaults documented on each.
type Options struct {
	// Command is the server's command line, e.g. vllm serve MODEL --port 8000.
	Command []string
	// URL is the server's base URL (default http://127.0.0.1:8000).
	URL string
	// HealthPath answers 200 once the server is ready (default /health).
	HealthPath string
	// ReadyTimeout bounds the wait for HealthPath (default 10 minutes:
	// loading weights and capturing CUDA graphs takes minutes).
	ReadyTimeout time.Duration

	// Nsys is the nsys binary; empty runs the server without profiling.
	Nsys string
	// NsysArgs are nsys profile options (default DefaultNsysArgs()).
	NsysArgs []string
	// Output is the report path without extension (default "gate-server");
	// nsys writes Output.nsys-rep and Output.sqlite.
	Output string
	// Capture is CaptureAPI (default), CaptureDelay or CaptureNone.
	Capture string
	// Delay and Duration bound the capture in CaptureDelay mode.
	Delay, Duration time.Duration

	// Load is the request load; Warmup requests (default 2, -1 for none)
	// run before the capture and the first metrics scrape.
	Load   LoadOptions
	Warmup int

	// IntGrace, TermGrace: how long the server's process group gets after
	// SIGINT, then after SIGTERM, before SIGKILL (defaults 20 s and 10 s;
	// 5 minutes after SIGINT under nsys, which writes its report then).
	IntGrace, TermGrace time.Duration
	// LogPath receives the server's stdout and stderr (default
	// Output.server.log); it is read as a vLLM log afterwards.
	LogPath string
	// Env is added to the server's environment.
	Env []string
	// HTTP is the client for all requests (default: a plain http.Client).
	HTTP *http.Client
	// Progress, when set, gets gate's progress lines: while the server
	// loads (minutes for weights and CUDA graphs), every Heartbeat (default
	// 30 s) what it waits for and how long it has waited.
	Progress  io.Writer
	Heartbeat time.Duration
}

// LoadOptions is a fixed, reproducible request load: the same prompts, in
// the same order, with the same lengths for a given seed.
type LoadOptions struct {
	Requests     int    // number of measured requests (default 32)
	Concurrency  int    // requests in flight at once (default 4)
	PromptTokens int    // prompt length in words, about one token each (default 128)
	OutputTokens int    // max_tokens, with ignore_eos (default 64)
	Seed         int64  // seeds the prompts
	Model        string // model name; default: the first of GET /v1/models
	// Endpoint is the completions path (default /v1/completions).
	Endpoint string
	// RequestTimeout bounds one request (default 5 minutes).
	RequestTimeout time.Duration
}

// Result is what a server run measured.
type Result struct {
	// Metrics are the load's own measurements (load.*), the change of the
	// server's /metrics over the run (vllm.metrics.*) and its log's
	// statistics (vllm.log.*), sorted by name.
	Metrics  []parse.ExtraMetric
	Warnings []parse.Warning
	// Report is the nsys report path without extension ("" without nsys);
	// Report+".sqlite" is the export to summarise.
	Report    string
	LogPath   string
	Completed int
	Failed    int
	// PGID is the process group the server ran in (gone when Run
	// returns).
	PGID int
}

func (o *Options) defaults() {
	if o.URL == "" {
		o.URL = "http://127.0.0.1:8000"
	}
	o.URL = strings.TrimSuffix(o.URL, "/")
	if o.HealthPath == "" {
		o.HealthPath = "/health"
	}
	if o.ReadyTimeout <= 0 {
		o.ReadyTimeout = 10 * time.Minute
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 30 * time.Second
	}
	if len(o.NsysArgs) == 0 {
		o.NsysArgs = DefaultNsysArgs()
	}
	if o.Output == "" {
		o.Output = "gate-server"
	}
	if o.Capture == "" {
		o.Capture = CaptureAPI
	}
	if o.Warmup == 0 {
		o.Warmup = 2
	}
	if o.IntGrace <= 0 {
		o.IntGrace = 20 * time.Second
		if o.Nsys != "" {
			o.IntGrace = 5 * time.Minute
		}
	}
	if o.TermGrace <= 0 {
		o.TermGrace = 10 * time.Second
	}
	if o.LogPath == "" {
		o.LogPath = o.Output + ".server.log"
	}
	if o.HTTP == nil {
		o.HTTP = &http.Client{}
	}
	l := &o.Load
	if l.Requests <= 0 {
		l.Requests = 32
	}
	if l.Concurrency <= 0 {
		l.Concurrency = 4
	}
	if l.PromptTokens <= 0 {
		l.PromptTokens = 128
	}
	if l.OutputTokens <= 0 {
		l.OutputTokens = 64
	}
	if l.Endpoint == "" {
		l.Endpoint = "/v1/completions"
	}
	if l.RequestTimeout <= 0 {
		l.RequestTimeout = 5 * time.Minute
	}
}

// argv is the command line to start: the server, or nsys wrapping it.
func (o *Options) argv() ([]string, error) {
	if len(o.Command) == 0 {
		return nil, errors.New("server mode: no server command")
	}
	if o.Nsys == "" {
		return o.Command, nil
	}
	a := []string{o.Nsys, "profile"}
	a = append(a, o.NsysArgs...)
	switch o.Capture {
	case CaptureAPI:
		a = append(a, "--capture-range=cudaProfilerApi", "--capture-range-end=stop")
	case CaptureDelay:
		if o.Duration <= 0 {
			return nil, errors.New("server mode: --capture delay needs a duration")
		}
		a = append(a, "--delay="+ceilSeconds(o.Delay), "--duration="+ceilSeconds(o.Duration))
	case CaptureNone:
	default:
		return nil, fmt.Errorf("server mode: capture %q: want api, delay or none", o.Capture)
	}
	a = append(a, "--export=sqlite", "-f", "true", "-o", o.Output, "--")
	return append(a, o.Command...), nil
}

// ceilSeconds is d in whole seconds, rounded up, as nsys's --delay and
// --duration take it.
func ceilSeconds(d time.Duration) string {
	return strconv.Itoa(int((d + time.Second - 1) / time.Second))
}

// Run runs the server mode. Whatever fails after the server started, the
// server's whole process group is stopped before Run returns: SIGINT, then
// SIGTERM, then SIGKILL, each after its grace period.
func Run(ctx context.Context, opt Options) (res *Result, err error) {
	opt.defaults()
	argv, err := opt.argv()
	if err != nil {
		return nil, err
	}
	if dir := filepath.Dir(opt.LogPath); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	if answers(ctx, opt.HTTP, opt.URL+opt.HealthPath) {
		// Measuring a server left over from an earlier run would be wrong
		// and quiet; refuse instead.
		return nil, fmt.Errorf("server mode: something already answers at %s; stop it or use another --server-url", opt.URL)
	}
	srv, err := start(argv, opt)
	if err != nil {
		return nil, err
	}
	res = &Result{LogPath: opt.LogPath, PGID: srv.pgid}
	defer func() {
		if err = srv.finish(opt, res, err); err != nil {
			res = nil
		}
	}()
	return res, srv.drive(ctx, opt, res)
}

// start launches argv in its own process group, so that the server, nsys
// and every worker they start can be signalled together and none is left
// behind, with its output going to opt.LogPath.
func start(argv []string, opt Options) (*serverProc, error) {
	logf, err := os.Create(opt.LogPath)
	if err != nil {
		return nil, fmt.Errorf("server log: %w", err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Env = append(os.Environ(), opt.Env...)
	// An *os.File, not a pipe: Wait returns when the leader exits even if a
	// child still holds the descriptor.
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("starting %s: %w", argv[0], err)
	}
	srv := &serverProc{pgid: cmd.Process.Pid, exited: make(chan struct{}), log: opt.LogPath, logFile: logf}
	go func() {
		srv.waitErr = cmd.Wait()
		close(srv.exited)
	}()
	return srv, nil
}

// drive waits for the server, warms it up, and runs the measured load
// between two /metrics scrapes (and, in CaptureAPI mode, between
// /start_profile and /stop_profile), adding what it measured to res.
func (p *serverProc) drive(ctx context.Context, opt Options, res *Result) error {
	if err := p.waitReady(ctx, opt); err != nil {
		return err
	}
	model := opt.Load.Model
	if model == "" {
		model = firstModel(ctx, opt.HTTP, opt.URL)
	}
	lctx, cancel := p.context(ctx)
	defer cancel()
	if opt.Warmup > 0 {
		warm := opt.Load
		warm.Requests, warm.Seed = opt.Warmup, opt.Load.Seed-1
		if rs, _ := runLoad(lctx, opt.HTTP, opt.URL, warm, model); p.goneAfter(rs) {
			return p.crashed("warm-up", rs)
		}
	}
	capture := opt.Capture == CaptureAPI && opt.Nsys != ""
	before, ws := scrape(lctx, opt.HTTP, opt.URL)
	res.Warnings = append(res.Warnings, ws...)
	if capture {
		if err := post(lctx, opt.HTTP, opt.URL+"/start_profile"); err != nil {
			return fmt.Errorf("%w: the server cannot start a capture (a vLLM server needs the CUDA profiler enabled: --profiler-config profiler=cuda, or VLLM_TORCH_PROFILER_DIR before 0.11); use --capture delay or none", err)
		}
	}
	rs, wall := runLoad(lctx, opt.HTTP, opt.URL, opt.Load, model)
	if p.goneAfter(rs) {
		return p.crashed("load run", rs)
	}
	if capture {
		if err := post(lctx, opt.HTTP, opt.URL+"/stop_profile"); err != nil {
			res.Warnings = append(res.Warnings, parse.Warning{Code: "server-stop-profile", Message: err.Error()})
		}
	}
	after, ws := scrape(lctx, opt.HTTP, opt.URL)
	res.Warnings = append(res.Warnings, ws...)
	res.addScrapes(before, after)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	ms, ws, completed, failed := loadMetrics(rs, wall)
	res.Metrics = append(res.Metrics, ms...)
	res.Warnings = append(res.Warnings, ws...)
	res.Completed, res.Failed = completed, failed
	if completed == 0 {
		return fmt.Errorf("server mode: all %d requests failed: %s", failed, firstError(rs))
	}
	return nil
}

// finish stops the process group and closes the log. After a run that
// failed (err) it returns the error with the log's last lines; after one
// that worked it adds the shutdown warnings, the log's statistics and the
// export's path to res.
func (p *serverProc) finish(opt Options, res *Result, err error) error {
	stopErr := p.stop(opt.IntGrace, opt.TermGrace)
	p.logFile.Close()
	if stopErr != nil {
		err = errors.Join(err, stopErr)
	}
	if err != nil {
		return fmt.Errorf("%w%s", err, p.tail())
	}
	res.Warnings = append(res.Warnings, p.exitWarning()...)
	res.addLog(opt.LogPath)
	if opt.Nsys != "" {
		res.Report = opt.Output
		if _, statErr := os.Stat(opt.Output + ".sqlite"); statErr != nil {
			res.Warnings = append(res.Warnings, parse.Warning{Code: "server-no-export",
				Message: fmt.Sprintf("nsys wrote no %s.sqlite (%v); see %s", opt.Output, statErr, opt.LogPath)})
		}
	}
	vllm.SortMetrics(res.Metrics)
	return nil
}

// addScrapes adds the change of the server's /metrics over the measured run.
func (r *Result) addScrapes(before, after *vllm.Scrape) {
	if before == nil || after == nil {
		return
	}
	d, ws := after.Sub(before)
	r.Warnings = append(r.Warnings, ws...)
	ms, ws := d.Metrics("server /metrics")
	r.Metrics = append(r.Metrics, ms...)
	r.Warnings = append(r.Warnings, ws...)
}

// answers reports whether anything answers HTTP at url.
func answers(ctx context.Context, client *http.Client, url string) bool {
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return true
}

// addLog reads the server's log as a vLLM log; a server that prints no
// statistics lines (not vLLM) adds nothing.
func (r *Result) addLog(path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		return
	}
	ms, ws := vllm.ParseLog(data, "server log")
	r.Metrics = append(r.Metrics, ms...)
	for _, w := range ws {
		if w.Code != vllm.WarnUnrecognised {
			r.Warnings = append(r.Warnings, w)
		}
	}
}

// serverProc is the running server's process group.
type serverProc struct {
	pgid     int
	signaled syscall.Signal // the last signal stop sent
	exited   chan struct{}  // closed when the group leader has exited
	waitErr  error
	log      string   // the log's path
	logFile  *os.File // the log, written by the server
}

func (p *serverProc) gone() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// goneAfter reports whether the server exited during a load that returned
// rs. A crash fails the requests in flight a moment before the process is
// reaped, so when any request failed it waits a little for the exit.
func (p *serverProc) goneAfter(rs []reqResult) bool {
	if p.gone() {
		return true
	}
	for _, r := range rs {
		if r.err != "" {
			select {
			case <-p.exited:
				return true
			case <-time.After(2 * time.Second):
				return false
			}
		}
	}
	return false
}

// context is ctx, also cancelled when the server exits, so that a crash
// stops the load at once.
func (p *serverProc) context(ctx context.Context) (context.Context, context.CancelFunc) {
	c, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-p.exited:
			cancel()
		case <-c.Done():
		}
	}()
	return c, cancel
}

func (p *serverProc) crashed(phase string, rs []reqResult) error {
	done := 0
	for _, r := range rs {
		if r.err == "" {
			done++
		}
	}
	return fmt.Errorf("server exited during the %s (%s) after %d of %d requests completed", phase, exitText(p.waitErr), done, len(rs))
}

func exitText(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// exitWarning notes a server that needed more than SIGINT to stop, or
// that failed on the way out.
func (p *serverProc) exitWarning() []parse.Warning {
	if p.signaled != 0 && p.signaled != syscall.SIGINT {
		return []parse.Warning{{Code: "server-exit", Message: fmt.Sprintf("server did not stop on SIGINT; its process group was stopped with %s (%s)", sigName(p.signaled), exitText(p.waitErr))}}
	}
	var ee *exec.ExitError
	if p.waitErr == nil || !errors.As(p.waitErr, &ee) {
		return nil
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGINT {
		return nil
	}
	return []parse.Warning{{Code: "server-exit", Message: "server exited with " + p.waitErr.Error() + " on shutdown"}}
}

func sigName(s syscall.Signal) string {
	switch s {
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGKILL:
		return "SIGKILL"
	}
	return s.String()
}

// tail returns the last lines of the server's log, for error messages.
func (p *serverProc) tail() string {
	data, err := os.ReadFile(p.log)
	if err != nil || len(bytes.TrimSpace(data)) == 0 {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > 10 {
		lines = lines[len(lines)-10:]
	}
	return fmt.Sprintf("\nlast lines of the server log %s:\n  %s", p.log, strings.Join(lines, "\n  "))
}

// waitReady polls the health path until it answers 200, the server exits,
// ReadyTimeout passes or ctx ends.
func (p *serverProc) waitReady(ctx context.Context, opt Options) error {
	deadline := time.NewTimer(opt.ReadyTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	beat := time.NewTicker(opt.Heartbeat)
	defer beat.Stop()
	start := time.Now()
	last := "no answer"
	fmt.Fprintf(opt.Progress, "gate: server mode: waiting for %s%s to answer 200 (up to %v)\n", opt.URL, opt.HealthPath, opt.ReadyTimeout)
	for {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		req, _ := http.NewRequestWithContext(rctx, http.MethodGet, opt.URL+opt.HealthPath, nil)
		resp, err := opt.HTTP.Do(req)
		if err == nil {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				cancel()
				fmt.Fprintf(opt.Progress, "gate: server mode: ready after %v\n", time.Since(start).Round(100*time.Millisecond))
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		cancel()
		select {
		case <-p.exited:
			return fmt.Errorf("server exited before it was ready (%s)", exitText(p.waitErr))
		case <-deadline.C:
			return fmt.Errorf("server not ready after %v: %s%s last answered: %s", opt.ReadyTimeout, opt.URL, opt.HealthPath, last)
		case <-ctx.Done():
			return ctx.Err()
		case <-beat.C:
			fmt.Fprintf(opt.Progress, "gate: server mode: still waiting for %s%s after %v of %v (last: %s; server log: %s)\n",
				opt.URL, opt.HealthPath, time.Since(start).Round(time.Second), opt.ReadyTimeout, clipText(last, 120), p.log)
		case <-tick.C:
		}
	}
}

// clipText cuts s to n bytes for a progress line.
func clipText(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// stop ends the whole process group: SIGINT, then SIGTERM, then SIGKILL,
// each until every member has exited or its grace period ends.
func (p *serverProc) stop(intGrace, termGrace time.Duration) error {
	for _, step := range []struct {
		sig   syscall.Signal
		grace time.Duration
	}{{syscall.SIGINT, intGrace}, {syscall.SIGTERM, termGrace}, {syscall.SIGKILL, 10 * time.Second}} {
		if p.gone() && !groupAlive(p.pgid) {
			return nil
		}
		p.signaled = step.sig
		if err := syscall.Kill(-p.pgid, step.sig); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("signalling process group %d: %w", p.pgid, err)
		}
		deadline := time.Now().Add(step.grace)
		for time.Now().Before(deadline) {
			if p.gone() && !groupAlive(p.pgid) {
				return nil
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return fmt.Errorf("process group %d still has live members after SIGKILL", p.pgid)
}

// groupAlive reports whether any process of group pgid is still running.
// Zombies do not count: one reaped late by a parent that is itself gone is
// not a leftover. It reads /proc where it can, else asks kill(2).
func groupAlive(pgid int) bool {
	n, err := groupMembers(pgid)
	if err != nil {
		err := syscall.Kill(-pgid, 0)
		return err == nil || errors.Is(err, syscall.EPERM)
	}
	return n > 0
}

// groupMembers counts the running (not zombie) processes whose process
// group is pgid, from /proc/PID/stat.
func groupMembers(pgid int) (int, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces and parens.
		i := bytes.LastIndexByte(data, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(data[i+1:]))
		if len(f) < 3 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		if g, err := strconv.Atoi(f[2]); err == nil && g == pgid {
			n++
		}
	}
	return n, nil
}
