package action

import (
	"strings"
	"testing"

	"github.com/nsys-gate/gate/gate/config"
)

func TestEntryID(t *testing.T) {
	for _, tc := range []struct {
		name         string
		in           inputs
		cfgID        string
		want, errHas string
	}{
		{"a single unnamed configuration", inputs{}, "", "", ""},
		{"no matrix (toJSON of a job without one)", inputs{Matrix: "null"}, "", "", ""},
		{"an empty matrix", inputs{Matrix: "{}"}, "", "", ""},
		{"gate.yml's id", inputs{Matrix: `{"gpu":"h200"}`}, "llama-decode", "llama-decode", ""},
		{"the id input over gate.yml's", inputs{ID: "qwen-h200", Matrix: `{"gpu":"h200"}`}, "llama-decode", "qwen-h200", ""},
		{"matrix values, sorted by key", inputs{Matrix: `{"model": "Llama-3.1 8B", "gpu": "h200"}`}, "", "h200-Llama-3.1-8B", ""},
		{"numbers and booleans", inputs{Matrix: `{"tp": 2, "graphs": true, "model": "qwen"}`}, "", "true-qwen-2", ""},
		{"odd characters collapse", inputs{Matrix: `{"model": "org/Model: 7B (chat)", "gpu": ""}`}, "", "org-Model-7B-chat", ""},
		{"a nested value", inputs{Matrix: `{"model": {"name": "x"}}`}, "", "", "set the id input"},
		{"not JSON", inputs{Matrix: `{model: x}`}, "", "", "input matrix"},
		{"too long", inputs{Matrix: `{"a": "` + strings.Repeat("x", 70) + `"}`}, "", "", "longer than 64"},
	} {
		got, err := entryID(tc.in, &config.Config{ID: tc.cfgID})
		switch {
		case tc.errHas != "" && (err == nil || !strings.Contains(err.Error(), tc.errHas)):
			t.Errorf("%s: err %v, want one saying %q", tc.name, err, tc.errHas)
		case tc.errHas == "" && (err != nil || got != tc.want):
			t.Errorf("%s: %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
}

func TestArtifactNamesPerEntry(t *testing.T) {
	if withID("gate-baseline", "") != "gate-baseline" || withID("gate-baseline", "h200-llama") != "gate-baseline-h200-llama" {
		t.Error("withID: the unnamed configuration keeps the plain name, an entry gets -ID")
	}
	for _, tc := range []struct {
		name, want string
		ok         bool
	}{
		{"gate-report", "", true},
		{"gate-report-h200-llama", "h200-llama", true},
		{"gate-reports", "", false},
		{"gate-report-", "", false},
		{"gate-report-a b", "", false},
		{"gate-baseline-x", "", false},
	} {
		if got, ok := idOf(tc.name, "gate-report"); got != tc.want || ok != tc.ok {
			t.Errorf("idOf(%q) = %q, %v; want %q, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}
