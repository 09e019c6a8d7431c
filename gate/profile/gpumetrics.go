package profile

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/nsys-gate/gate/parse"
)

// DefaultGPUMetricsHz is how often `gate profile` samples the GPU's
// counters. Measured on the H200 exports of the default workload (decode
// steps of 1.2 ms back to back): 5 kHz gives about six samples a decode
// step, per-step DRAM bytes within 0.3 points of 10 kHz's with the same
// run-to-run spread (per-step CV ≤ 2.5%), and half the export: the samples
// are 90 of 94 MB at 10 kHz (22 metrics, 33 bytes a row), 3.6 MB a second
// of capture at 5 kHz. At 2 kHz the per-step spread of DRAM writes grows
// to 3.7% and a step has two or three samples.
const DefaultGPUMetricsHz = 5000

// gpuMetricsArgs are the nsys flags that sample every GPU's counters at hz
// (0: DefaultGPUMetricsHz); nil when sampling is off or the user's own
// nsys flags already say how to sample.
func gpuMetricsArgs(off bool, hz int, user ...[]string) []string {
	if off {
		return nil
	}
	for _, args := range user {
		for _, a := range args {
			if strings.HasPrefix(a, "--gpu-metrics-device") {
				return nil
			}
		}
	}
	if hz <= 0 {
		hz = DefaultGPUMetricsHz
	}
	return []string{"--gpu-metrics-devices=all", "--gpu-metrics-frequency=" + strconv.Itoa(hz)}
}

// counterWords are what nsys says about GPU-metrics sampling when it
// cannot do it: permissions (ERR_NVGPUCTRPERM), an unsupported GPU, the
// counters held by another profiler.
var counterWords = regexp.MustCompile(`(?i)gpu[- ]metrics|performance counters|NVGPUCTRPERM|counters? (are |is )?(in use|busy|reserved)|not supported`)

// profileWithGPUMetrics runs nsys with argv(gm), logging to logPath; where
// nsys refuses the GPU-metrics flags (it exits before making a report, as
// it does for an option it cannot honour: a failing workload leaves one)
// it says why once and runs again without them, returning the warning that
// records it.
func profileWithGPUMetrics(ctx context.Context, t tools, bin, base, logPath string, gm []string, argv func([]string) []string) (int, *parse.Warning, error) {
	os.Remove(base + ".sqlite") // never parse a stale export
	os.Remove(base + ".nsys-rep")
	if len(gm) == 0 {
		code, err := t.runLogged(ctx, "profiling", logPath, bin, argv(nil))
		return code, nil, err
	}
	quiet := t
	quiet.quietFail = true
	start := time.Now()
	code, err := quiet.runLogged(ctx, "profiling", logPath, bin, argv(gm))
	if err != nil || code == 0 {
		return code, nil, err
	}
	if !noReport(base) {
		t.failed("profiling", code, elapsed(start), logPath)
		return code, nil, nil
	}
	why := refusal(logTail(logPath, tailLines), code)
	t.logf("GPU metrics: nsys refused to sample the GPU's counters (%s): profiling again without them", why)
	w := noGPUMetrics(gm, why)
	code, err = t.runLogged(ctx, "profiling", logPath, bin, argv(nil))
	return code, &w, err
}

// refusal is the line of nsys's output that says why it did not sample,
// clipped; or what little is known.
func refusal(lines []string, code int) string {
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" && counterWords.MatchString(l) {
			if len(l) > 300 {
				l = l[:300] + "…"
			}
			return l
		}
	}
	if code != 0 {
		return fmt.Sprintf("nsys exited with code %d before the workload ran", code)
	}
	return "nsys said nothing about it"
}

// noReport reports whether nsys left neither report nor export at base.
func noReport(base string) bool {
	for _, ext := range []string{".nsys-rep", ".sqlite"} {
		if _, err := os.Stat(base + ext); err == nil {
			return false
		}
	}
	return true
}

// noGPUMetrics is the warning that a profile went without the sampling it
// asked for, and why.
func noGPUMetrics(gm []string, why string) parse.Warning {
	return parse.Warning{Code: parse.WarnNoGPUMetrics, Message: fmt.Sprintf(
		"no GPU-metrics samples (DRAM traffic, SM activity): nsys did not sample with %s: %s", strings.Join(gm, " "), why)}
}
