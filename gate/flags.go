package gate

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/nsys-gate/gate/gate/server"
	"github.com/nsys-gate/gate/render"
)

// flags is one subcommand's flag set. Its parse prints -h's help once, to
// stdout (exit 0), and a bad flag's complaint with the help to stderr
// (exit 2).
type flags struct {
	*flag.FlagSet
	usage          string // the text before the list of flags
	stdout, stderr io.Writer
}

// newFlags returns the flag set of subcommand name (as "gate parse") whose
// help starts with usage.
func (c *Command) newFlags(name, usage string) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	fs.Usage = func() {} // parse prints the help itself, once
	return &flags{FlagSet: fs, usage: usage, stdout: c.Stdout, stderr: c.Stderr}
}

// printUsage writes the help to w: the usage text, then every flag with its
// default.
func (f *flags) printUsage(w io.Writer) {
	fmt.Fprint(w, f.usage)
	f.SetOutput(w)
	f.PrintDefaults()
	f.SetOutput(f.stderr)
}

// usageError says what is wrong with the command line and prints the help,
// both to stderr, and returns the exit code of a usage error.
func (f *flags) usageError(format string, args ...any) int {
	fmt.Fprintf(f.stderr, f.Name()+": "+format+"\n", args...)
	f.printUsage(f.stderr)
	return exitError
}

// parse parses args and returns the positional arguments. With interleaved
// they may come before, between or after the flags (gate parse x.sqlite -o
// x.json); without, the first one ends the flags (gate profile -- COMMAND).
// When ok is false the command is done and exits with code: -h was asked
// for, or a flag was bad.
func (f *flags) parse(args []string, interleaved bool) (pos []string, code int, ok bool) {
	var err error
	if interleaved {
		pos, err = parseInterleaved(f.FlagSet, args)
	} else if err = f.Parse(args); err == nil {
		pos = f.Args()
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		f.printUsage(f.stdout)
		return nil, exitOK, false
	case err != nil:
		// The flag package has printed what is wrong.
		f.printUsage(f.stderr)
		return nil, exitError, false
	}
	return pos, exitOK, true
}

// parseInterleaved parses flags that may come before or after the
// positional arguments (gate parse x.sqlite -o x.json) and returns the
// positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// extraFlag is a repeatable --extra FILE flag: fs.Var(&extras, "extra",
// extraUsage), then load.Extra(s, extras...).
type extraFlag []string

// extraUsage is the help text of --extra.
const extraUsage = "add metrics from `FILE` to the summary (repeatable): a vLLM bench result JSON, a /metrics scrape, a vLLM log, or gate's {\"metrics\": [...]} JSON"

func (f *extraFlag) String() string { return strings.Join(*f, ",") }

// Set appends one file.
func (f *extraFlag) Set(v string) error {
	if v == "" {
		return fmt.Errorf("empty file name")
	}
	*f = append(*f, v)
	return nil
}

// serverFlags registers the server-mode flags of `gate profile --server` on
// fs and returns the options they fill. The server command is the
// command's positional arguments (after --); the caller sets Command.
func serverFlags(fs *flag.FlagSet) *server.Options {
	o := &server.Options{}
	fs.StringVar(&o.URL, "server-url", "http://127.0.0.1:8000", "server mode: the server's base URL")
	fs.StringVar(&o.HealthPath, "health-path", "/health", "server mode: path that answers 200 once the server is ready")
	fs.DurationVar(&o.ReadyTimeout, "ready-timeout", 10*time.Minute, "server mode: how long to wait for the health check")
	fs.StringVar(&o.Capture, "capture", server.CaptureAPI, "server mode: what nsys records: api (between the server's /start_profile and /stop_profile), delay (--capture-delay, --capture-duration) or none (everything)")
	fs.DurationVar(&o.Delay, "capture-delay", 0, "server mode, --capture delay: start recording this long after launch")
	fs.DurationVar(&o.Duration, "capture-duration", 0, "server mode, --capture delay: record for this long")
	fs.IntVar(&o.Warmup, "warmup", 2, "server mode: warm-up requests before the capture (-1: none)")
	fs.IntVar(&o.Load.Requests, "requests", 32, "server mode: measured requests")
	fs.IntVar(&o.Load.Concurrency, "concurrency", 4, "server mode: requests in flight at once")
	fs.IntVar(&o.Load.PromptTokens, "prompt-tokens", 128, "server mode: prompt length in words (about one token each)")
	fs.IntVar(&o.Load.OutputTokens, "output-tokens", 64, "server mode: tokens generated per request (max_tokens, ignore_eos)")
	fs.Int64Var(&o.Load.Seed, "seed", 0, "server mode: seed of the prompts")
	fs.StringVar(&o.Load.Model, "model", "", "server mode: model name in requests (default: the first of /v1/models)")
	fs.DurationVar(&o.Load.RequestTimeout, "request-timeout", 5*time.Minute, "server mode: limit for one request")
	return o
}

// errorLine is err as one line for a terminal. Errors keep
// their full text (and chain) everywhere else; they are flattened only
// here, where they are printed.
func errorLine(err error) string {
	// Line breaks become spaces rather than ending the message: one may be
	// inside a file name.
	return strings.TrimSpace(render.OneLine(err.Error()))
}
