package gate

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nsys-gate/gate/gate/action"
	"github.com/nsys-gate/gate/gate/profile/profiletest"
	"github.com/nsys-gate/gate/parse"
)

func TestRunProfileCommand(t *testing.T) {
	f := profiletest.Install(t, false)
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"-h"}, exitOK, ""},
		{[]string{"--bogus"}, exitError, "flag provided but not defined"},
		{[]string{"--out", f.Out}, exitError, "no workload"},
		{[]string{"--out", f.Out, "--", "sh", "-c", "exit 3"}, exitError, "exited with code 3"},
		{[]string{"--out", f.Out, "--scope", "benchmark", "--", "true"}, exitOK, "gate: wrote "},
	} {
		var stdout, stderr bytes.Buffer
		c := &Command{Stdout: &stdout, Stderr: &stderr}
		code := c.Main(append([]string{"gate", "profile"}, tc.args...))
		if code != tc.code || !strings.Contains(stderr.String(), tc.stderr) {
			t.Errorf("gate profile %q: exit %d, stderr %q; want %d and %q", tc.args, code, stderr.String(), tc.code, tc.stderr)
		}
	}
}

func TestPreflightOnly(t *testing.T) {
	var stdout, stderr bytes.Buffer
	c := &Command{Stdout: &stdout, Stderr: &stderr}
	if code := c.Main([]string{"gate", "profile", "--preflight-only"}); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), `"nvml": {`) || !strings.Contains(stdout.String(), `"available": `) {
		t.Errorf("stdout:\n%s", stdout.String())
	}
}

func TestExtraFlag(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	var extras extraFlag
	fs.Var(&extras, "extra", extraUsage)
	if err := fs.Parse([]string{"--extra", "a.json", "--extra", "b.prom"}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual([]string(extras), []string{"a.json", "b.prom"}) {
		t.Errorf("%v", extras)
	}
	if err := fs.Parse([]string{"--extra", ""}); err == nil {
		t.Errorf("empty file name accepted")
	}
}

// Every subcommand prints its help once, on stdout, for -h, and its
// complaint and help on stderr for a bad flag.
func TestHelpOnce(t *testing.T) {
	for _, sub := range []string{"parse", "compare", "rules", "profile", "action"} {
		code, out, errs := runGate(sub, "-h")
		if code != exitOK || strings.Count(out, "usage: gate "+sub) != 1 || errs != "" {
			t.Errorf("gate %s -h: exit %d, stdout %q, stderr %q; want 0 and the help once on stdout", sub, code, out, errs)
		}
		code, out, errs = runGate(sub, "--bogus")
		if code != exitError || out != "" || !strings.Contains(errs, "flag provided but not defined: -bogus") || strings.Count(errs, "usage: gate "+sub) != 1 {
			t.Errorf("gate %s --bogus: exit %d, stdout %q, stderr %q; want 2 and the help once on stderr", sub, code, out, errs)
		}
	}
}

// The action's real profiler is gate profile's code: it runs the command
// with sh under nsys (a fake here), in the output folder, and returns the
// summary it wrote there with gate's version in it.
func TestNsysProfiler(t *testing.T) {
	f := profiletest.Install(t, false)
	var log bytes.Buffer
	s, err := nsysProfiler{}.Profile(context.Background(), action.ProfileRequest{
		Command: "echo from the workload", Dir: f.Out, Stdout: &log,
		Parse: parse.Options{Scope: "benchmark"}, Getenv: func(string) string { return "" },
	})
	if err != nil {
		t.Fatal(err)
	}
	if s.Phases[parse.PhaseDecode] == nil || s.Phases[parse.PhaseDecode].Steps != 4 || s.Source.GateVersion != version() {
		t.Errorf("summary: source %+v", s.Source)
	}
	calls := f.Calls(t)
	if len(calls) != 1 || !strings.HasSuffix(calls[0], " sh -c echo from the workload") {
		t.Errorf("nsys calls %q", calls)
	}
	if !strings.Contains(log.String(), "from the workload") {
		t.Errorf("the workload's output did not reach the step's log:\n%s", log.String())
	}
	if _, err := os.Stat(filepath.Join(f.Out, "summary.json")); err != nil {
		t.Error(err)
	}
}

// TestProfileWithoutCounters: where nsys refuses to sample the GPU's
// counters, `gate profile` still writes a summary, with the refusal as a
// warning, and exits 0.
func TestProfileWithoutCounters(t *testing.T) {
	f := profiletest.Install(t, false)
	f.RefuseGPUMetrics(t, "ERR_NVGPUCTRPERM - The user does not have permission to access NVIDIA GPU Performance Counters on the target device 0.")
	var stdout, stderr bytes.Buffer
	c := &Command{Stdout: &stdout, Stderr: &stderr}
	if code := c.Main([]string{"gate", "profile", "--out", f.Out, "--scope", "benchmark", "--", "true"}); code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr.String())
	}
	data, err := os.ReadFile(filepath.Join(f.Out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"code": "no_gpu_metrics"`) || !strings.Contains(string(data), "ERR_NVGPUCTRPERM") {
		t.Errorf("summary.json lacks the warning:\n%.2000s", data)
	}
	if !strings.Contains(stderr.String(), "GPU metrics: nsys refused") || !strings.Contains(stderr.String(), "warning(s) in the summary") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
	if code := c.Main([]string{"gate", "profile", "--out", f.Out, "--gpu-metrics-hz", "5", "--", "true"}); code != exitError {
		t.Errorf("--gpu-metrics-hz 5: exit %d, want %d", code, exitError)
	}
}
