package gate

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestReadBuildInfo(t *testing.T) {
	vcs := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	checkout := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
		Settings: vcs("vcs", "git", "vcs.revision", "82025f7c1a2b3c4d5e6f708192a3b4c5d6e7f809", "vcs.time", "2026-12-01T09:40:00Z", "vcs.modified", "true")}
	for _, tc := range []struct {
		name                  string
		version, commit, date string
		info                  *debug.BuildInfo
		want                  string
	}{
		{"release: ldflags win over the build info", "v1.2.3", "0123456789abcdef0123456789abcdef01234567", "2026-11-30T12:00:00Z", checkout,
			"gate v1.2.3 (commit 0123456789abcdef0123456789abcdef01234567, 2026-11-30T12:00:00Z; go1.26.8 "},
		{"go build in a checkout: vcs.revision and vcs.time", "", "", "", checkout,
			"gate devel (commit 82025f7c1a2b3c4d5e6f708192a3b4c5d6e7f809 with local changes, 2026-12-01T09:40:00Z; go1.26.8 "},
		{"go install module@version: no vcs settings", "", "", "", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3"}},
			"gate v1.2.3 (go1.26.8 "},
		{"the Docker build: commit and date stamped, no version", "", "82025f7c1a2b3c4d5e6f708192a3b4c5d6e7f809", "2026-12-01T09:40:00+00:00", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}},
			"gate devel (commit 82025f7c1a2b3c4d5e6f708192a3b4c5d6e7f809, 2026-12-01T09:40:00+00:00; go1.26.8 "},
		{"no build info at all", "", "", "", nil, "gate devel (go1."},
	} {
		got := readBuildInfo(tc.version, tc.commit, tc.date, tc.info).String()
		if !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s:\n got %q\nwant %q…", tc.name, got, tc.want)
		}
	}
}

func TestVersionTakesNoArguments(t *testing.T) {
	code, stdout, stderr := runGate("version")
	if code != exitOK || !strings.HasPrefix(stdout, "gate ") || stderr != "" {
		t.Errorf("gate version: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, _, stderr = runGate("version", "--bogus")
	if code != exitError || !strings.Contains(stderr, "takes no arguments") {
		t.Errorf("gate version --bogus: exit %d, stderr %q; want %d and a usage error", code, stderr, exitError)
	}
}

// The release's ldflags must name this package's variables: -X on a name
// that does not exist is silently ignored by the linker.
func TestReleaseLdflagsNameTheseVariables(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Builds []struct {
			ID      string   `yaml:"id"`
			Ldflags []string `yaml:"ldflags"`
		} `yaml:"builds"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatalf(".goreleaser.yaml: %v", err)
	}
	if len(cfg.Builds) == 0 {
		t.Fatal(".goreleaser.yaml: no builds")
	}
	x := regexp.MustCompile(`-X (\S+)=`)
	for _, b := range cfg.Builds {
		var set []string
		for _, f := range b.Ldflags {
			for _, m := range x.FindAllStringSubmatch(f, -1) {
				set = append(set, m[1])
			}
		}
		want := []string{"github.com/nsys-gate/gate/gate.Version", "github.com/nsys-gate/gate/gate.Commit", "github.com/nsys-gate/gate/gate.Date"}
		if strings.Join(set, " ") != strings.Join(want, " ") {
			t.Errorf("build %s sets %v; want %v", b.ID, set, want)
		}
	}
}

// A binary linked as the release links it, and one built in this checkout
// as a developer builds it, say where they came from.
func TestVersionOfBuiltBinaries(t *testing.T) {
	if testing.Short() {
		t.Skip("builds gate twice")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool")
	}
	dir := t.TempDir()
	build := func(name string, args ...string) string {
		t.Helper()
		bin := filepath.Join(dir, name)
		cmd := exec.Command(goTool, append(append([]string{"build", "-o", bin}, args...), "../cmd/gate")...)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %v: %v\n%s", args, err, out)
		}
		out, err := exec.Command(bin, "version").CombinedOutput()
		if err != nil {
			t.Fatalf("%s version: %v\n%s", name, err, out)
		}
		return string(out)
	}

	stamped := build("released", "-buildvcs=false", "-ldflags",
		"-X github.com/nsys-gate/gate/gate.Version=v9.8.7 -X github.com/nsys-gate/gate/gate.Commit=0123456789abcdef0123456789abcdef01234567 -X github.com/nsys-gate/gate/gate.Date=2026-11-30T12:00:00Z")
	if want := "gate v9.8.7 (commit 0123456789abcdef0123456789abcdef01234567, 2026-11-30T12:00:00Z; go"; !strings.HasPrefix(stamped, want) {
		t.Errorf("released build says %q; want %q…", stamped, want)
	}

	// go build stamps vcs.revision only where .git is a directory: a clone,
	// not a git worktree (whose .git is a file).
	if fi, err := os.Stat(filepath.Join("..", ".git")); err != nil || !fi.IsDir() {
		t.Skip("not a git clone: go build records no vcs.revision here")
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("git rev-parse HEAD: %v", err)
	}
	// -buildvcs=true overrides a GOFLAGS=-buildvcs=false in the environment.
	checkout := build("checkout", "-buildvcs=true")
	// Go records the commit as a pseudo-version too (v0.0.0-<time>-<sha>).
	if want := "(commit " + strings.TrimSpace(string(head)); !strings.HasPrefix(checkout, "gate v") || !strings.Contains(checkout, want) {
		t.Errorf("checkout build says %q; want gate v… %q…", checkout, want)
	}
}
