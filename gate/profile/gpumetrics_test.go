package profile

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/nsys-gate/gate/gate/profile/profiletest"
	"github.com/nsys-gate/gate/parse"
)

// permissionDenied is what Nsight tools print without access to the GPU's
// performance counters (NVreg_RestrictProfilingToAdminUsers=1).
const permissionDenied = "ERR_NVGPUCTRPERM - The user does not have permission to access NVIDIA GPU Performance Counters on the target device 0. For instructions on enabling permissions and to get more information see https://developer.nvidia.com/ERR_NVGPUCTRPERM"

func runProbe(t *testing.T, f profiletest.Tools, o Options) (*parse.Summary, string, error) {
	t.Helper()
	var stderr bytes.Buffer
	if o.Command == nil {
		o.Command = []string{"sh", "-c", "echo ran"}
	}
	o.Dir, o.NVML, o.Stderr = f.Out, h200Fake(0), &stderr
	o.Parse = parse.Options{Scope: "benchmark"}
	s, err := Run(context.Background(), o)
	return s, stderr.String(), err
}

func warning(s *parse.Summary, code string) *parse.Warning {
	for i := range s.Warnings {
		if s.Warnings[i].Code == code {
			return &s.Warnings[i]
		}
	}
	return nil
}

// TestProfileGPUMetrics: by default nsys samples the GPU's counters and the
// summary has them (the fake hands out a real sampled H200 export).
func TestProfileGPUMetrics(t *testing.T) {
	f := profiletest.Install(t, false)
	f.SampledExport(t, "nsys/gm_base1.sqlite.gz")
	s, _, err := runProbe(t, f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := s.GPUMetrics.Phase(parse.PhaseDecode); d == nil || d.Steps != 128 || warning(s, parse.WarnNoGPUMetrics) != nil {
		t.Errorf("gpu metrics %+v, warnings %v", d, s.Warnings)
	}
}

// TestProfileGPUMetricsRefused: an nsys that refuses the option (no access
// to the counters) is said once, the profile runs again without it, and
// the summary records why.
func TestProfileGPUMetricsRefused(t *testing.T) {
	f := profiletest.Install(t, false)
	f.RefuseGPUMetrics(t, permissionDenied)
	s, progress, err := runProbe(t, f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	calls := f.Calls(t)
	if len(calls) != 2 || !strings.Contains(calls[0], "--gpu-metrics-devices=all --gpu-metrics-frequency=5000") || strings.Contains(calls[1], "--gpu-metrics") {
		t.Errorf("calls %q: want one with sampling, then one without", calls)
	}
	w := warning(s, parse.WarnNoGPUMetrics)
	if w == nil || !strings.Contains(w.Message, "ERR_NVGPUCTRPERM - The user does not have permission") || !strings.Contains(w.Message, "--gpu-metrics-devices=all") {
		t.Fatalf("warnings %v", s.Warnings)
	}
	if s.GPUMetrics != nil || s.Phases[parse.PhaseDecode].Steps != 4 {
		t.Errorf("summary without samples: gpu metrics %+v, phases %v", s.GPUMetrics, s.Phases)
	}
	if n := strings.Count(progress, "does not have permission"); n != 1 || !strings.Contains(progress, "gate: GPU metrics: nsys refused to sample the GPU's counters (") ||
		strings.Contains(progress, "exited with code") {
		t.Errorf("progress says the reason %d times (want once, no failure shown):\n%s", n, progress)
	}
}

// TestProfileGPUMetricsAbsent: an export without samples although nsys was
// asked is recorded as a warning too.
func TestProfileGPUMetricsAbsent(t *testing.T) {
	f := profiletest.Install(t, false)
	s, _, err := runProbe(t, f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if w := warning(s, parse.WarnNoGPUMetrics); w == nil || !strings.Contains(w.Message, "the export has none") {
		t.Errorf("warnings %v", s.Warnings)
	}
}

// TestProfileGPUMetricsOff: turned off, or chosen by the user's own nsys
// flags, gate adds no sampling flags and warns about nothing.
func TestProfileGPUMetricsOff(t *testing.T) {
	for _, o := range []Options{
		{NoGPUMetrics: true},
		{NsysExtra: []string{"--gpu-metrics-devices=none"}},
		{NsysArgs: []string{"-t", "cuda,nvtx", "--export=sqlite", "--gpu-metrics-devices=0", "--gpu-metrics-frequency=1000"}},
	} {
		f := profiletest.Install(t, false)
		f.RefuseGPUMetrics(t, permissionDenied)
		s, _, err := runProbe(t, f, o)
		if len(o.NsysArgs) > 0 {
			// The user asked for sampling; the fake refuses it: gate does not retry the user's own flags.
			var we *WorkloadError
			if !errors.As(err, &we) {
				t.Errorf("%+v: err %v, want nsys's failure", o, err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if calls := f.Calls(t); len(calls) != 1 || strings.Contains(calls[0], "--gpu-metrics-frequency") || warning(s, parse.WarnNoGPUMetrics) != nil {
			t.Errorf("%+v: calls %q, warnings %v", o, calls, s.Warnings)
		}
	}
}

// TestProfileGPUMetricsWorkloadFails: a workload that fails with sampling on
// is the workload's failure, not a refusal: no second run.
func TestProfileGPUMetricsWorkloadFails(t *testing.T) {
	f := profiletest.Install(t, false)
	_, progress, err := runProbe(t, f, Options{Command: []string{"sh", "-c", "exit 5"}})
	var we *WorkloadError
	if !errors.As(err, &we) || we.Code != 5 {
		t.Fatalf("err %v", err)
	}
	if calls := f.Calls(t); len(calls) != 1 || !strings.Contains(progress, "exited with code 5") || strings.Contains(progress, "GPU metrics") {
		t.Errorf("calls %q, progress:\n%s", calls, progress)
	}
}
