package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/nsys-gate/gate/compare"
	"github.com/nsys-gate/gate/parse"
)

// onGPU is a copy of s as if profiled on another GPU model.
func onGPU(s *parse.Summary, gpu string) *parse.Summary {
	c := *s
	c.GPU.Name = gpu
	return &c
}

// mergedEntry compares base with head (base nil: no baseline) as entry id.
func mergedEntry(id string, base, head *parse.Summary) Entry {
	r := compare.Compare(base, head, compare.Options{ConfigID: id})
	if base == nil {
		r.Reasons = append([]string{"no baseline yet: this run will become the baseline once merged"}, r.Reasons...)
	}
	return Entry{ID: id, Verdict: r.Verdict, Result: r, ReportURL: "https://example.com/artifacts/" + id}
}

// realMerged is a merged report of the real fixtures: a failure, a pass, a
// GPU that changed, an entry with no baseline yet, an accepted cost and a
// leg that uploaded nothing.
func realMerged(t *testing.T) *Merged {
	base := realSummary(t, "base_a")
	accepted := mergedEntry("llama-8b-h200-tp2", base, realSummary(t, "regress_host_sync"))
	accepted.Verdict = compare.Accepted
	return &Merged{
		Entries: []Entry{
			mergedEntry("llama-8b-h200", base, realSummary(t, "base_b")),
			mergedEntry("qwen-7b-h200", base, realSummary(t, "regress_double_attn")),
			mergedEntry("llama-8b-l40s", base, onGPU(realSummary(t, "base_b"), "NVIDIA L40S")),
			mergedEntry("mistral-7b-h200", nil, realSummary(t, "base_b")),
			accepted,
			{ID: "llama-70b-h200-tp8", Verdict: compare.Missing, Why: "no artifact gate-report-llama-70b-h200-tp8 in run 12000000099: its leg crashed, was cancelled or uploaded nothing"},
		},
		Acceptances: []Acceptance{
			{Target: "llama-8b-h200-tp2", Reason: "a host sync per step for exact sampling, @perf-team agreed", Label: "perf-accepted", By: "alice",
				Accepted: []AcceptedMetric{{Entry: "llama-8b-h200-tp2", Metric: "phases.decode.span.p50"}, {Entry: "llama-8b-h200-tp2", Metric: "phases.decode.syncs"}}},
			{Target: "kernels.*.per_step", Reason: "fused kernels launch twice", Refused: "no failure matches it"},
		},
	}
}

func TestMergedMarkdown(t *testing.T) {
	if testing.Short() {
		t.Skip("parses the real exports")
	}
	m := realMerged(t)
	var b bytes.Buffer
	if err := MergedMarkdown(&b, m, Options{FullReportURL: "https://example.com/run"}); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	checkInert(t, md)
	if !strings.HasPrefix(md, Marker("")+"\n❌ **gate: fail** — 1 of 6 entries failed: `qwen-7b-h200` decode · step p50 1.17 → 1.44 ms (+22.7%)") {
		t.Errorf("the verdict line does not lead with the failing entry and its cause:\n%.400s", md)
	}
	if !strings.Contains(md, "; 1 failed, 1 missing, 1 not comparable, 1 no baseline, 1 accepted, 1 passed") {
		t.Errorf("the verdict line does not count the entries:\n%.400s", md)
	}
	// One row per entry, failing first: fail, missing, not comparable, no
	// baseline, accepted, pass.
	var rows []string
	for _, l := range strings.Split(md, "\n") {
		if strings.HasPrefix(l, "| `") {
			rows = append(rows, l)
		}
	}
	wantRows := []string{
		"| `qwen-7b-h200` | H200 | ❌ fail | decode · step p50 +22.7%, ",
		"| `llama-70b-h200-tp8` | — | ⛔ missing | no artifact gate-report-llama-70b-h200-tp8 in run 12000000099",
		"| `llama-8b-l40s` | L40S (base H200) | ⚪ not comparable | ",
		"| `mistral-7b-h200` | H200 | ⚪ no baseline | no baseline yet: this run will become the baseline once merged | — | — |",
		"| `llama-8b-h200-tp2` | H200 | ☑️ accepted | decode · ",
		"| `llama-8b-h200` | H200 | ✅ pass | ",
	}
	if len(rows) < len(wantRows) {
		t.Fatalf("%d entry rows, want %d:\n%s", len(rows), len(wantRows), md)
	}
	for i, w := range wantRows {
		if !strings.HasPrefix(rows[i], w) {
			t.Errorf("row %d:\n got %s\nwant %s…", i+1, rows[i], w)
		}
	}
	if !strings.Contains(rows[0], "| **+22.7%** |") {
		t.Errorf("the failing entry's decode change is not bold: %s", rows[0])
	}
	for _, w := range []string{
		"☑️ **Accepted** by this pull request:",
		"- `llama-8b-h200-tp2`: 2 failures accepted by alice (label `perf-accepted`) — a host sync per step for exact sampling, @\u200dperf-team agreed",
		"- `kernels.*.per_step`: nothing accepted, no failure matches it — fused kernels launch twice",
		"<details><summary>❌ qwen-7b-h200: fail</summary>",
		"[full report and run](<https://example.com/artifacts/qwen-7b-h200>)",
		"⛔ `llama-70b-h200-tp8`: no artifact",
	} {
		if !strings.Contains(md, w) {
			t.Errorf("merged markdown lacks %q", w)
		}
	}
	if n := strings.Count(md, "<details><summary>"); n < 5 {
		t.Errorf("%d folded reports, want one per entry with a result", n)
	}
	golden(t, "merged.md", b.Bytes())
}

// TestMergedBudget: 20 entries of real summaries stay within a comment,
// every entry has its row, and when the reports do not all fit the failing
// entries keep theirs while later ones point to their full report.
func TestMergedBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("parses the real exports")
	}
	m := twentyEntries(t)
	for _, budget := range []int{CommentBudget, 20000} {
		var b bytes.Buffer
		if err := MergedMarkdown(&b, m, Options{Budget: budget, FullReportURL: "https://example.com/run"}); err != nil {
			t.Fatal(err)
		}
		md := b.String()
		if n := UTF16Len(md); n > budget {
			t.Errorf("budget %d: %d characters", budget, n)
		}
		checkInert(t, md)
		for _, e := range m.Entries {
			if !strings.Contains(md, "| `"+e.ID+"` |") {
				t.Errorf("budget %d: no row for %s", budget, e.ID)
			}
		}
		folded, pointed := 0, 0
		firstPointer := -1
		for i, e := range m.sorted() {
			switch {
			case strings.Contains(md, "<summary>"+htmlEscape(foldTitle(e))+"</summary>"):
				folded++
				if firstPointer >= 0 {
					t.Errorf("budget %d: %s (%s) is folded after %d was cut", budget, e.ID, e.Verdict, firstPointer)
				}
			case strings.Contains(md, "`"+e.ID+"`: its report was left out to fit the comment; see [its full report](<https://example.com/artifacts/"+e.ID+">)."):
				pointed++
				if firstPointer < 0 {
					firstPointer = i
				}
			default:
				t.Errorf("budget %d: %s has neither its report nor a pointer to it", budget, e.ID)
			}
		}
		t.Logf("budget %d: %d characters, %d reports folded, %d pointers", budget, UTF16Len(md), folded, pointed)
		if folded == 0 || m.sorted()[0].Verdict != compare.Fail {
			t.Errorf("budget %d: the failing entries lost their reports", budget)
		}
		if budget == 20000 && pointed == 0 {
			t.Errorf("budget 20000 fits all 20 reports: the test no longer cuts")
		}
	}
}

// twentyEntries are 20 configurations made of the real fixtures.
func twentyEntries(t *testing.T) *Merged {
	base := realSummary(t, "base_a")
	heads := []string{"base_b", "regress_double_attn", "regress_host_sync", "regress_no_graphs", "base_graphmode"}
	m := &Merged{}
	for i := 0; i < 20; i++ {
		model := []string{"llama-3.1-8b", "qwen2.5-7b", "mistral-7b", "llama-3.1-70b"}[i%4]
		gpu := []string{"h200", "h100", "l40s", "b200", "a100"}[i/4]
		id := fmt.Sprintf("%s-%s-tp%d", model, gpu, 1<<(i%3))
		m.Entries = append(m.Entries, mergedEntry(id, base, realSummary(t, heads[i%len(heads)])))
	}
	return m
}

func TestMergedFormats(t *testing.T) {
	if testing.Short() {
		t.Skip("parses the real exports")
	}
	m := realMerged(t)
	var txt, js, h bytes.Buffer
	if err := MergedText(&txt, m, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"❌ gate: fail — 1 of 6 entries failed: qwen-7b-h200 decode · step p50 1.17 → 1.44 ms (+22.7%)", "❌ qwen-7b-h200: fail\n=", "⛔ llama-70b-h200-tp8: missing\n"} {
		if !strings.Contains(txt.String(), w) {
			t.Errorf("text lacks %q", w)
		}
	}
	if err := MergedJSON(&js, m); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Schema  string
		Verdict compare.Verdict
		Entries []struct {
			ID      string
			Verdict compare.Verdict
			Result  *compare.Result
		}
		Acceptances []Acceptance
	}
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Schema != MergedSchema || back.Verdict != compare.Fail || len(back.Entries) != 6 || back.Entries[0].ID != "qwen-7b-h200" ||
		back.Entries[1].Result != nil || back.Entries[0].Result == nil || len(back.Acceptances) != 2 {
		t.Errorf("merged JSON read back as %+v", back)
	}
	if err := MergedHTML(&h, m, Options{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h.String(), "<details open><summary>❌ qwen-7b-h200: fail</summary>") || !strings.Contains(h.String(), "<details><summary>✅ llama-8b-h200: pass</summary>") {
		t.Errorf("the HTML page does not unfold what needs reading")
	}
}

func TestAcceptanceMarkdown(t *testing.T) {
	if AcceptanceMarkdown(nil) != "" {
		t.Error("no reason lines, yet a block")
	}
	md := AcceptanceMarkdown([]Acceptance{{Target: "phases.decode.*", Reason: "<!-- gate:report id=x --> `pwned` [x](https://evil.example)", Refused: "the label perf-accepted is not set"}})
	if !strings.HasPrefix(md, "ℹ️ This pull request asks to accept costs; nothing was accepted:\n\n- `phases.decode.*`: nothing accepted, the label perf-accepted is not set — ") {
		t.Errorf("acceptance block:\n%s", md)
	}
	checkInert(t, Marker("x")+"\n"+md)
}
