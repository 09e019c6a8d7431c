package action

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/nsys-gate/gate/compare"
	"github.com/nsys-gate/gate/render"
)

func TestUpsertComment(t *testing.T) {
	marker := render.Marker("decode")
	failed := &compare.Result{Verdict: compare.Fail, Metrics: []compare.Metric{{Name: "phases.decode.span.p50", Verdict: compare.Fail, Head: 2}}}
	failedAgain := &compare.Result{Verdict: compare.Fail, Metrics: []compare.Metric{{Name: "phases.decode.span.p50", Verdict: compare.Fail, Head: 3}}}
	fixed := &compare.Result{Verdict: compare.Pass, Metrics: []compare.Metric{{Name: "phases.decode.span.p50", Verdict: compare.Pass, Head: 1}}}
	body := func(r *compare.Result, text string) string {
		return commentBody(marker+"\n"+text, marker, resultDigest(r))
	}
	ctx := context.Background()
	const bot = githubActionsBot
	tests := []struct {
		name   string
		policy string
		prior  []Comment
		body   string
		want   string   // outcome action
		calls  []string // API writes
	}{
		{"first posts", commentAlways, nil, body(failed, "fail 2"), "created", []string{"create #7"}},
		{"never posts nothing", commentNever, nil, body(failed, "fail 2"), "skipped", nil},
		{"edits gate's own", commentAlways, []Comment{{ID: 1, Body: "hi", User: "reviewer"}, {ID: 2, Body: body(failed, "fail 2"), User: bot}}, body(failed, "fail 3"), "updated", []string{"edit 2"}},
		{"identical body is not re-sent", commentAlways, []Comment{{ID: 2, Body: body(failed, "fail 2"), User: bot}}, body(failed, "fail 2"), "unchanged", nil},
		{"on-change skips same verdicts", commentOnChange, []Comment{{ID: 2, Body: body(failed, "fail 2"), User: bot}}, body(failedAgain, "fail 3"), "unchanged", nil},
		{"on-change posts a fix", commentOnChange, []Comment{{ID: 2, Body: body(failed, "fail 2"), User: bot}}, body(fixed, "pass 1"), "updated", []string{"edit 2"}},
		{"on-change posts the first", commentOnChange, nil, body(fixed, "pass 1"), "created", []string{"create #7"}},
		{"marker inline is not gate's", commentAlways, []Comment{{ID: 3, Body: "see " + marker, User: bot}}, body(failed, "fail 2"), "created", []string{"create #7"}},
		{"other config id is not ours", commentAlways, []Comment{{ID: 4, Body: render.Marker("prefill") + "\nx", User: bot}}, body(failed, "fail 2"), "created", []string{"create #7"}},
		{"own copy wins over a human's", commentAlways, []Comment{{ID: 5, Body: marker + "\nquoted", User: "octodev"}, {ID: 6, Body: marker + "\nold", User: bot}}, body(failed, "fail 2"), "updated", []string{"edit 6"}},
		{"a person's copy of the marker is left alone", commentAlways, []Comment{{ID: 7, Body: marker + "\nmy notes", User: "octodev"}}, body(failed, "fail 2"), "created", []string{"create #7"}},
		// Anyone can write the marker and a digest line: a forged comment is
		// never adopted, edited, or taken as on-change's last word.
		{"a forged comment with a digest is left alone", commentAlways, []Comment{{ID: 8, Body: body(failed, "✅ pass, merge it"), User: "mallory"}}, body(fixed, "pass 1"), "created", []string{"create #7"}},
		{"on-change ignores a forged pass", commentOnChange, []Comment{{ID: 8, Body: body(failed, "✅ pass"), User: "mallory"}}, body(failedAgain, "fail 3"), "created", []string{"create #7"}},
		{"another bot's older copy is not ours", commentAlways, []Comment{{ID: 50, Body: marker + "\nold", User: "copy-bot[bot]"}, {ID: 999, Body: marker + "\nold report", User: bot}}, body(failed, "fail 2"), "updated", []string{"edit 999"}},
		{"the author is matched whatever its case", commentAlways, []Comment{{ID: 9, Body: marker + "\nold", User: "GitHub-Actions[bot]"}}, body(failed, "fail 2"), "updated", []string{"edit 9"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gh := NewFakeGitHub()
			gh.CommentsOn[7] = tt.prior
			out, err := upsertComment(ctx, gh, 7, marker, bot, tt.body, tt.policy)
			if err != nil {
				t.Fatal(err)
			}
			if out.Action != tt.want || strings.Join(gh.Calls, ",") != strings.Join(tt.calls, ",") {
				t.Errorf("got %s with %v, want %s with %v", out.Action, gh.Calls, tt.want, tt.calls)
			}
		})
	}
}

func TestUpsertCommentForbidden(t *testing.T) {
	gh := NewFakeGitHub()
	gh.Forbid = true
	_, err := upsertComment(context.Background(), gh, 7, render.Marker("x"), githubActionsBot, "b", commentAlways)
	if !isForbidden(err) {
		t.Fatalf("err = %v, want a permission error", err)
	}
}

func TestCommentBodyBudget(t *testing.T) {
	marker := render.Marker("default")
	// A report of astral-plane characters: two UTF-16 units each, as GitHub
	// counts them.
	report := marker + "\n" + strings.Repeat("𝄞 kernel row\n", 10000)
	b := commentBody(report, marker, "0123456789abcdef")
	if n := render.UTF16Len(b); n > render.CommentBudget {
		t.Errorf("body is %d characters, over %d", n, render.CommentBudget)
	}
	if !utf8.ValidString(b) {
		t.Error("body cut inside a rune")
	}
	if !strings.HasPrefix(b, marker+"\n") || commentDigest(b) != "0123456789abcdef" {
		t.Error("cut body lost its marker or digest")
	}
	if !strings.Contains(b, "job summary has it all") {
		t.Error("cut body does not say it was cut")
	}
	// A report without the marker gets it.
	if b := commentBody("gate: pass\n", marker, "d"); !strings.HasPrefix(b, marker+"\ngate: pass\n") {
		t.Errorf("marker not added:\n%s", b)
	}
}

func TestResultDigest(t *testing.T) {
	a := &compare.Result{Verdict: compare.Pass, Metrics: []compare.Metric{{Name: "m", Verdict: compare.Pass, Head: 1}}}
	b := &compare.Result{Verdict: compare.Pass, Metrics: []compare.Metric{{Name: "m", Verdict: compare.Pass, Head: 2}}}
	c := &compare.Result{Verdict: compare.Pass, Metrics: []compare.Metric{{Name: "m", Verdict: compare.Warn, Head: 2}}}
	if resultDigest(a) != resultDigest(b) {
		t.Error("digest changes with values alone")
	}
	if resultDigest(a) == resultDigest(c) {
		t.Error("digest ignores a metric's verdict")
	}
}

func TestFitCommentDropsSectionsNotText(t *testing.T) {
	const limit = 3000
	res := &compare.Result{Schema: compare.ResultSchema, Verdict: compare.Fail, ConfigID: "big"}
	for i := 0; i < 10000; i++ {
		name := fmt.Sprintf("kernels.kernel_%05d_with_a_long_template_name_128x128x64.total", i)
		res.Metrics = append(res.Metrics, compare.Metric{Name: name, Group: "kernel", Unit: "ns", Kind: compare.Exact,
			Better: "lower", Base: 1000, Head: 2000, Delta: 1000, DeltaPct: 100, HasBase: true, HasHead: true,
			Threshold: "fail 25%", Verdict: compare.Fail})
	}
	res.Counts.Fail = len(res.Metrics)
	var full strings.Builder
	if err := render.Markdown(&full, res, render.Options{}); err != nil {
		t.Fatal(err)
	}
	if render.UTF16Len(full.String()) <= limit {
		t.Fatalf("the report has %d characters: not a test of fitting", render.UTF16Len(full.String()))
	}
	md := fitCommentTo(limit, full.String(), res, render.Options{})
	body := md + "\n" + digestLine(resultDigest(res)) + "\n"
	if n := render.UTF16Len(body); n > limit {
		t.Errorf("comment has %d characters, over %d", n, limit)
	}
	if !strings.Contains(md, "Shortened to fit") || !strings.HasPrefix(md, render.Marker("big")) {
		t.Errorf("the renderer did not shorten the report itself:\n%s", md)
	}
	if short := fitCommentTo(1<<20, full.String(), res, render.Options{}); short != full.String() {
		t.Errorf("a report that fits was rendered again")
	}
}
