package server

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nsys-gate/gate/gate/server/servertest"
	"github.com/nsys-gate/gate/parse"
)

var standinBin = struct {
	sync.Mutex
	path string
}{}

// standin builds testdata/standin once per test binary.
func standin(t *testing.T) string {
	t.Helper()
	standinBin.Lock()
	defer standinBin.Unlock()
	if standinBin.path == "" {
		dir, err := os.MkdirTemp("", "gate-standin")
		if err != nil {
			t.Fatal(err)
		}
		standinBin.path = servertest.Build(t, dir)
	}
	return standinBin.path
}

// serverOpts is a small, fast load against the stand-in on its own port.
func serverOpts(t *testing.T, flags ...string) (Options, string) {
	addr := servertest.FreeAddr(t)
	dir := t.TempDir()
	args := append([]string{standin(t), "-addr", addr, "-log-interval", "50ms"}, flags...)
	return Options{
		Command:      args,
		URL:          "http://" + addr,
		ReadyTimeout: 10 * time.Second,
		Output:       filepath.Join(dir, "run"),
		Capture:      CaptureNone,
		Warmup:       1,
		IntGrace:     3 * time.Second,
		TermGrace:    3 * time.Second,
		Load:         LoadOptions{Requests: 12, Concurrency: 3, PromptTokens: 8, OutputTokens: 16, Seed: 1},
	}, addr
}

func noLeftovers(t *testing.T, addr string) {
	t.Helper()
	servertest.NoLeftovers(t, addr)
}

func extraByName(ms []parse.ExtraMetric) map[string]parse.ExtraMetric {
	out := map[string]parse.ExtraMetric{}
	for _, m := range ms {
		out[m.Name] = m
	}
	return out
}

func TestServerEndToEnd(t *testing.T) {
	opt, addr := serverOpts(t, "-spawn-child")
	defer noLeftovers(t, addr)
	// A fake nsys that checks the capture flags and runs the server.
	fake := filepath.Join(t.TempDir(), "nsys")
	argsFile := fake + ".args"
	os.WriteFile(fake, []byte("#!/bin/sh\necho \"$@\" > "+argsFile+"\nwhile [ \"$1\" != \"--\" ]; do [ \"$1\" = -o ] && out=$2; shift; done\nshift\n: > \"$out.sqlite\"\nexec \"$@\"\n"), 0o755)
	opt.Nsys, opt.Capture = fake, CaptureAPI
	res, err := Run(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if res.Completed != 12 || res.Failed != 0 || res.Report != opt.Output {
		t.Errorf("completed %d failed %d report %q", res.Completed, res.Failed, res.Report)
	}
	got := extraByName(res.Metrics)
	if m := got["load.ttft.p50_ms"]; len(m.Samples) != 12 || m.Better != "lower" || m.Value <= 0 {
		t.Errorf("load ttft: %+v", m)
	}
	if m := got["load.itl.p50_ms"]; m.Value <= 0 || m.Value > 500 {
		t.Errorf("load itl p50: %+v", m)
	}
	// The scrape is the difference over the measured run: warm-up excluded.
	if m := got["vllm.metrics.requests_finished"]; m.Value != 12 {
		t.Errorf("requests_finished %v, want 12 (warm-up excluded)", m.Value)
	}
	if m := got["vllm.metrics.generation_tokens"]; m.Value != 12*16 {
		t.Errorf("generation_tokens %v, want %d", m.Value, 12*16)
	}
	if _, ok := got["vllm.metrics.ttft.mean_ms"]; !ok {
		t.Errorf("no vllm.metrics.ttft.mean_ms")
	}
	if _, ok := got["vllm.log.generation_throughput"]; !ok {
		t.Errorf("server log not read: %v", res.Warnings)
	}
	args, _ := os.ReadFile(argsFile)
	for _, want := range []string{"profile", "--capture-range=cudaProfilerApi", "--export=sqlite", "-o " + opt.Output, "-- " + opt.Command[0]} {
		if !strings.Contains(string(args), want) {
			t.Errorf("nsys args %q lack %q", args, want)
		}
	}
	log, _ := os.ReadFile(res.LogPath)
	if i, j := strings.Index(string(log), "profiling true"), strings.Index(string(log), "profiling false"); i < 0 || j < i {
		t.Errorf("start/stop_profile not called in order:\n%s", log)
	}
	if groupAlive(res.PGID) {
		t.Errorf("process group %d still alive", res.PGID)
	}
	if !strings.Contains(string(log), "child pid") {
		t.Errorf("stand-in did not start its child")
	}
}

func TestServerReproducibleLoad(t *testing.T) {
	first, again := prompt(3, 7, 20), prompt(3, 7, 20)
	if first != again || first == prompt(4, 7, 20) || first == prompt(3, 8, 20) {
		t.Errorf("prompts are not a function of (seed, index)")
	}
	if n := len(strings.Fields(prompt(1, 0, 33))); n != 33 {
		t.Errorf("prompt words %d", n)
	}
}

func TestServerFailures(t *testing.T) {
	for _, tc := range []struct {
		name    string
		flags   []string
		tweak   func(*Options)
		wantErr string
		maxTime time.Duration
	}{
		{"readiness timeout", []string{"-start-delay", "1m", "-spawn-child"},
			func(o *Options) { o.ReadyTimeout = 700 * time.Millisecond }, "not ready after 700ms", 8 * time.Second},
		{"crash mid-run", []string{"-crash-after", "6"}, nil, "exited during the load run (exit status 3) after", 10 * time.Second},
		{"exits before ready", []string{"-addr", "not-an-address"}, nil, "exited before it was ready", 8 * time.Second},
		{"too slow for the request timeout", []string{"-token-delay", "200ms"},
			func(o *Options) { o.Warmup = -1; o.Load.RequestTimeout = 300 * time.Millisecond }, "all 12 requests failed", 15 * time.Second},
		{"no profile endpoints", []string{"-no-profile-endpoints"},
			func(o *Options) { o.Nsys = writeExecNsys(t); o.Capture = CaptureAPI }, "use --capture delay or none", 8 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opt, addr := serverOpts(t, tc.flags...)
			if tc.tweak != nil {
				tc.tweak(&opt)
			}
			start := time.Now()
			res, err := Run(context.Background(), opt)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if res != nil {
				t.Errorf("result with an error: %+v", res)
			}
			if d := time.Since(start); d > tc.maxTime {
				t.Errorf("took %v", d)
			}
			noLeftovers(t, addr)
		})
	}
}

// TestServerPortTaken: a server already answering at the URL (left over
// from an earlier job) is refused, not measured.
func TestServerPortTaken(t *testing.T) {
	opt, addr := serverOpts(t)
	other := exec.Command(opt.Command[0], "-addr", addr)
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { other.Process.Kill(); other.Wait() }()
	deadline := time.Now().Add(5 * time.Second)
	for !answers(context.Background(), http.DefaultClient, opt.URL+"/health") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	_, err := Run(context.Background(), opt)
	if err == nil || !strings.Contains(err.Error(), "already answers") {
		t.Errorf("err = %v", err)
	}
}

// writeExecNsys is a fake nsys that just runs the command after "--".
func writeExecNsys(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "nsys")
	os.WriteFile(p, []byte("#!/bin/sh\nwhile [ \"$1\" != \"--\" ]; do shift; done\nshift\nexec \"$@\"\n"), 0o755)
	return p
}

func TestServerSlowResponses(t *testing.T) {
	opt, addr := serverOpts(t, "-token-delay", "25ms", "-prefill-delay", "60ms")
	opt.Load.OutputTokens = 6
	defer noLeftovers(t, addr)
	res, err := Run(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	got := extraByName(res.Metrics)
	if m := got["load.itl.p50_ms"]; m.Value < 20 || m.Value > 200 {
		t.Errorf("itl p50 %v ms, want about 25", m.Value)
	}
	if m := got["load.ttft.p50_ms"]; m.Value < 55 {
		t.Errorf("ttft p50 %v ms, want at least the 60 ms prefill", m.Value)
	}
	if m := got["vllm.metrics.itl.mean_ms"]; m.Value < 20 {
		t.Errorf("server-side itl %v", m.Value)
	}
}

// TestServerShutdownEscalates: a server that ignores SIGINT (and one that
// ignores SIGTERM too, with a child) is still gone when Run returns.
func TestServerShutdownEscalates(t *testing.T) {
	for _, tc := range []struct {
		flags []string
		sig   syscall.Signal
	}{
		{[]string{"-ignore-sigint", "-spawn-child"}, syscall.SIGTERM},
		{[]string{"-ignore-sigint", "-ignore-sigterm"}, syscall.SIGKILL},
	} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			opt, addr := serverOpts(t, tc.flags...)
			opt.IntGrace, opt.TermGrace = 300*time.Millisecond, 300*time.Millisecond
			res, err := Run(context.Background(), opt)
			if err != nil {
				t.Fatal(err)
			}
			noLeftovers(t, addr)
			found := false
			for _, w := range res.Warnings {
				found = found || w.Code == "server-exit" && strings.Contains(w.Message, sigName(tc.sig))
			}
			if !found {
				t.Errorf("no server-exit warning naming %v: %v", tc.sig, res.Warnings)
			}
		})
	}
}

func TestServerArgv(t *testing.T) {
	base := Options{Command: []string{"vllm", "serve", "m"}, Nsys: "/x/nsys", Output: "out"}
	for _, tc := range []struct {
		capture string
		d, dur  time.Duration
		want    []string
		err     string
	}{
		{CaptureAPI, 0, 0, []string{"--capture-range=cudaProfilerApi", "--capture-range-end=stop"}, ""},
		{CaptureDelay, 30 * time.Second, 1500 * time.Millisecond, []string{"--delay=30", "--duration=2"}, ""},
		{CaptureDelay, 30 * time.Second, 0, nil, "needs a duration"},
		{CaptureNone, 0, 0, []string{}, ""},
		{"later", 0, 0, nil, "want api, delay or none"},
	} {
		o := base
		o.Capture, o.Delay, o.Duration = tc.capture, tc.d, tc.dur
		o.defaults()
		o.Capture = tc.capture
		argv, err := o.argv()
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err %v, want %q", tc.capture, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		want := append([]string{"/x/nsys", "profile"}, DefaultNsysArgs()...)
		want = append(want, tc.want...)
		want = append(want, "--export=sqlite", "-f", "true", "-o", "out", "--", "vllm", "serve", "m")
		if !reflect.DeepEqual(argv, want) {
			t.Errorf("%s:\n got %q\nwant %q", tc.capture, argv, want)
		}
	}
	o := Options{Command: []string{"srv"}}
	if argv, _ := o.argv(); !reflect.DeepEqual(argv, []string{"srv"}) {
		t.Errorf("without nsys: %q", argv)
	}
	if _, err := (&Options{}).argv(); err == nil {
		t.Errorf("no command: no error")
	}
}

// TestServerInterrupted: gate itself interrupted mid-run (its context
// cancelled) still stops the server's process group.
func TestServerInterrupted(t *testing.T) {
	opt, addr := serverOpts(t, "-token-delay", "50ms", "-spawn-child")
	opt.Load.Requests = 200
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Run(ctx, opt)
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the context's error", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v to give up", d)
	}
	noLeftovers(t, addr)
}

// TestServerPythonStandin runs testdata/gpu/standin_server.py, the stand-in
// the H200 run uses, on whatever PyTorch is here (a small model on the CPU
// unless GATE_STANDIN_DEVICE=cuda). It skips where python3 (or
// $GATE_PYTHON) has no torch.
func TestServerPythonStandin(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PyTorch server")
	}
	py := os.Getenv("GATE_PYTHON") // e.g. /usr/bin/python3 where python3 is another one
	if py == "" {
		py = "python3"
	}
	if err := exec.Command(py, "-c", "import torch").Run(); err != nil {
		t.Skip(py + " has no torch (set GATE_PYTHON to one that has)")
	}
	device := os.Getenv("GATE_STANDIN_DEVICE")
	if device == "" {
		device = "cpu"
	}
	addr := servertest.FreeAddr(t)
	host, port, _ := net.SplitHostPort(addr)
	dir := t.TempDir()
	opt := Options{
		Command: []string{py, "../../testdata/gpu/standin_server.py", "--host", host, "--port", port,
			"--workload", "../../../shared/device/llm_workload.py", "--device", device, "--log-interval", "0.2",
			"--layers", "2", "--d-model", "256", "--d-ff", "512", "--heads", "4", "--vocab", "1000",
			"--max-prompt", "32", "--max-output", "8"},
		URL:          "http://" + addr,
		ReadyTimeout: 2 * time.Minute,
		Output:       filepath.Join(dir, "run"),
		Capture:      CaptureNone,
		Warmup:       1,
		Load:         LoadOptions{Requests: 6, Concurrency: 2, PromptTokens: 16, OutputTokens: 6, Seed: 1},
	}
	if _, err := os.Stat("../../../shared/device/llm_workload.py"); err != nil {
		t.Skip("no ../../../shared/device/llm_workload.py")
	}
	res, err := Run(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	defer noLeftovers(t, port)
	got := extraByName(res.Metrics)
	if res.Completed != 6 || got["vllm.metrics.generation_tokens"].Value != 36 || got["load.itl.mean_ms"].Value <= 0 {
		t.Errorf("completed %d, generation tokens %v, itl %v; warnings %v", res.Completed, got["vllm.metrics.generation_tokens"].Value, got["load.itl.mean_ms"].Value, res.Warnings)
	}
}

// TestServerHeartbeat: while the server loads, progress says what gate
// waits for and for how long, instead of minutes of silence.
func TestServerHeartbeat(t *testing.T) {
	opt, addr := serverOpts(t, "-start-delay", "1m", "-spawn-child")
	var progress bytes.Buffer
	opt.ReadyTimeout, opt.Heartbeat, opt.Progress = 1200*time.Millisecond, 300*time.Millisecond, &progress
	if _, err := Run(context.Background(), opt); err == nil || !strings.Contains(err.Error(), "not ready after") {
		t.Fatalf("err = %v, want not ready", err)
	}
	noLeftovers(t, addr)
	out := progress.String()
	for _, want := range []string{
		"gate: server mode: waiting for " + opt.URL + "/health to answer 200 (up to 1.2s)\n",
		"gate: server mode: still waiting for " + opt.URL + "/health after ",
		"server log: " + opt.Output + ".server.log)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("progress lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "still waiting"); n < 2 || n > 5 {
		t.Errorf("%d heartbeats in 1.2 s at one per 300 ms:\n%s", n, out)
	}
}
