package gate

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/nsys-gate/gate/gate/nvml"
	"github.com/nsys-gate/gate/parse"
)

// gunzip decompresses testdata/<name> into dir and returns the new file.
func gunzip(t *testing.T, name, dir string) string {
	t.Helper()
	f, err := os.Open(fixturePath(name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, strings.TrimSuffix(filepath.Base(name), ".gz"))
	data, err := io.ReadAll(z)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// fakeNsys is an nsys that runs the workload after `-o BASE` and writes
// BASE.sqlite, a copy of a real export, as nsys does with --export=sqlite.
// Without --export it writes BASE.nsys-rep and supports `nsys export`. It
// records its arguments, one call a line, in $FAKE_LOG and exits with the
// workload's code, as nsys does.
const fakeNsys = `#!/bin/sh
echo "nsys $*" >> "$FAKE_LOG"
if [ "$1" = export ]; then
  while [ $# -gt 0 ]; do [ "$1" = --output ] && out=$2; shift; done
  cp "$FAKE_EXPORT" "$out"; exit 0
fi
[ "$1" = profile ] || { echo "fake nsys: no $1" >&2; exit 9; }
sqlite=no
while [ $# -gt 0 ]; do
  case "$1" in
    --export=sqlite) sqlite=yes; shift ;;
    -o) out=$2; shift 2; break ;;
    *) shift ;;
  esac
done
"$@"; code=$?
if [ $sqlite = yes ]; then cp "$FAKE_EXPORT" "$out.sqlite"; else echo report > "$out.nsys-rep"; fi
exit $code
`

// fakeNCU writes a real ncu CSV where --log-file says and runs the workload
// after the last flag.
const fakeNCU = `#!/bin/sh
echo "ncu $*" >> "$FAKE_LOG"
while [ $# -gt 0 ]; do
  case "$1" in
    --log-file) log=$2; shift 2; break ;;
    *) shift ;;
  esac
done
"$@"; code=$?
cp "$FAKE_NCU_CSV" "$log"
exit $code
`

type fakeTools struct {
	bin, log, out string
}

// installFakes puts fake nsys (and ncu, when withNCU) first on the PATH.
func installFakes(t *testing.T, withNCU bool) fakeTools {
	t.Helper()
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "bin")
	os.Mkdir(bin, 0o755)
	if err := os.WriteFile(filepath.Join(bin, "nsys"), []byte(fakeNsys), 0o755); err != nil {
		t.Fatal(err)
	}
	if withNCU {
		if err := os.WriteFile(filepath.Join(bin, "ncu"), []byte(fakeNCU), 0o755); err != nil {
			t.Fatal(err)
		}
		t.Setenv("FAKE_NCU_CSV", gunzip(t, "ncu/ncu_baseline.csv.gz", tmp))
	}
	f := fakeTools{bin: bin, log: filepath.Join(tmp, "calls.log"), out: filepath.Join(tmp, "out")}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("FAKE_LOG", f.log)
	t.Setenv("FAKE_EXPORT", gunzip(t, "nsys/probe.sqlite.gz", tmp))
	return f
}

func (f fakeTools) calls(t *testing.T) []string {
	data, err := os.ReadFile(f.log)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

func h200Fake(reasons uint64, pids ...uint32) *nvml.Fake {
	d := nvml.H200()
	d.Reasons, d.PIDs = reasons, pids
	return &nvml.Fake{Driver: "580.159.04", CUDA: 13000, Devices: []nvml.FakeDevice{d}}
}

func TestProfile(t *testing.T) {
	f := installFakes(t, false)
	var stdout, stderr bytes.Buffer
	s, err := Profile(context.Background(), ProfileOptions{
		Command: []string{"sh", "-c", "echo tokens/s 493; echo oops >&2"},
		Dir:     f.out,
		Parse:   parse.Options{Scope: "benchmark"},
		NVML:    h200Fake(nvml.ReasonGPUIdle),
		Stdout:  &stdout, Stderr: &stderr,
	})
	if err != nil {
		t.Fatal(err)
	}
	if stdout.String() != "tokens/s 493\n" || !strings.Contains(stderr.String(), "oops\n") {
		t.Errorf("workload output not passed through: stdout %q stderr %q", stdout.String(), stderr.String())
	}
	for _, want := range []string{"gate: preflight: NVIDIA H200, driver 580.159.04, CUDA 13.0", "gate: profiling: ", "gate: parsing ", "gate: wrote "} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, stderr.String())
		}
	}
	calls := f.calls(t)
	want := "nsys profile -t cuda,nvtx -s none --cpuctxsw=none --cuda-graph-trace=node --export=sqlite -f true -o " +
		filepath.Join(f.out, "profile") + " sh -c echo tokens/s 493; echo oops >&2"
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
	file, err := os.Open(filepath.Join(f.out, "summary.json"))
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
	f := installFakes(t, false)
	var stderr bytes.Buffer
	s, err := Profile(context.Background(), ProfileOptions{
		Command: []string{"true"}, Dir: f.out,
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
	f := installFakes(t, false)
	var stderr bytes.Buffer
	s, err := Profile(context.Background(), ProfileOptions{
		Command: []string{"true"}, Dir: f.out, NVML: &nvml.Fake{Unavailable: true}, Stderr: &stderr,
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
	f := installFakes(t, false)
	var stdout bytes.Buffer
	_, err := Profile(context.Background(), ProfileOptions{
		Command: []string{"sh", "-c", "echo partial; exit 7"}, Dir: f.out,
		NVML: h200Fake(0), Stdout: &stdout,
	})
	var we *WorkloadError
	if !errors.As(err, &we) || we.Code != 7 {
		t.Fatalf("err = %v, want a WorkloadError with code 7", err)
	}
	if !strings.Contains(err.Error(), "code 7") || stdout.String() != "partial\n" {
		t.Errorf("err %q, stdout %q", err, stdout.String())
	}
	if _, err := os.Stat(filepath.Join(f.out, "summary.json")); err == nil {
		t.Error("summary.json written for a failed workload")
	}
}

func TestProfileMissingNsys(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := Profile(context.Background(), ProfileOptions{Command: []string{"true"}, Dir: t.TempDir(), NVML: h200Fake(0)})
	if err == nil || !strings.Contains(err.Error(), "nsys not found") || !strings.Contains(err.Error(), "Nsight Systems") {
		t.Errorf("err = %v, want one naming nsys and what to install", err)
	}
	_, err = Profile(context.Background(), ProfileOptions{Command: []string{"true"}, Nsys: "/no/such/nsys", Dir: t.TempDir(), NVML: h200Fake(0)})
	if err == nil || !strings.Contains(err.Error(), "/no/such/nsys") {
		t.Errorf("err = %v, want one naming the --nsys path", err)
	}
}

// With flags that do not ask nsys for an export, gate runs nsys export itself.
func TestProfileExportsReport(t *testing.T) {
	f := installFakes(t, false)
	var stderr bytes.Buffer
	_, err := Profile(context.Background(), ProfileOptions{
		Command: []string{"true"}, Dir: f.out, NVML: h200Fake(0), Stderr: &stderr,
		NsysArgs: []string{"-t", "cuda"}, NsysExtra: []string{"--capture-range=cudaProfilerApi"},
	})
	if err != nil {
		t.Fatal(err)
	}
	calls := f.calls(t)
	if len(calls) != 2 || !strings.HasPrefix(calls[0], "nsys profile -t cuda --capture-range=cudaProfilerApi -f true -o ") ||
		!strings.HasPrefix(calls[1], "nsys export --type sqlite") {
		t.Errorf("calls = %q", calls)
	}
	if !strings.Contains(stderr.String(), "gate: exporting: ") {
		t.Errorf("no exporting progress line:\n%s", stderr.String())
	}
}

func TestProfileWithNCU(t *testing.T) {
	f := installFakes(t, true)
	var stdout bytes.Buffer
	s, err := Profile(context.Background(), ProfileOptions{
		Command: []string{"sh", "-c", "echo run"}, Dir: f.out,
		Parse: parse.Options{Scope: "benchmark"},
		NVML:  h200Fake(0), WithNCU: true, NCUTop: 3, NCUSkip: 2, Stdout: &stdout,
	})
	if err != nil {
		t.Fatal(err)
	}
	if stdout.String() != "run\nrun\n" {
		t.Errorf("the workload should run twice (nsys, ncu), stdout %q", stdout.String())
	}
	calls := f.calls(t)
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
		"--log-file " + filepath.Join(f.out, "ncu.csv") + " sh -c echo run",
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
	f := installFakes(t, false)
	saved := ncuDirs
	ncuDirs = nil
	defer func() { ncuDirs = saved }()
	s, err := Profile(context.Background(), ProfileOptions{
		Command: []string{"true"}, Dir: f.out, NVML: h200Fake(0), WithNCU: true,
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

func TestRunProfileCommand(t *testing.T) {
	f := installFakes(t, false)
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"-h"}, ExitOK, ""},
		{[]string{"--bogus"}, ExitError, "flag provided but not defined"},
		{[]string{"--out", f.out}, ExitError, "no workload"},
		{[]string{"--out", f.out, "--", "sh", "-c", "exit 3"}, ExitError, "exited with code 3"},
		{[]string{"--out", f.out, "--scope", "benchmark", "--", "true"}, ExitOK, "gate: wrote "},
	} {
		var stdout, stderr bytes.Buffer
		c := &Command{Stdout: &stdout, Stderr: &stderr}
		code := c.Main(append([]string{"gate", "profile"}, tc.args...))
		if code != tc.code || !strings.Contains(stderr.String(), tc.stderr) {
			t.Errorf("gate profile %q: exit %d, stderr %q; want %d and %q", tc.args, code, stderr.String(), tc.code, tc.stderr)
		}
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

func TestPreflightOnly(t *testing.T) {
	var stdout, stderr bytes.Buffer
	c := &Command{Stdout: &stdout, Stderr: &stderr}
	if code := c.Main([]string{"gate", "profile", "--preflight-only"}); code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), `"nvml": {`) || !strings.Contains(stdout.String(), `"available": `) {
		t.Errorf("stdout:\n%s", stdout.String())
	}
}
