package config

import (
	"strings"
	"testing"
)

func TestRecordRoundTrip(t *testing.T) {
	cfg, err := Parse("gate.yml", []byte("id: decode\nscope: benchmark\nkernel-share: 5%\nrules:\n  - metric: phases.decode.span.p50\n    fail: 20%\nexit:\n  no-baseline: 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := cfg.Record()
	if err != nil {
		t.Fatal(err)
	}
	// Another gate.yml takes the recorded judging part and keeps its own id
	// and scope.
	other, _ := Parse("pr.yml", []byte("id: other\nscope: warmup\nrules:\n  - metric: '**'\n    ignore: true\n"))
	got, err := other.WithRecord("baseline", raw)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != "other" || got.Scope != "warmup" || len(got.Rules) != 1 || got.Rules[0].Fail != "20%" || got.KernelShare != "5%" || *got.Exit.NoBaseline != 0 {
		t.Errorf("WithRecord = %+v", got)
	}
	// The accept label travels with the rules: a pull request's own
	// gate.yml cannot name it.
	labelled, _ := Parse("main.yml", []byte("accept-label: perf-accepted\n"))
	raw, _ = labelled.Record()
	prOwn, _ := Parse("pr.yml", []byte("accept-label: bug\n"))
	if got, err := prOwn.WithRecord("baseline", raw); err != nil || got.AcceptLabel != "perf-accepted" {
		t.Errorf("WithRecord of a recorded accept-label = %+v, %v", got, err)
	}
	unlabelled, _ := (&Config{}).Record()
	if got, _ := prOwn.WithRecord("baseline", unlabelled); got.AcceptLabel != "" {
		t.Errorf("a record without accept-label kept the pull request's %q", got.AcceptLabel)
	}
	if cs := Changes(labelled, prOwn, nil, 10); len(cs) != 1 || cs[0].What != "accept-label" || cs[0].Base != "perf-accepted" || cs[0].Head != "bug" {
		t.Errorf("Changes lists %+v, want the accept-label change", cs)
	}
	if len(other.Rules) != 1 || !other.Rules[0].Ignore {
		t.Error("WithRecord changed its receiver")
	}
	// A record is checked as gate.yml is.
	for _, bad := range []string{`{"rules":[{"metric":"x","fail":"5 percent"}]}`, `{"rules":[],"typo":1}`, `{"rules":[],"exit":{"no-baseline":300}}`, `not json`} {
		if _, err := other.WithRecord("baseline", []byte(bad)); err == nil || !strings.Contains(err.Error(), "baseline: recorded rules") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func TestChanges(t *testing.T) {
	applied, _ := Parse("a", []byte("rules: []\n"))
	proposed, _ := Parse("p", []byte("kernel-share: 50%\nrules:\n  - metric: phases.decode.span.p50\n    fail: 500%\n  - metric: kernels.**\n    ignore: true\nexit:\n  not-comparable: 0\n"))
	metrics := []string{"phases.decode.span.p50", "phases.prefill.span.p50", "kernels.a.total", "kernels.b.total", "kernels.c.count"}
	var got []string
	for _, c := range Changes(applied, proposed, metrics, 20) {
		got = append(got, c.What+"|"+c.Metric+"|"+c.Base+"|"+c.Head+"|"+string(rune('0'+c.Count)))
	}
	want := []string{
		"kernel-share||2%|50%|0",
		"exit.not-comparable||3|0|0",
		"warn threshold|phases.decode.span.p50|5%|none|1",
		"fail threshold|phases.decode.span.p50|10%|500%|1",
		"floor|phases.decode.span.p50|2us|none|1",
		"kind|phases.decode.span.p50|stat|the metric's own|1",
		"ignore|kernels.**|judged|ignored|3",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Changes:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if cs := Changes(applied, applied, metrics, 20); len(cs) != 0 {
		t.Errorf("no change listed %v", cs)
	}
	// The list is capped, the rest counted.
	cs := Changes(applied, proposed, metrics, 3)
	if len(cs) != 4 || cs[3].What != "and 4 more rule changes" {
		t.Errorf("capped: %+v", cs)
	}
}
