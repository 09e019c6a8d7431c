package load

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
)

// installHint says what to install when nsys is missing.
const installHint = "install NVIDIA Nsight Systems (https://developer.nvidia.com/nsight-systems) and put nsys on the PATH"

// Nsys finds and runs Nsight Systems' nsys: the one place gate looks for
// it (Find) and exports a report with it (Export). The zero value uses nsys
// from the PATH; the function fields are injected so that tests need no
// nsys.
type Nsys struct {
	// Path is the nsys to run (a path or a name on the PATH); empty: nsys.
	Path string
	// LookPath resolves Path; nil: exec.LookPath.
	LookPath func(string) (string, error)
	// Run runs a command and returns its combined output; nil: os/exec.
	Run func(ctx context.Context, name string, args ...string) ([]byte, error)
}

// Find returns the nsys binary to run, or an error that says what to
// install.
func (n Nsys) Find() (string, error) {
	lookPath := n.LookPath
	if lookPath == nil {
		lookPath = exec.LookPath
	}
	if n.Path != "" {
		p, err := lookPath(n.Path)
		if err != nil {
			return "", fmt.Errorf("nsys %s: %w; %s", n.Path, err, installHint)
		}
		return p, nil
	}
	p, err := lookPath("nsys")
	if err != nil {
		return "", fmt.Errorf("nsys not found on the PATH: %s", installHint)
	}
	return p, nil
}

// Export writes report's SQLite export to out with `nsys export`. Errors
// are one line: what to install when nsys is missing, nsys's own complaint
// when it refuses (an nsys older than the report does).
func (n Nsys) Export(ctx context.Context, report, out string) error {
	nsys, err := n.Find()
	if err != nil {
		return fmt.Errorf("%s: reading an .nsys-rep needs nsys 2025.3 or newer (it must read the report's version): %w, "+
			"or export the report yourself: nsys export --type sqlite --output PROFILE.sqlite PROFILE.nsys-rep", report, err)
	}
	run := n.Run
	if run == nil {
		run = func(ctx context.Context, name string, args ...string) ([]byte, error) {
			return exec.CommandContext(ctx, name, args...).CombinedOutput()
		}
	}
	output, err := run(ctx, nsys, "export", "--type", "sqlite", "--force-overwrite", "true", "--output", out, report)
	if err != nil {
		why := complaint(output)
		if strings.Contains(strings.ToLower(why), "version not supported") {
			return tooOld(ctx, run, nsys, report, why)
		}
		return fmt.Errorf("%s: nsys export failed (%w): %s", report, err, why)
	}
	if fi, statErr := os.Stat(out); statErr != nil || fi.Size() == 0 {
		return fmt.Errorf("%s: nsys export wrote no SQLite file: %s", report, complaint(output))
	}
	return nil
}

// tooOld is the error for an nsys that refuses a report written by a newer
// Nsight Systems: which release wrote it, which one this is, and what to do,
// with nsys's own words ("Version not supported: 36398880") at the end.
func tooOld(ctx context.Context, run func(context.Context, string, ...string) ([]byte, error), nsys, report, why string) error {
	have := nsys
	if out, err := run(ctx, nsys, "--version"); err == nil {
		if v := nsysVersion.FindString(string(out)); v != "" {
			have = fmt.Sprintf("%s (%s)", nsys, v)
		}
	}
	need := "the Nsight Systems release that wrote it or a newer one"
	wrote := "a newer Nsight Systems"
	if v := reportVersion(report); v != "" {
		release := releaseOf(v)
		need = "Nsight Systems " + release + " or newer"
		wrote = "Nsight Systems " + release
	}
	return fmt.Errorf("%s: written by %s, which %s cannot read: export it with %s, "+
		"or pass its .sqlite export instead (nsys export said: %s)", report, wrote, have, need, why)
}

// releasePattern is an Nsight Systems release as nsys and its reports
// write it: 2022.4.2.1, 2025.3.
const releasePattern = `20\d\d\.\d{1,2}(?:\.\d{1,4}){0,2}`

// nsysVersion finds the release in `nsys --version` output
// ("NVIDIA Nsight Systems version 2022.4.2.1-df9881f").
var nsysVersion = regexp.MustCompile(`\b` + releasePattern + `\b`)

// reportFormat is the header of an .nsys-rep: "NVIDIA Tegra Profiler Report
// 36398880." names the report's format.
var reportFormat = regexp.MustCompile(`Profiler Report (\d{6,10})\.`)

// reportTail is how much of an .nsys-rep's end reportVersion reads: its
// trailer names the release that wrote it, a few hundred bytes from the end
// in the reports we have.
const reportTail = 64 << 10

// reportVersion is the Nsight Systems release an .nsys-rep names in its
// trailer (the version string right before its format number, e.g.
// "2025.3.1.0"), or "" when the file does not say in a way gate knows.
func reportVersion(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	head := make([]byte, 128)
	n, _ := io.ReadFull(f, head)
	m := reportFormat.FindSubmatch(head[:n])
	if m == nil {
		return ""
	}
	fi, err := f.Stat()
	if err != nil {
		return ""
	}
	off := fi.Size() - reportTail
	if off < 0 {
		off = 0
	}
	tail := make([]byte, fi.Size()-off)
	if _, err := f.ReadAt(tail, off); err != nil && err != io.EOF {
		return ""
	}
	return versionBefore(tail, m[1])
}

// versionBefore finds a release string followed, within a few bytes of
// framing, by format in data.
func versionBefore(data, format []byte) string {
	re := regexp.MustCompile(`(` + releasePattern + `)[^0-9]{1,4}` + regexp.QuoteMeta(string(format)))
	if m := re.FindSubmatch(data); m != nil {
		return string(m[1])
	}
	return ""
}

// releaseOf shortens a version to its release: 2025.3.1.0 -> 2025.3.
func releaseOf(v string) string {
	if i := strings.Index(v, "."); i >= 0 {
		if j := strings.Index(v[i+1:], "."); j >= 0 {
			return v[:i+1+j]
		}
	}
	return v
}

// complaint picks the line of nsys's output that says what went wrong
// (e.g. "Exportation error: Version not supported: 36398880" from an nsys
// older than the report), else its last non-empty line.
func complaint(output []byte) string {
	var last string
	for _, line := range bytes.Split(output, []byte("\n")) {
		l := strings.TrimSpace(string(line))
		if l == "" {
			continue
		}
		low := strings.ToLower(l)
		if strings.Contains(low, "error") || strings.Contains(low, "not supported") {
			return l
		}
		last = l
	}
	if last == "" {
		return "no output"
	}
	return last
}
