package action

import (
	"path/filepath"
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
		{ID: 1, Name: "b", CreatedAt: day, HeadBranch: "main", HeadSHA: "m1"},
		{ID: 2, Name: "b", CreatedAt: day.Add(time.Hour), HeadBranch: "main", RepoID: 1, HeadRepoID: 2, HeadSHA: "fork"},
		{ID: 3, Name: "b", CreatedAt: day.Add(2 * time.Hour), HeadBranch: "main", Expired: true, HeadSHA: "m3"},
		{ID: 4, Name: "b", CreatedAt: day.Add(3 * time.Hour), HeadBranch: "dev", HeadSHA: "d4"},
		{ID: 5, Name: "c", CreatedAt: day.Add(4 * time.Hour), HeadBranch: "main", HeadSHA: "m5"},
		{ID: 6, Name: "b", CreatedAt: day.Add(-time.Hour), HeadBranch: "main", HeadSHA: "m6"},
		{ID: 7, Name: "b", CreatedAt: day.Add(-2 * time.Hour), HeadBranch: "release/1.x", HeadSHA: "r7"},
		{ID: 8, Name: "b", CreatedAt: day.Add(-3 * time.Hour), HeadBranch: "release/1.x", HeadSHA: "r8"},
	}
	for _, tc := range []struct {
		name    string
		q       baselineQuery
		want    int64
		how     choice
		skipped int
	}{
		{"the newest on the branch", baselineQuery{Name: "b", Branches: []string{"main"}}, 1, choice{Branch: "main"}, 5},
		{"the merge base's, though older", baselineQuery{Name: "b", Branches: []string{"main"}, MergeBase: "m6"}, 6, choice{MergeBase: true, Branch: "main"}, 5},
		{"the base branch's over the default branch's", baselineQuery{Name: "b", Branches: []string{"release/1.x", "main"}}, 7, choice{Branch: "release/1.x"}, 3},
		{"the merge base on the base branch", baselineQuery{Name: "b", Branches: []string{"release/1.x", "main"}, MergeBase: "r8"}, 8, choice{MergeBase: true, Branch: "release/1.x"}, 3},
		{"the merge base on the default branch beats the base branch's newest", baselineQuery{Name: "b", Branches: []string{"release/1.x", "main"}, MergeBase: "m1"}, 1, choice{MergeBase: true, Branch: "main", Rank: 1}, 3},
		{"the default branch when the base branch has none", baselineQuery{Name: "b", Branches: []string{"stacked", "main"}}, 1, choice{Branch: "main", Rank: 1}, 5},
		{"a merge base without a baseline", baselineQuery{Name: "b", Branches: []string{"main"}, MergeBase: "nowhere"}, 1, choice{Branch: "main"}, 5},
		{"never a fork's or an expired one for the merge base", baselineQuery{Name: "b", Branches: []string{"main"}, MergeBase: "fork"}, 1, choice{Branch: "main"}, 5},
	} {
		a, how, skipped, ok := pickBaseline(arts, tc.q)
		if !ok || a.ID != tc.want || how != tc.how || len(skipped) != tc.skipped {
			t.Errorf("%s: picked %d %+v (ok %v), skipped %q; want %d %+v and %d skipped", tc.name, a.ID, how, ok, skipped, tc.want, tc.how, tc.skipped)
		}
	}
	if _, _, _, ok := pickBaseline(arts, baselineQuery{Name: "b", Branches: []string{"release/2.x"}}); ok {
		t.Error("picked a baseline for a branch that has none")
	}
}

func TestBaselineOrigin(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	a := Artifact{RunID: 902, HeadBranch: "main", HeadSHA: "0d3a7e9c1b5f2a4e6c8b0d2f4a6c8e0b2d4f6a8c", CreatedAt: now.Add(-7*24*time.Hour - time.Hour)}
	q := baselineQuery{Branches: []string{"release/1.x", "main"}, MergeBase: "5555555555555555555555555555555555555555"}
	for _, tc := range []struct {
		how  choice
		q    baselineQuery
		want string
	}{
		{choice{MergeBase: true, Branch: "main", Rank: 1}, q, "the merge base 0d3a7e9c1b5f of this pull request, on main (run 902, 7 days old)"},
		{choice{Branch: "main", Rank: 1}, q, `the newest on main, 0d3a7e9c1b5f (run 902, 7 days old): "release/1.x" has none`},
		{choice{Branch: "main"}, baselineQuery{Branches: []string{"main"}, MergeBase: q.MergeBase}, "the newest on main, 0d3a7e9c1b5f (run 902, 7 days old): the merge base 555555555555 has none"},
		{choice{Branch: "main"}, baselineQuery{Branches: []string{"main"}}, "the newest on main, 0d3a7e9c1b5f (run 902, 7 days old)"},
	} {
		b := &baseline{Artifact: a, How: tc.how, Query: tc.q}
		if got := b.origin(now); got != tc.want {
			t.Errorf("%+v:\n got %s\nwant %s", tc.how, got, tc.want)
		}
	}
	for d, want := range map[time.Duration]string{-time.Minute: "0 min", 40 * time.Minute: "40 min", 5 * time.Hour: "5 h", 47 * time.Hour: "47 h", 72 * time.Hour: "3 days"} {
		if got := age(d); got != want {
			t.Errorf("age(%v) = %q, want %q", d, got, want)
		}
	}
}
