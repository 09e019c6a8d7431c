package load

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
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
		return fmt.Errorf("%s: nsys export failed (%w): %s", report, err, complaint(output))
	}
	if fi, statErr := os.Stat(out); statErr != nil || fi.Size() == 0 {
		return fmt.Errorf("%s: nsys export wrote no SQLite file: %s", report, complaint(output))
	}
	return nil
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
