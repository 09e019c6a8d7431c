package profile

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// nsys and ncu print hundreds of carriage-return progress bars
// ("[2/2] [=====   ] 45%") and the workload's own output shares their
// streams. In a CI log that is noise, so a tool's output goes to a log file
// in the output folder, gate prints its own short lines with the time
// taken, and the end of the log is shown only when the tool fails.

// heartbeat is how often a long run says it is still going.
const heartbeat = 30 * time.Second

// tailLines is how many lines of a failed tool's log are shown.
const tailLines = 30

// runLogged runs name with args, what naming the phase for people
// ("profiling"), its output (and the workload's) going to logPath, and to
// the workload's streams too when t.show. While it runs, a line every
// t.every says it still does; when it exits non-zero the end of the log is
// printed. It returns the exit code; err is for a program that could not be
// started at all or a log that could not be written.
func (t tools) runLogged(ctx context.Context, what, logPath, name string, args []string) (int, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return 0, fmt.Errorf("%s log: %w", what, err)
	}
	defer logFile.Close()
	run := t
	run.stdout, run.stderr = io.Writer(logFile), io.Writer(logFile)
	if t.show {
		run.stdout, run.stderr = io.MultiWriter(logFile, t.stdout), io.MultiWriter(logFile, t.stderr)
	}
	start := time.Now()
	t.logf("%s: %s %s", what, name, strings.Join(args, " "))
	t.logf("%s: output in %s", what, logPath)
	done := make(chan struct{})
	go func() {
		every := t.every
		if every <= 0 {
			every = heartbeat
		}
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				t.logf("%s: still running after %s", what, elapsed(start))
			}
		}
	}()
	code, err := run.run(ctx, name, args)
	close(done)
	if err != nil {
		return code, err
	}
	if code != 0 {
		if !t.quietFail {
			logFile.Sync()
			t.failed(what, code, elapsed(start), logPath)
		}
		return code, nil
	}
	t.logf("%s: done in %s", what, elapsed(start))
	return 0, nil
}

// failed says that a logged run exited with code after took, and shows the
// end of its log.
func (t tools) failed(what string, code int, took, logPath string) {
	t.logf("%s: exited with code %d after %s; the end of %s:", what, code, took, filepath.Base(logPath))
	for _, l := range logTail(logPath, tailLines) {
		fmt.Fprintf(t.progress, "  %s\n", l)
	}
}

// elapsed is the time since start, rounded for people: "850ms", "12.3s",
// "2m5s".
func elapsed(start time.Time) string {
	d := time.Since(start)
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// logTail returns the last n lines of the file at path as a terminal
// showed them: a line that a carriage return rewrote shows its last
// state, and empty lines are dropped.
func logTail(path string, n int) []string {
	f, err := os.Open(path)
	if err != nil {
		return []string{"(" + err.Error() + ")"}
	}
	defer f.Close()
	const max = 64 << 10
	if fi, err := f.Stat(); err == nil && fi.Size() > max {
		f.Seek(fi.Size()-max, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	var out []string
	for _, l := range bytes.Split(b, []byte("\n")) {
		l = bytes.TrimRight(l, "\r")
		if i := bytes.LastIndexByte(l, '\r'); i >= 0 {
			l = l[i+1:]
		}
		if s := strings.TrimRight(string(l), " \t"); s != "" {
			out = append(out, s)
		}
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return out
}
