// Package gate is gate's command line: the subcommands parse, compare,
// merge, rules, profile, action and version, their flags, and the one table
// from a verdict to an exit code (exit.go). It wires the packages below it to a process:
//
//	gate/config   gate.yml
//	gate/load     any profile form -> parse.Summary; nsys export
//	gate/profile  run a workload under nsys (and ncu); server mode
//	gate/server   an inference server under a fixed request load
//	gate/action   the GitHub Action (merge.go: several entries, one report)
//	gate/githubrest  go-github behind action.GitHub
//	gate/nvml     the GPU fingerprint (cgo)
//
// Start at Command.Main; each subcommand has its own file.
package gate

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/nsys-gate/gate/gate/action"
	"github.com/nsys-gate/gate/gate/githubrest"
	"github.com/nsys-gate/gate/gate/load"
)

// Command is gate's command line. Its fields are the process's streams and
// environment, injected so that tests can run every subcommand in-process.
type Command struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	// Environ is the whole environment, for the programs gate starts (the
	// action's workload gets it scrubbed); nil: os.Environ.
	Environ func() []string

	// profiler runs the action's profile mode; nil: nsys through package
	// profile. Tests set it to run the mode without nsys.
	profiler action.Profiler
	// isTerminal says whether a stream is a terminal; nil: a character
	// device. Tests set it to see what a person at a terminal gets.
	isTerminal func(io.Writer) bool
	// retry is how the action's GitHub client retries; the zero value is
	// githubrest's default. Tests set a clock that does not sleep.
	retry githubrest.Retry
}

// terminal reports whether w is a terminal (a person reading, not a pipe,
// a file or CI's log).
func (c *Command) terminal(w io.Writer) bool {
	if c.isTerminal != nil {
		return c.isTerminal(w)
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

type subcommand struct {
	summary string
	run     func(c *Command, ctx context.Context, args []string) int
}

// subcommands maps a name to its implementation; each lives in its own file.
var subcommands = map[string]subcommand{
	"parse":   {"turn an nsys export into a summary", (*Command).runParse},
	"compare": {"compare a head profile with a base profile", (*Command).runCompare},
	"merge":   {"merge the results of several configurations into one report", (*Command).runMerge},
	"rules":   {"print the effective rules", (*Command).runRules},
	"profile": {"run a workload under nsys and summarise it", (*Command).runProfile},
	"action":  {"run as a GitHub Action", (*Command).runAction},
	"version": {"print version information", (*Command).runVersion},
}

// Main runs gate with args (args[0] is the program name) and returns the
// exit code. SIGINT and SIGTERM cancel the context the subcommand runs
// with, so that a profiled workload or a server is stopped, not orphaned.
func (c *Command) Main(args []string) int {
	if c.Getenv == nil {
		c.Getenv = func(string) string { return "" }
	}
	if len(args) < 2 {
		c.usage(c.Stderr)
		return exitError
	}
	name := args[1]
	switch name {
	case "-h", "-help", "--help", "help":
		c.usage(c.Stdout)
		return exitOK
	case "-version", "--version":
		name = "version"
	}
	sub, ok := subcommands[name]
	if !ok {
		fmt.Fprintf(c.Stderr, "gate: unknown command %q\n", name)
		c.usage(c.Stderr)
		return exitError
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return sub.run(c, ctx, args[2:])
}

// loader reads profiles under the limits the environment sets:
// GATE_MAX_GUNZIP ("16GiB", "512MiB", a number of bytes) bounds what a
// gzipped export may expand to.
func (c *Command) loader() (load.Loader, error) {
	v := strings.TrimSpace(c.Getenv("GATE_MAX_GUNZIP"))
	if v == "" {
		return load.Loader{}, nil
	}
	n, err := parseSize(v)
	if err != nil {
		return load.Loader{}, fmt.Errorf("GATE_MAX_GUNZIP: %w", err)
	}
	return load.Loader{MaxGunzip: n}, nil
}

// parseSize reads "16GiB", "512MiB", "64KiB" or a number of bytes.
func parseSize(s string) (int64, error) {
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("%q: want a size such as 16GiB, 512MiB or a number of bytes", s)
	}
	return n * mult, nil
}

// environ is the environment gate was started with.
func (c *Command) environ() []string {
	if c.Environ == nil {
		return os.Environ()
	}
	return c.Environ()
}

func (c *Command) usage(w io.Writer) {
	fmt.Fprintln(w, "usage: gate <command> [flags] [args]")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(subcommands))
	for n := range subcommands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, subcommands[n].summary)
	}
	fmt.Fprintln(w, "\nexit codes: 0 pass/warn, 1 regression, 2 usage or input error, 3 no baseline or not comparable")
}
