package profile

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nsys-gate/gate/gate/nvml"
	"github.com/nsys-gate/gate/gate/profile/profiletest"
	"github.com/nsys-gate/gate/gate/server"
	"github.com/nsys-gate/gate/gate/server/servertest"
	"github.com/nsys-gate/gate/parse"
)

func h200Fake(reasons uint64, pids ...uint32) *nvml.Fake {
	d := nvml.H200()
	d.Reasons, d.PIDs = reasons, pids
	return &nvml.Fake{Driver: "580.159.04", CUDA: 13000, Devices: []nvml.FakeDevice{d}}
}

func TestProfile(t *testing.T) {
	f := profiletest.Install(t, false)
	var stdout, stderr bytes.Buffer
	s, err := Run(context.Background(), Options{
		Command: []string{"sh", "-c", "echo tokens/s 493; echo oops >&2"},
		Dir:     f.Out,
		Parse:   parse.Options{Scope: "benchmark"},
		NVML:    h200Fake(nvml.ReasonGPUIdle),
		Stdout:  &stdout, Stderr: &stderr,
	})
	if err != nil {
		t.Fatal(err)
	}
	// The workload's output (and nsys's) is kept in the log, not streamed.
	if stdout.Len() != 0 || strings.Contains(stderr.String(), "oops\n") {
		t.Errorf("workload output streamed: stdout %q stderr %q", stdout.String(), stderr.String())
	}
	if log, err := os.ReadFile(filepath.Join(f.Out, nsysLog)); err != nil || !strings.Contains(string(log), "tokens/s 493\n") || !strings.Contains(string(log), "oops\n") {
		t.Errorf("%s lacks the workload's output: %q %v", nsysLog, log, err)
	}
	for _, want := range []string{"gate: preflight: NVIDIA H200, driver 580.159.04, CUDA 13.0", "gate: profiling: ",
		"gate: profiling: output in " + filepath.Join(f.Out, nsysLog), "gate: profiling: done in ", "gate: parsing ",
		"gate: parsing: done in ", ", 4 decode steps, 16 kernels", "gate: wrote "} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, stderr.String())
		}
	}
	calls := f.Calls(t)
	want := "nsys profile -t cuda,nvtx -s none --cpuctxsw=none --cuda-graph-trace=node --export=sqlite " +
		"--gpu-metrics-devices=all --gpu-metrics-frequency=5000 -f true -o " +
		filepath.Join(f.Out, "profile") + " sh -c echo tokens/s 493; echo oops >&2"
	if len(calls) != 1 || calls[0] != want {
		t.Errorf("nsys calls:\n%q\nwant\n%q", calls, want)
	}
	if s.Phases[parse.PhaseDecode] == nil || s.Phases[parse.PhaseDecode].Steps != 4 || s.Source.File != "profile.sqlite" {
		t.Errorf("summary of the probe export: source %+v phases %v", s.Source, s.Phases)
	}
	if s.GPU.NVML == nil || !s.GPU.NVML.Available || s.GPU.NVML.Name != "NVIDIA H200" {
		t.Errorf("NVML fingerprint not attached: %+v", s.GPU.NVML)
	}
	if s.Bandwidth != nil {
		t.Error("bandwidth section without --with-ncu")
	}
	for _, w := range s.Warnings {
		if strings.HasPrefix(w.Code, "gpu_") {
			t.Errorf("idle GPU gave warning %v", w)
		}
	}
	file, err := os.Open(filepath.Join(f.Out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	back, err := parse.DecodeSummary(file)
	if err != nil {
		t.Fatal(err)
	}
	if back.GPU.NVML == nil || back.GPU.NVML.UUID != s.GPU.NVML.UUID || len(back.Kernels) != len(s.Kernels) {
		t.Errorf("summary.json differs from the returned summary")
	}
}

func TestProfilePreflightWarnings(t *testing.T) {
	f := profiletest.Install(t, false)
	var stderr bytes.Buffer
	s, err := Run(context.Background(), Options{
		Command: []string{"true"}, Dir: f.Out,
		NVML:   h200Fake(nvml.ReasonSWThermalSlowdown, 4242),
		Stderr: &stderr,
	})
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]bool{}
	for _, w := range s.Warnings {
		codes[w.Code] = true
	}
	if !codes["gpu_throttled"] || !codes["gpu_shared"] {
		t.Errorf("warnings %v lack gpu_throttled and gpu_shared", s.Warnings)
	}
	if !strings.Contains(stderr.String(), "gate: warning: GPU clocks were held down") {
		t.Errorf("no preflight warning on stderr:\n%s", stderr.String())
	}
}

func TestProfileWithoutNVML(t *testing.T) {
	f := profiletest.Install(t, false)
	var stderr bytes.Buffer
	s, err := Run(context.Background(), Options{
		Command: []string{"true"}, Dir: f.Out, NVML: &nvml.Fake{Unavailable: true}, Stderr: &stderr,
	})
	if err != nil {
		t.Fatal(err)
	}
	if s.GPU.NVML == nil || s.GPU.NVML.Available {
		t.Errorf("NVML = %+v, want recorded as unavailable", s.GPU.NVML)
	}
	if !strings.Contains(stderr.String(), "GPU fingerprint unknown") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
}

func TestProfileWorkloadFails(t *testing.T) {
	f := profiletest.Install(t, false)
	var stdout, stderr bytes.Buffer
	_, err := Run(context.Background(), Options{
		Command: []string{"sh", "-c", `echo partial; printf '[2/2] [=   10%%]\r[2/2] [====100%%] done\n'; exit 7`}, Dir: f.Out,
		NVML: h200Fake(0), Stdout: &stdout, Stderr: &stderr,
	})
	var we *WorkloadError
	if !errors.As(err, &we) || we.Code != 7 {
		t.Fatalf("err = %v, want a WorkloadError with code 7", err)
	}
	if !strings.Contains(err.Error(), "code 7") || stdout.Len() != 0 {
		t.Errorf("err %q, stdout %q", err, stdout.String())
	}
	// A failure shows the end of the log, as a terminal showed it.
	if want := "gate: profiling: exited with code 7 after "; !strings.Contains(stderr.String(), want) || !strings.Contains(stderr.String(), "\n  partial\n  [2/2] [====100%] done\n") {
		t.Errorf("stderr lacks the end of the log:\n%s", stderr.String())
	}
	if _, err := os.Stat(filepath.Join(f.Out, "summary.json")); err == nil {
		t.Error("summary.json written for a failed workload")
	}
}

func TestProfileMissingNsys(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := Run(context.Background(), Options{Command: []string{"true"}, Dir: t.TempDir(), NVML: h200Fake(0)})
	if err == nil || !strings.Contains(err.Error(), "nsys not found") || !strings.Contains(err.Error(), "Nsight Systems") {
		t.Errorf("err = %v, want one naming nsys and what to install", err)
	}
	_, err = Run(context.Background(), Options{Command: []string{"true"}, Nsys: "/no/such/nsys", Dir: t.TempDir(), NVML: h200Fake(0)})
	if err == nil || !strings.Contains(err.Error(), "/no/such/nsys") {
		t.Errorf("err = %v, want one naming the --nsys path", err)
	}
}

// With flags that do not ask nsys for an export, gate runs nsys export itself.
func TestProfileExportsReport(t *testing.T) {
	f := profiletest.Install(t, false)
	var stderr bytes.Buffer
	_, err := Run(context.Background(), Options{
		Command: []string{"true"}, Dir: f.Out, NVML: h200Fake(0), Stderr: &stderr,
		NsysArgs: []string{"-t", "cuda"}, NsysExtra: []string{"--capture-range=cudaProfilerApi"},
	})
	if err != nil {
		t.Fatal(err)
	}
	calls := f.Calls(t)
	if len(calls) != 2 || !strings.HasPrefix(calls[0], "nsys profile -t cuda --gpu-metrics-devices=all --gpu-metrics-frequency=5000 --capture-range=cudaProfilerApi -f true -o ") ||
		!strings.HasPrefix(calls[1], "nsys export --type sqlite") {
		t.Errorf("calls = %q", calls)
	}
	if !strings.Contains(stderr.String(), "gate: exporting: ") {
		t.Errorf("no exporting progress line:\n%s", stderr.String())
	}
}

func TestProfileWithNCU(t *testing.T) {
	f := profiletest.Install(t, true)
	var stdout bytes.Buffer
	s, err := Run(context.Background(), Options{
		Command: []string{"sh", "-c", "echo run"}, Dir: f.Out,
		Parse: parse.Options{Scope: "benchmark"},
		NVML:  h200Fake(0), NCU: &NCUOptions{Top: 3, Skip: 2}, Stdout: &stdout, ShowOutput: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if stdout.String() != "run\nrun\n" {
		t.Errorf("the workload should run twice (nsys, ncu), streamed with ShowOutput: stdout %q", stdout.String())
	}
	for _, log := range []string{nsysLog, "ncu.log"} {
		if b, err := os.ReadFile(filepath.Join(f.Out, log)); err != nil || string(b) != "run\n" {
			t.Errorf("%s = %q, %v; want the workload's output", log, b, err)
		}
	}
	calls := f.Calls(t)
	if len(calls) != 2 || !strings.HasPrefix(calls[1], "ncu ") {
		t.Fatalf("calls = %q", calls)
	}
	top := topKernels(s, 3)
	for _, want := range []string{
		"--csv --page raw --clock-control none --cache-control none",
		"--kernel-name regex:(^|[: ])(" + strings.Join(top, "|") + ")([<(]|$)",
		"--launch-skip 2 --launch-count 3 --filter-mode per-launch-config",
		"--metrics gpu__time_duration.sum,dram__bytes_read.sum,dram__bytes_write.sum,dram__throughput.avg.pct_of_peak_sustained_elapsed,sm__throughput.avg.pct_of_peak_sustained_elapsed",
		"--nvtx --nvtx-include benchmark/",
		"--log-file " + filepath.Join(f.Out, "ncu.csv") + " sh -c echo run",
	} {
		if !strings.Contains(calls[1], want) {
			t.Errorf("ncu call lacks %q:\n%s", want, calls[1])
		}
	}
	bw := s.Bandwidth
	if bw == nil || len(bw.Kernels) == 0 || bw.Source != "ncu.csv" {
		t.Fatalf("bandwidth = %+v", bw)
	}
	if bw.PeakBandwidth < 4.8e12 || bw.PeakBandwidth > 4.82e12 {
		t.Errorf("peak = %g, want the H200's 4.814e12", bw.PeakBandwidth)
	}
	names := map[string]bool{}
	for _, k := range s.Kernels {
		names[k.Name] = true
	}
	matched := 0
	for _, k := range bw.Kernels {
		if names[k.Name] {
			matched++
		}
	}
	if matched < len(bw.Kernels)/2 {
		t.Errorf("only %d of %d ncu kernels joined to nsys kernels", matched, len(bw.Kernels))
	}
}

func TestProfileNCUMissingIsAWarning(t *testing.T) {
	f := profiletest.Install(t, false)
	s, err := Run(context.Background(), Options{
		Command: []string{"true"}, Dir: f.Out, NVML: h200Fake(0), NCU: &NCUOptions{Path: filepath.Join(f.Bin, "ncu")},
	})
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, w := range s.Warnings {
		if w.Code == "ncu_failed" && strings.Contains(w.Message, "Nsight Compute") {
			found = true
		}
	}
	if !found || s.Bandwidth != nil {
		t.Errorf("warnings %v, bandwidth %v: want an ncu_failed warning naming Nsight Compute", s.Warnings, s.Bandwidth)
	}
}

// The --kernel-name regex picks the top kernels, and only them, in every form
// ncu may compare it with.
func TestKernelRegex(t *testing.T) {
	re := regexp.MustCompile(kernelRegex([]string{"elementwise_kernel", "nvjet_sm90_tst_64x8_64x16_4x2_h_bz_NNT", "a.b"}))
	for name, want := range map[string]bool{
		"elementwise_kernel":                       true,
		"at::native::elementwise_kernel":           true,
		"void at::elementwise_kernel<128, 4>(int)": true,
		"nvjet_sm90_tst_64x8_64x16_4x2_h_bz_NNT":   true,
		"vectorized_elementwise_kernel":            false,
		"elementwise_kernel_2":                     false,
		"a.b":                                      true,
		"axb":                                      false,
	} {
		if got := re.MatchString(name); got != want {
			t.Errorf("%q: match %v, want %v", name, got, want)
		}
	}
}

// findNCU looks on the PATH, then in the install folders, newest first, and
// says what to install when both are empty.
func TestFindNCU(t *testing.T) {
	dir := t.TempDir()
	for _, v := range []string{"2024.1.0", "2025.3.1"} {
		os.MkdirAll(filepath.Join(dir, v), 0o755)
		os.WriteFile(filepath.Join(dir, v, "ncu"), []byte("#!/bin/sh\n"), 0o755)
	}
	notFound := func(string) (string, error) { return "", exec.ErrNotFound }
	if p, err := findNCU("", notFound, []string{filepath.Join(dir, "*", "ncu")}); err != nil || p != filepath.Join(dir, "2025.3.1", "ncu") {
		t.Errorf("install folders: %q, %v; want the newest", p, err)
	}
	onPath := func(name string) (string, error) { return "/usr/bin/" + name, nil }
	if p, err := findNCU("", onPath, []string{filepath.Join(dir, "*", "ncu")}); err != nil || p != "/usr/bin/ncu" {
		t.Errorf("PATH first: %q, %v", p, err)
	}
	if _, err := findNCU("", notFound, nil); err == nil || !strings.Contains(err.Error(), "install NVIDIA Nsight Compute") {
		t.Errorf("nothing installed: %v", err)
	}
	if _, err := findNCU("/no/such/ncu", notFound, nil); err == nil || !strings.Contains(err.Error(), "/no/such/ncu") || !strings.Contains(err.Error(), "Nsight Compute") {
		t.Errorf("--ncu missing: %v", err)
	}
}

// TestProfileServer runs the whole `gate profile --server` path on the CPU:
// a fake nsys that runs the stand-in and leaves the real probe export as
// its SQLite output, then the parse, then the serving metrics in Extra.
func TestProfileServer(t *testing.T) {
	addr := servertest.FreeAddr(t)
	defer servertest.NoLeftovers(t, addr)
	so := server.Options{
		Command:      []string{servertest.Build(t, t.TempDir()), "-addr", addr, "-log-interval", "50ms"},
		URL:          "http://" + addr,
		ReadyTimeout: 10 * time.Second,
		Warmup:       1,
		IntGrace:     3 * time.Second,
		TermGrace:    3 * time.Second,
	}
	probe, err := filepath.Abs("../../testdata/nsys/probe.sqlite.gz")
	if err != nil {
		t.Fatal(err)
	}
	fake := filepath.Join(t.TempDir(), "nsys")
	os.WriteFile(fake, []byte("#!/bin/sh\nwhile [ \"$1\" != \"--\" ]; do [ \"$1\" = -o ] && out=$2; shift; done\nshift\ngunzip -c "+probe+" > \"$out.sqlite\"\nexec \"$@\"\n"), 0o755)
	dir := t.TempDir()
	so.Load = server.LoadOptions{Requests: 6, Concurrency: 2, PromptTokens: 4, OutputTokens: 5}
	s, err := Server(context.Background(), Options{Dir: dir, Nsys: fake}, so)
	if err != nil {
		t.Fatal(err)
	}
	if s.Phases["decode"] == nil || s.Phases["decode"].Steps == 0 {
		t.Errorf("no decode phase from the probe export")
	}
	got := map[string]parse.ExtraMetric{}
	for _, m := range s.Extra {
		got[m.Name] = m
	}
	if m := got["load.requests"]; m.Value != 6 {
		t.Errorf("load.requests %+v", m)
	}
	if _, ok := got["vllm.metrics.ttft.mean_ms"]; !ok {
		t.Errorf("no scrape metrics in the summary")
	}
	data, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil || !strings.Contains(string(data), `"load.ttft.mean_ms"`) {
		t.Errorf("summary.json lacks the serving metrics: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "server.log")); err != nil {
		t.Errorf("no server log: %v", err)
	}
}

// A long run says every so often that it still goes, and its carriage-
// return progress bars stay in the log. The child runs 1 s against a 50 ms
// heartbeat: a loaded machine can delay ticks (fewer lines) but never
// hasten them, so the bounds hold however busy the machine is.
func TestRunLoggedHeartbeat(t *testing.T) {
	var progress, stdout bytes.Buffer
	tl := tools{stdout: &stdout, stderr: &stdout, progress: &progress, every: 50 * time.Millisecond}
	log := filepath.Join(t.TempDir(), "nsys.log")
	start := time.Now()
	code, err := tl.runLogged(context.Background(), "profiling", log, "sh", []string{"-c", `printf '[1/2] [=  ]\r[1/2] [===]\n'; sleep 1`})
	if err != nil || code != 0 {
		t.Fatalf("code %d, err %v", code, err)
	}
	most := int(time.Since(start)/(50*time.Millisecond)) + 1
	if n := strings.Count(progress.String(), "gate: profiling: still running after "); n < 2 || n > most {
		t.Errorf("%d heartbeats in %v at one per 50 ms (want 2..%d):\n%s", n, time.Since(start), most, progress.String())
	}
	if stdout.Len() != 0 || strings.Contains(progress.String(), "[===]\n") {
		t.Errorf("the tool's output left the log: stdout %q progress %q", stdout.String(), progress.String())
	}
	if b, _ := os.ReadFile(log); string(b) != "[1/2] [=  ]\r[1/2] [===]\n" {
		t.Errorf("log = %q", b)
	}
}

// The workload is PR code: what it leaves running is killed with it, and
// it runs with the environment it is given. The backgrounded child waits
// for a file the test writes only after Run returned, so the test does not
// race the machine's load: if Run waited for the child it would never
// return, and if the child outlived the workload it would print and touch
// its mark once released.
func TestProfileKillsWhatTheWorkloadLeaves(t *testing.T) {
	f := profiletest.Install(t, false)
	dir := t.TempDir()
	late, release := filepath.Join(dir, "late"), filepath.Join(dir, "release")
	for _, show := range []bool{false, true} {
		os.Remove(late)
		os.Remove(release)
		var stdout, stderr bytes.Buffer
		done := make(chan error, 1)
		go func() {
			_, err := Run(context.Background(), Options{
				// A backgrounded child, still holding the output, that would
				// write after gate moved on.
				Command:    []string{"sh", "-c", `(while [ ! -e ` + release + ` ]; do sleep 0.05; done; echo "::error::late"; touch ` + late + `) & echo "env: $SCRUBBED_AWAY/$KEPT"`},
				Dir:        f.Out,
				NVML:       h200Fake(0),
				Stdout:     &stdout,
				Stderr:     &stderr,
				ShowOutput: show,
				Env:        append(os.Environ(), "KEPT=yes"),
			})
			done <- err
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(2 * time.Minute):
			t.Fatalf("show %v: Run is still waiting for the workload's backgrounded child", show)
		}
		if err := os.WriteFile(release, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		// A live child polls every 50 ms; give it ample time to show itself.
		time.Sleep(time.Second)
		if _, err := os.Stat(late); err == nil {
			t.Errorf("show %v: the workload's backgrounded child outlived it", show)
		}
		if strings.Contains(stdout.String(), "::error::late") {
			t.Errorf("show %v: the child printed after the workload ended", show)
		}
		log, _ := os.ReadFile(filepath.Join(f.Out, nsysLog))
		if !strings.Contains(string(log), "env: /yes") {
			t.Errorf("show %v: the workload did not get the given environment: %q", show, log)
		}
	}
}
