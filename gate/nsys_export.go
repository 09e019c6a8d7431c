package gate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// nsysInstallHint says what to install when nsys is missing.
const nsysInstallHint = "install NVIDIA Nsight Systems 2025.3 or newer (it must read the report's version) and put nsys on the PATH, " +
	"or export the report yourself: nsys export --type sqlite --output PROFILE.sqlite PROFILE.nsys-rep"

// nsysExporter turns an .nsys-rep report into an SQLite export by running
// `nsys export`. Its fields are injected so that tests need no nsys.
type nsysExporter struct {
	lookPath func(string) (string, error)
	// run runs a command and returns its combined output.
	run func(ctx context.Context, name string, args ...string) ([]byte, error)
}

func defaultExporter() nsysExporter {
	return nsysExporter{
		lookPath: exec.LookPath,
		run: func(ctx context.Context, name string, args ...string) ([]byte, error) {
			return exec.CommandContext(ctx, name, args...).CombinedOutput()
		},
	}
}

// export writes report's SQLite export to out. Errors are one line: what to
// install when nsys is missing, nsys's own complaint when it refuses.
func (x nsysExporter) export(ctx context.Context, report, out string) error {
	nsys, err := x.lookPath("nsys")
	if err != nil {
		return fmt.Errorf("%s: reading an .nsys-rep needs nsys, which is not on the PATH: %s", report, nsysInstallHint)
	}
	output, err := x.run(ctx, nsys, "export", "--type", "sqlite", "--force-overwrite", "true", "--output", out, report)
	if err != nil {
		return fmt.Errorf("%s: nsys export failed (%v): %s", report, err, nsysComplaint(output))
	}
	if fi, statErr := os.Stat(out); statErr != nil || fi.Size() == 0 {
		return fmt.Errorf("%s: nsys export wrote no SQLite file: %s", report, nsysComplaint(output))
	}
	return nil
}

// nsysComplaint picks the line of nsys's output that says what went wrong
// (e.g. "Exportation error: Version not supported: 36398880" from an nsys
// older than the report), else its last non-empty line.
func nsysComplaint(output []byte) string {
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

// errNoNsys is returned by lookPath stand-ins in tests.
var errNoNsys = errors.New("executable file not found in $PATH")
