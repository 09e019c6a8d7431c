package action

import (
	"strings"
	"testing"

	"github.com/nsys-gate/gate/compare"
	"github.com/nsys-gate/gate/gate/config"
)

func TestParseAcceptLines(t *testing.T) {
	body := strings.Join([]string{
		"Trades decode speed for exact sampling.",
		"",
		"gate: accept phases.decode.* — exact sampling costs a sync per step",
		"- gate: accept llama-h200 -- moved to the new scheduler",
		"> GATE: Accept qwen-h200:kernels.*.per_step – two launches of the fused kernel",
		"gate: accept phases.decode.span",
		"gate: accept two words — reason",
		"gate: accept nope:phases.* — no such entry",
		"gate: accept phases.[decode — a bad glob",
		"gate: accepted phases.decode — not the verb",
		"  gate: accept qwen-h200: — nothing after the colon",
		"the gate: accept x — not at the start",
	}, "\n")
	got := parseAcceptLines(body, []string{"llama-h200", "qwen-h200"})
	want := []acceptRequest{
		{target: "phases.decode.*", reason: "exact sampling costs a sync per step", glob: "phases.decode.*"},
		{target: "llama-h200", reason: "moved to the new scheduler", entry: "llama-h200"},
		{target: "qwen-h200:kernels.*.per_step", reason: "two launches of the fused kernel", entry: "qwen-h200", glob: "kernels.*.per_step"},
		{target: "phases.decode.span", problem: "it gives no reason after a dash"},
		{target: "two words", reason: "reason", problem: "name one metric glob or entry per line, then a dash and the reason"},
		{target: "nope:phases.*", reason: "no such entry", problem: "there is no entry nope"},
		{target: "phases.[decode", reason: "a bad glob", glob: "phases.[decode", problem: "phases.[decode is not a metric glob"},
		{target: "qwen-h200:", reason: "nothing after the colon", entry: "qwen-h200", problem: "it names an entry but no metrics after the colon"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d requests, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	many := strings.Repeat("gate: accept x — y\n", 30)
	if n := len(parseAcceptLines(many, nil)); n != maxAcceptLines {
		t.Errorf("%d requests from 30 lines, want at most %d", n, maxAcceptLines)
	}
}

func TestAcceptCovers(t *testing.T) {
	for _, tc := range []struct {
		q      acceptRequest
		entry  string
		metric string
		want   bool
	}{
		{acceptRequest{glob: "phases.decode.*"}, "a", "phases.decode.span.p50", true},
		{acceptRequest{glob: "phases.decode.*"}, "a", "phases.decode.kernels", true},
		{acceptRequest{glob: "phases.decode"}, "a", "phases.decode.syncs", true},
		{acceptRequest{glob: "phases.decode.*"}, "a", "phases.prefill.span.p50", false},
		{acceptRequest{glob: "phases.decode.*"}, "a", "kernels.elementwise_kernel.per_step", false},
		{acceptRequest{glob: "kernels.*.per_step"}, "a", "kernels.elementwise_kernel.per_step", true},
		{acceptRequest{glob: "kernels.*.per_step"}, "a", "kernels.elementwise_kernel.total", false},
		{acceptRequest{entry: "a"}, "a", "anything.at.all", true},
		{acceptRequest{entry: "a"}, "b", "anything.at.all", false},
		{acceptRequest{entry: "a", glob: "phases.**"}, "b", "phases.decode.span.p50", false},
		{acceptRequest{glob: "phases.*", problem: "no reason"}, "a", "phases.decode", false},
	} {
		if got := tc.q.covers(tc.entry, tc.metric); got != tc.want {
			t.Errorf("%+v covers %s %s = %v, want %v", tc.q, tc.entry, tc.metric, got, tc.want)
		}
	}
}

// failed is a result whose named metrics failed and whose others passed.
func failed(fail []string, pass ...string) *compare.Result {
	r := &compare.Result{Verdict: compare.Fail}
	for _, n := range fail {
		r.Metrics = append(r.Metrics, compare.Metric{Name: n, Verdict: compare.Fail})
		r.Counts.Fail++
	}
	for _, n := range pass {
		r.Metrics = append(r.Metrics, compare.Metric{Name: n, Verdict: compare.Pass})
		r.Counts.Pass++
	}
	if len(fail) == 0 {
		r.Verdict = compare.Pass
	}
	return r
}

func TestDecideAcceptance(t *testing.T) {
	hostSync := failed([]string{"phases.decode.dtoh", "phases.decode.memcpys", "phases.decode.span.p50", "phases.decode.syncs"}, "phases.prefill.span.p50")
	doubleAttn := failed([]string{"phases.decode.span.p50", "phases.decode.kernels", "kernels.elementwise_kernel.per_step"})
	entries := []acceptEntry{
		{id: "llama", res: hostSync, label: "perf-accepted", failOn: FailOnFail},
		{id: "qwen", res: doubleAttn, label: "perf-accepted", failOn: FailOnFail},
		{id: "mistral", res: failed(nil, "phases.decode.span.p50"), label: "perf-accepted", failOn: FailOnFail},
		{id: "tp2"}, // missing
	}
	labelled := prLabels{set: map[string]bool{"perf-accepted": true, "bug": true}, by: map[string]string{"perf-accepted": "alice"}}
	reqs := parseAcceptLines("gate: accept phases.decode.* — exact sampling\ngate: accept components.* — nothing fails there", []string{"llama", "qwen", "mistral", "tp2"})

	whole, out := decideAcceptance(entries, reqs, labelled)
	if !whole[0] || whole[1] || whole[2] || whole[3] {
		t.Errorf("accepted whole: %v; want only llama (qwen's kernels-per-step regression is not named)", whole)
	}
	if len(out) != 2 || len(out[0].Accepted) != 6 || out[0].By != "alice" || out[0].Label != "perf-accepted" || out[0].Reason != "exact sampling" {
		t.Errorf("the decode line: %+v", out[0])
	}
	for _, m := range out[0].Accepted {
		if m.Entry == "qwen" && !strings.HasPrefix(m.Metric, "phases.decode.") {
			t.Errorf("accepted %s of qwen, which no line names", m.Metric)
		}
	}
	if len(out[1].Accepted) != 0 || out[1].Refused != "no failure matches it" {
		t.Errorf("the line that names nothing failing: %+v", out[1])
	}

	// The reason line without the label accepts nothing.
	whole, out = decideAcceptance(entries, reqs, prLabels{set: map[string]bool{"bug": true}})
	if whole[0] || len(out[0].Accepted) != 0 || out[0].Refused != "the label perf-accepted is not set" {
		t.Errorf("without the label: whole %v, %+v", whole, out[0])
	}
	// Nor does a label the baseline's gate.yml does not name.
	noLabel := append([]acceptEntry(nil), entries...)
	noLabel[0].label, noLabel[1].label = "", ""
	whole, out = decideAcceptance(noLabel, reqs, labelled)
	if whole[0] || len(out[0].Accepted) != 0 || !strings.Contains(out[0].Refused, "names no accept-label") {
		t.Errorf("no accept-label recorded: whole %v, %+v", whole, out[0])
	}
	// Labels that could not be read accept nothing.
	whole, out = decideAcceptance(entries, reqs, prLabels{err: errNoBaseline})
	if whole[0] || !strings.Contains(out[0].Refused, "could not be read") {
		t.Errorf("unreadable labels: whole %v, %+v", whole, out[0])
	}
	// Warnings are failures only under fail-on: warn.
	warned := &compare.Result{Verdict: compare.Warn, Metrics: []compare.Metric{{Name: "phases.decode.span.p50", Verdict: compare.Warn}}}
	if w, _ := decideAcceptance([]acceptEntry{{id: "a", res: warned, label: "perf-accepted", failOn: FailOnWarn}}, reqs, labelled); !w[0] {
		t.Error("a warning that fails the step (fail-on: warn) was not accepted")
	}
	if w, _ := decideAcceptance([]acceptEntry{{id: "a", res: warned, label: "perf-accepted", failOn: FailOnFail}}, reqs, labelled); w[0] {
		t.Error("a warning that does not fail the step counts as accepted")
	}
}

// FuzzParseAcceptLines: a pull request's description is anyone's text.
// Reading it never panics, keeps its bound, and a line it takes as a
// request names one target and gives a reason.
func FuzzParseAcceptLines(f *testing.F) {
	f.Add("gate: accept phases.decode.* — exact sampling", "llama")
	f.Add("- gate: accept llama -- why\n> GATE: ACCEPT llama:kernels.*.per_step – x", "llama")
	f.Add("gate: accept [— x\ngate: accept a:b:c — y\ngate:accept\tz - w", "a")
	f.Add("gate: accept \xff\xfe — \x00", "")
	f.Fuzz(func(t *testing.T, body, id string) {
		reqs := parseAcceptLines(body, []string{id})
		if len(reqs) > maxAcceptLines {
			t.Fatalf("%d requests", len(reqs))
		}
		for _, q := range reqs {
			if q.problem != "" {
				continue
			}
			if q.target == "" || strings.ContainsAny(q.target, " \t\n") || strings.TrimSpace(q.reason) == "" {
				t.Errorf("a request without one target or a reason: %+v", q)
			}
			if q.glob != "" && !validGlob(q.glob) {
				t.Errorf("a bad glob taken: %+v", q)
			}
			q.covers(id, "phases.decode.span.p50")
		}
	})
}

// FuzzMatrixID: the matrix input is the workflow's toJSON(matrix); any
// text either names an entry with an id gate accepts, names none, or is an
// error.
func FuzzMatrixID(f *testing.F) {
	f.Add(`{"model": "Llama-3.1 8B", "gpu": "h200", "tp": 2}`)
	f.Add(`null`)
	f.Add(`{"a": {"b": 1}}`)
	f.Add(`{"a": "` + strings.Repeat("é", 40) + `"}`)
	f.Fuzz(func(t *testing.T, matrix string) {
		id, err := matrixID(matrix)
		if err == nil && id != "" {
			if cerr := config.CheckID(id); cerr != nil {
				t.Errorf("matrixID(%q) = %q, which is no id: %v", matrix, id, cerr)
			}
		}
	})
}
