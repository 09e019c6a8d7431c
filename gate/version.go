package gate

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// The release stamps the binary with what it was built from
// (.goreleaser.yaml):
//
//	-ldflags "-X github.com/nsys-gate/gate/gate.Version=v1.2.3
//	          -X github.com/nsys-gate/gate/gate.Commit=<full SHA>
//	          -X github.com/nsys-gate/gate/gate.Date=<commit date, RFC 3339>"
//
// Left empty, each comes from the Go build info instead: the module version
// of `go install …@v1.2.3`, and the commit and its time that `go build`
// records from a git checkout (vcs.revision, vcs.time).
var (
	Version = ""
	Commit  = ""
	Date    = ""
)

// buildInfo is what `gate version` reports.
type buildInfo struct {
	Version  string // v1.2.3, or "devel"
	Commit   string // full SHA, "" if unknown
	Date     string // the commit's date, "" if unknown
	Modified bool   // built from a checkout with uncommitted changes
	Go       string // the toolchain, e.g. go1.26.8
}

// readBuildInfo merges the ldflags stamps with the Go build info (nil when
// the binary has none); a stamp wins over the build info.
func readBuildInfo(version, commit, date string, info *debug.BuildInfo) buildInfo {
	b := buildInfo{Version: version, Commit: commit, Date: date, Go: runtime.Version()}
	if info == nil {
		if b.Version == "" {
			b.Version = "devel"
		}
		return b
	}
	b.Go = info.GoVersion
	if b.Version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		b.Version = info.Main.Version
	}
	if b.Version == "" {
		b.Version = "devel"
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			if b.Commit == "" {
				b.Commit = s.Value
			}
		case "vcs.time":
			if b.Date == "" {
				b.Date = s.Value
			}
		case "vcs.modified":
			// Only meaningful for the commit the build info names.
			b.Modified = s.Value == "true" && commit == ""
		}
	}
	return b
}

// currentBuild is this binary's build info.
func currentBuild() buildInfo {
	info, _ := debug.ReadBuildInfo()
	return readBuildInfo(Version, Commit, Date, info)
}

// version is gate's version string, as summaries record it.
func version() string { return currentBuild().Version }

// String is the line `gate version` prints:
//
//	gate v1.2.3 (commit 0123…cdef, 2026-11-30T12:00:00Z; go1.26.8 linux/amd64)
func (b buildInfo) String() string {
	var from []string
	if b.Commit != "" {
		c := "commit " + b.Commit
		if b.Modified {
			c += " with local changes"
		}
		from = append(from, c)
	}
	if b.Date != "" {
		from = append(from, b.Date)
	}
	built := fmt.Sprintf("%s %s/%s", b.Go, runtime.GOOS, runtime.GOARCH)
	if len(from) > 0 {
		built = strings.Join(from, ", ") + "; " + built
	}
	return fmt.Sprintf("gate %s (%s)", b.Version, built)
}

func (c *Command) runVersion(_ context.Context, args []string) int {
	if len(args) > 0 {
		fmt.Fprintf(c.Stderr, "gate version: takes no arguments, got %q\n", strings.Join(args, " "))
		return exitError
	}
	fmt.Fprintln(c.Stdout, currentBuild())
	return exitOK
}
