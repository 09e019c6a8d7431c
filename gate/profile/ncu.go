package profile

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/nsys-gate/gate/parse"
	"github.com/nsys-gate/gate/parse/ncu"
)

// ncuInstallHint says what to install when ncu is missing.
const ncuInstallHint = "install NVIDIA Nsight Compute (it ships with the CUDA toolkit) and put ncu on the PATH, or pass --ncu PATH"

// ncuDirs is where Nsight Compute installs itself when no ncu is on the PATH.
var ncuDirs = []string{"/opt/nvidia/nsight-compute/*/ncu", "/usr/local/cuda/bin/ncu", "/usr/local/cuda/nsight-compute-*/ncu"}

// NCUOptions configure the Nsight Compute pass.
type NCUOptions struct {
	Path     string   // ncu to run; empty: PATH, then the usual install folders
	Top      int      // kernels to measure (default 5)
	Skip     int      // matching launches to skip first (warm-up)
	Launches int      // launches to measure per launch configuration (default 3)
	Args     []string // extra ncu flags
}

// findNCU returns path when set, else ncu from the PATH, else the newest one
// matching the globs of install folders (ncuDirs).
func findNCU(path string, lookPath func(string) (string, error), globs []string) (string, error) {
	if path != "" {
		p, err := lookPath(path)
		if err != nil {
			return "", fmt.Errorf("ncu %s: %w; %s", path, err, ncuInstallHint)
		}
		return p, nil
	}
	if p, err := lookPath("ncu"); err == nil {
		return p, nil
	}
	var found []string
	for _, pat := range globs {
		m, _ := filepath.Glob(pat)
		found = append(found, m...)
	}
	sort.Strings(found)
	for i := len(found) - 1; i >= 0; i-- {
		if fi, err := os.Stat(found[i]); err == nil && !fi.IsDir() {
			return found[i], nil
		}
	}
	return "", fmt.Errorf("ncu not found: %s", ncuInstallHint)
}

// topKernels returns the short names of the n kernels with the most GPU
// time in s, largest first.
func topKernels(s *parse.Summary, n int) []string {
	ks := append([]parse.Kernel(nil), s.Kernels...)
	sort.SliceStable(ks, func(i, j int) bool {
		if ks[i].TotalNs != ks[j].TotalNs {
			return ks[i].TotalNs > ks[j].TotalNs
		}
		return ks[i].Name < ks[j].Name
	})
	var names []string
	for _, k := range ks {
		if len(names) == n {
			break
		}
		if k.Name != "" {
			names = append(names, k.Name)
		}
	}
	return names
}

// kernelRegex matches any of names as a whole identifier, whether ncu
// compares it with the bare function name (its default --kernel-name-base) or
// with a name that keeps namespaces, template arguments or parameters.
func kernelRegex(names []string) string {
	quoted := make([]string, len(names))
	for i, k := range names {
		quoted[i] = regexp.QuoteMeta(k)
	}
	return "(^|[: ])(" + strings.Join(quoted, "|") + ")([<(]|$)"
}

// ncuArgs builds the targeted Nsight Compute run: only the named kernels
// (ncu matches --kernel-name against the base function name, which is nsys's
// shortName), count launches of each launch configuration after skipping
// skip of it, inside the scope range when there is one; clocks and caches
// left alone so the bandwidth is what the workload sees; the raw CSV page
// written to logFile, away from the workload's own stdout.
//
// The filters apply per launch configuration (--filter-mode
// per-launch-config): with one global count the first launches, all in
// prefill, used it up before the decode-only kernels (the decode attention
// kernel on the H200) ever ran.
func ncuArgs(kernels []string, skip, count int, scope, logFile string, extra []string) []string {
	args := []string{
		"--csv", "--page", "raw",
		"--clock-control", "none", "--cache-control", "none",
		"--kernel-name", "regex:" + kernelRegex(kernels),
		"--launch-skip", strconv.Itoa(skip),
		"--launch-count", strconv.Itoa(count),
		"--filter-mode", "per-launch-config",
		"--metrics", strings.Join(ncu.Metrics, ","),
	}
	if scope != "" {
		args = append(args, "--nvtx", "--nvtx-include", scope+"/")
	}
	args = append(args, extra...)
	return append(args, "--log-file", logFile)
}

// ncuRun is one Nsight Compute pass over a profiled workload.
type ncuRun struct {
	NCUOptions
	tools    tools
	lookPath func(string) (string, error)
	dir      string   // where ncu.csv goes
	scope    string   // the NVTX range ncu is limited to, if any
	command  []string // the workload
}

// measure runs ncu over the top kernels of s and joins the result into
// s.Bandwidth. Failures come back as errors for the caller to turn into a
// warning: the nsys summary stands without them.
func (n ncuRun) measure(ctx context.Context, s *parse.Summary) error {
	path, err := findNCU(n.Path, n.lookPath, ncuDirs)
	if err != nil {
		return err
	}
	top := n.Top
	if top <= 0 {
		top = 5
	}
	kernels := topKernels(s, top)
	if len(kernels) == 0 {
		return fmt.Errorf("the profile has no kernels to measure")
	}
	count := n.Launches
	if count <= 0 {
		count = 3
	}
	logFile := filepath.Join(n.dir, "ncu.csv")
	argv := append(ncuArgs(kernels, n.Skip, count, n.scope, logFile, n.Args), n.command...)
	n.tools.logf("measuring DRAM bandwidth of %d kernel(s) with Nsight Compute", len(kernels))
	code, err := n.tools.runLogged(ctx, "Nsight Compute", filepath.Join(n.dir, "ncu.log"), path, argv)
	if err != nil {
		return fmt.Errorf("ncu: %w", err)
	}
	if code != 0 {
		return fmt.Errorf("ncu exited with code %d (the workload's or ncu's own; its output is in %s)", code, filepath.Join(n.dir, "ncu.log"))
	}
	rep, err := ncu.ParseFile(logFile)
	if err != nil {
		return err
	}
	bw := ncu.Bandwidth(rep, filepath.Base(logFile), s.GPU.PeakBandwidth)
	ncu.Join(s, bw)
	s.Warnings = append(s.Warnings, rep.Warnings...)
	return nil
}
