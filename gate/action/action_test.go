package action

import (
	"path/filepath"
	"sort"
	"testing"
	"time"
)

func TestReadEvent(t *testing.T) {
	pr, err := readEvent(filepath.Join("..", "..", "testdata", "github", "pull_request.json"))
	if err != nil {
		t.Fatal(err)
	}
	if pr.prNumber() != 7 || pr.headSHA("x") != "6c1f0b9e2d4a7c3b8e5f1a0d9c2b4e6f8a1c3d5e" || pr.Repository.DefaultBranch != "main" || pr.fromFork() {
		t.Errorf("pull_request event read as %+v", pr)
	}
	wr, err := readEvent(filepath.Join("..", "..", "testdata", "github", "workflow_run.json"))
	if err != nil {
		t.Fatal(err)
	}
	if wr.prNumber() != 0 || wr.WorkflowRun == nil || wr.WorkflowRun.HeadRepository.FullName != "contributor/demo" || len(wr.WorkflowRun.PullRequests) != 0 || wr.headSHA("push-sha") != "push-sha" {
		t.Errorf("workflow_run event read as %+v", wr.WorkflowRun)
	}
	if _, err := readEvent(filepath.Join("..", "..", "testdata", "github", "README.md")); err == nil {
		t.Error("a markdown file read as an event")
	}
}

func TestPickBaseline(t *testing.T) {
	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	arts := []Artifact{
		{ID: 1, Name: "b", CreatedAt: day, HeadBranch: "main"},
		{ID: 2, Name: "b", CreatedAt: day.Add(time.Hour), HeadBranch: "main", RepoID: 1, HeadRepoID: 2},
		{ID: 3, Name: "b", CreatedAt: day.Add(2 * time.Hour), HeadBranch: "main", Expired: true},
		{ID: 4, Name: "b", CreatedAt: day.Add(3 * time.Hour), HeadBranch: "dev"},
		{ID: 5, Name: "c", CreatedAt: day.Add(4 * time.Hour), HeadBranch: "main"},
		{ID: 6, Name: "b", CreatedAt: day.Add(-time.Hour), HeadBranch: "main"},
	}
	a, skipped, ok := pickBaseline(arts, "b", "main")
	if !ok || a.ID != 1 {
		t.Errorf("picked %d %v, want 1", a.ID, ok)
	}
	sort.Strings(skipped)
	if len(skipped) != 3 {
		t.Errorf("skipped = %q, want the fork, the expired and the dev one", skipped)
	}
	if _, _, ok := pickBaseline(arts, "b", "release"); ok {
		t.Error("picked a baseline for a branch that has none")
	}
}
