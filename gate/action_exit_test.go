package gate

import (
	"path/filepath"
	"testing"

	"github.com/nsys-gate/gate/compare"
)

func TestExitFor(t *testing.T) {
	zero := 0
	lenient := &Config{Exit: ExitConfig{NoBaseline: &zero}}
	tests := []struct {
		v      compare.Verdict
		failOn string
		cfg    *Config
		want   int
	}{
		{compare.Pass, failOnFail, &Config{}, ExitOK},
		{compare.Warn, failOnFail, &Config{}, ExitOK},
		{compare.Fail, failOnFail, &Config{}, ExitFail},
		{compare.Warn, failOnWarn, &Config{}, ExitFail},
		{compare.Pass, failOnWarn, &Config{}, ExitOK},
		{compare.Fail, failOnWarn, &Config{}, ExitFail},
		{compare.Fail, failOnNever, &Config{}, ExitOK},
		{compare.NoBaseline, failOnFail, &Config{}, ExitNotComparable},
		{compare.NoBaseline, failOnFail, lenient, ExitOK},
		{compare.NotComparable, failOnFail, lenient, ExitNotComparable},
		{compare.NotComparable, failOnNever, &Config{}, ExitOK},
	}
	for _, tt := range tests {
		if got := exitFor(tt.v, tt.failOn, tt.cfg); got != tt.want {
			t.Errorf("exitFor(%s, %s) = %d, want %d", tt.v, tt.failOn, got, tt.want)
		}
	}
}

func TestReadEvent(t *testing.T) {
	pr, err := readEvent(filepath.Join("..", "testdata", "github", "pull_request.json"))
	if err != nil {
		t.Fatal(err)
	}
	if pr.prNumber() != 7 || pr.headSHA("x") != "6c1f0b9e2d4a7c3b8e5f1a0d9c2b4e6f8a1c3d5e" || pr.Repository.DefaultBranch != "main" || pr.fromFork() {
		t.Errorf("pull_request event read as %+v", pr)
	}
	wr, err := readEvent(filepath.Join("..", "testdata", "github", "workflow_run.json"))
	if err != nil {
		t.Fatal(err)
	}
	if wr.prNumber() != 0 || wr.WorkflowRun == nil || wr.WorkflowRun.HeadRepository.FullName != "contributor/demo" || len(wr.WorkflowRun.PullRequests) != 0 || wr.headSHA("push-sha") != "push-sha" {
		t.Errorf("workflow_run event read as %+v", wr.WorkflowRun)
	}
	if _, err := readEvent(filepath.Join("..", "testdata", "github", "README.md")); err == nil {
		t.Error("a markdown file read as an event")
	}
}

func TestFmtValue(t *testing.T) {
	for _, tt := range []struct {
		v    float64
		unit string
		want string
	}{
		{1034540, "ns", "1.035 ms"},
		{850, "ns", "850 ns"},
		{12500, "ns", "12.5 µs"},
		{3 << 20, "bytes", "3 MiB"},
		{4.8e12, "bps", "4800 GB/s"},
		{97.25, "pct", "97.25%"},
		{328, "count", "328"},
		{493.5, "tok/s", "493.5 tok/s"},
	} {
		if got := fmtValue(tt.v, tt.unit); got != tt.want {
			t.Errorf("fmtValue(%v, %q) = %q, want %q", tt.v, tt.unit, got, tt.want)
		}
	}
}
