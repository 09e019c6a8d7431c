package gate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nsys-gate/gate/internal/exporttest"
	"github.com/nsys-gate/gate/internal/githubtest"
)

// A head whose capture lost its steps is not comparable (exit 3) with the
// reason first, in `gate compare`; the same head with its ranges intact
// fails (TestCompareExitCodes).
func TestCompareBrokenHeadIsNotComparable(t *testing.T) {
	for _, b := range exporttest.Cases() {
		head := exporttest.Broken(t, cmpExport("regress_host_sync"), b.SQL)
		code, out, stderr := cmpRun("compare", cmpExport("base_a"), head, "--format", "text")
		if code != exitNotComparable {
			t.Errorf("%s: exit %d, want %d (stderr %q)", b.Name, code, exitNotComparable, stderr)
		}
		first, _, _ := strings.Cut(out, "\n")
		if !strings.HasPrefix(first, "⚪ gate: not comparable — ") || !strings.Contains(first, "head") || !strings.Contains(first, "steps") {
			t.Errorf("%s: verdict line %q, want the reason first", b.Name, first)
		}
		if !strings.Contains(stderr, "gate compare: not comparable: ") {
			t.Errorf("%s: stderr %q", b.Name, stderr)
		}
	}
}

// A threshold in the wrong unit is a config error naming the rule, for
// `gate rules` and for `gate compare`; a glob that matches nothing warns.
func TestRulesRefuseUnitMismatch(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yml")
	os.WriteFile(bad, []byte("rules:\n  - metric: phases.decode.kernels\n    fail: 5ms\n"), 0o644)
	want := `rules[0].fail: "5ms" is a time and cannot measure phases.*.kernels (a count, matched by "phases.decode.kernels")`
	for _, args := range [][]string{{"rules", "--config", bad}, {"compare", "--config", bad, cmpExport("base_a"), cmpExport("base_b")}} {
		code, _, stderr := cmpRun(args...)
		if code != exitError || !strings.Contains(stderr, bad) || !strings.Contains(stderr, want) {
			t.Errorf("gate %s: exit %d stderr %q; want %d naming the rule", args[0], code, stderr, exitError)
		}
	}
	typo := filepath.Join(dir, "typo.yml")
	os.WriteFile(typo, []byte("rules:\n  - metric: phases.decode.spam.p50\n    fail: 5%\n"), 0o644)
	code, out, stderr := cmpRun("rules", "--config", typo)
	if code != exitOK || !strings.Contains(out, "phases.decode.spam.p50") ||
		!strings.Contains(stderr, `gate rules: warning: `+typo+`: rules[0].metric: "phases.decode.spam.p50" matches no metric gate knows`) {
		t.Errorf("typo: exit %d stderr %q", code, stderr)
	}
}

// The same broken heads through `gate action`: the verdict output is
// not_comparable, the check run is not a success, and the comment leads
// with the reason. Only an explicit `exit:` in gate.yml changes the code.
func TestActionBrokenHeadIsNotComparable(t *testing.T) {
	t.Parallel()
	for _, b := range exporttest.Cases() {
		gh := githubtest.New(t)
		withBaselines(t, gh)
		head := exporttest.Broken(t, fixture("regress_host_sync"), b.SQL)
		e := newActionEnv(t, gh, "pull_request", map[string]string{"mode": "compare", "profile": head})
		if code := e.run(); code != exitNotComparable {
			e.logf(t)
			t.Fatalf("%s: exit %d, want %d", b.Name, code, exitNotComparable)
		}
		if out := e.outputs(t); out["verdict"] != "not_comparable" || out["regressions"] != "0" {
			t.Errorf("%s: outputs %v", b.Name, out)
		}
		// The step fails (exit 3), so the check run does too.
		if checks := gh.Checks(); len(checks) != 1 || checks[0]["conclusion"] != "failure" {
			t.Errorf("%s: check runs %v, want one failure", b.Name, checks)
		}
		cs := gh.IssueComments(7)
		if len(cs) != 1 {
			t.Fatalf("%s: %d comments", b.Name, len(cs))
		}
		lines := strings.SplitN(cs[0].Body, "\n", 3)
		if len(lines) < 2 || !strings.HasPrefix(lines[1], "⚪ **gate: not comparable** — ") || !strings.Contains(lines[1], "head") || !strings.Contains(lines[1], "steps") {
			t.Errorf("%s: comment does not lead with the reason:\n%.400s", b.Name, cs[0].Body)
		}
		if b.Name != "ends_null" {
			continue
		}
		e.config(t, "exit:\n  not-comparable: 0\n")
		if code := e.run(); code != exitOK {
			t.Errorf("with exit.not-comparable 0: exit %d", code)
		}
		if out := e.outputs(t); out["verdict"] != "not_comparable" {
			t.Errorf("with exit.not-comparable 0: verdict %q", out["verdict"])
		}
	}
}
