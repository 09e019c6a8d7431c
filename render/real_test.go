package render

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nsys-gate/gate/compare"
	"github.com/nsys-gate/gate/internal/summarytest"
	"github.com/nsys-gate/gate/parse"
)

// The real H200 fixtures, parsed and compared as `gate compare` does, then
// rendered. These goldens change when parse or compare change what they
// find; rewrite them with -update after checking the diff reads right.

// realSummary is the summary of ../testdata/nsys/<name>.sqlite.gz, parsed
// once per test binary.
func realSummary(t *testing.T, name string) *parse.Summary {
	t.Helper()
	return summarytest.Export(t, filepath.Join("..", "testdata", "nsys", name+".sqlite.gz"), parse.Options{})
}

var realCases = []struct {
	base, head string
	verdicts   []compare.Verdict // acceptable verdicts
	// want are strings the markdown must hold: what a reviewer must see.
	want []string
	all  bool // golden files in every format, not just markdown
	// html are strings the HTML page must hold: what the comment leaves
	// to it (every metric, the sampled tables).
	html []string
}{
	{"base_a", "base_b", []compare.Verdict{compare.Pass, compare.Warn}, []string{"**gate: pass**"}, false, nil},
	{"base_a", "regress_double_attn", []compare.Verdict{compare.Fail},
		[]string{"❌ **gate: fail** — decode · step p50 1.17 → 1.44 ms (+22.7%): `cudnn…sdpa_sm80_flash_fprop…` (attention) launches per decode step 8 → 16, +183 µs per step\n",
			"| ❌ decode · step p50<br>also busy p50 +23.5%, kernel time p50 +23.5% | 1.17 → 1.44 ms | **+22.7%** | over 10% · CI +22.5%…+22.9% |",
			"### Where the time went", "| `cudnn…sdpa_sm80_flash_fprop…` | attention | 193 µs → 377 µs | **+183 µs** | 8 → 16 |"}, true, nil},
	{"base_a", "regress_no_graphs", []compare.Verdict{compare.Fail}, []string{"**gate: fail**", "kernels inside CUDA graphs"}, false, nil},
	{"base_a", "regress_host_sync", []compare.Verdict{compare.Fail}, []string{"❌ **gate: fail** — decode · step p50 1.17 → 1.63 ms (+38.6%): syncs/step 0.021 → 1 (+0.979)\n", "DtoH copies/step +0.979"}, false, nil},
	{"base_a", "base_graphmode", []compare.Verdict{compare.NotComparable}, []string{"**gate: not comparable**", "| ≠ CUDA graph trace | node (each kernel) | graph (whole graphs) |"}, false, nil},
	{"vllm_real", "base_a", []compare.Verdict{compare.Pass, compare.Warn}, []string{"| step p50 |"}, false, nil},
	// GPU-metrics sampling: the fp32 KV cache's decode traffic, named and
	// explained in the bandwidth section, charted in the HTML page.
	{"gm_base", "gm_kv_fp32", []compare.Verdict{compare.Fail}, []string{"**gate: fail** — decode · step p50 1.16 → 1.65 ms (+42.3%)",
		"➡️ `decode` moves more DRAM data per step: read +71.8% (1.57 GB → 2.69 GB), write +1,061% (55.7 MB → 646 MB); its step takes +42.3% (1.16 ms → 1.65 ms)."}, true,
		[]string{"<td><code>decode</code> (memory-bound)</td>", "1.35 TB/s → 1.63 TB/s (28% → 33.8%)", "GPC clock over the steps"}},
	{"gm_base1", "gm_base2", []compare.Verdict{compare.Pass}, []string{"**gate: pass**"}, false,
		[]string{"Sampled by Nsight Systems from the GPU's own counters at 10 kHz"}},
	// The fix of a shipped regression: a pass that says what improved.
	{"regress_double_attn", "base_a", []compare.Verdict{compare.Pass},
		[]string{"✅ **gate: pass** — improved: decode · step p50 1.44 → 1.17 ms (-18.5%): `cudnn…sdpa_sm80_flash_fprop…` (attention) launches per decode step 16 → 8, -183 µs per step", "### Improvements"}, false, nil},
}

func TestRealFixtures(t *testing.T) {
	if testing.Short() {
		t.Skip("parses the real exports")
	}
	for _, c := range realCases {
		t.Run(c.base+"_vs_"+c.head, func(t *testing.T) {
			r := compare.Compare(realSummary(t, c.base), realSummary(t, c.head), compare.Options{ConfigID: "default"})
			ok := false
			for _, v := range c.verdicts {
				ok = ok || r.Verdict == v
			}
			if !ok {
				t.Errorf("verdict %s, want one of %v", r.Verdict, c.verdicts)
			}
			var md bytes.Buffer
			if err := Markdown(&md, r, Options{}); err != nil {
				t.Fatal(err)
			}
			for _, w := range c.want {
				if !strings.Contains(md.String(), w) {
					t.Errorf("markdown lacks %q", w)
				}
			}
			checkInert(t, md.String())
			if len(c.html) > 0 {
				var h bytes.Buffer
				if err := HTML(&h, r, Options{}); err != nil {
					t.Fatal(err)
				}
				for _, w := range c.html {
					if !strings.Contains(h.String(), w) {
						t.Errorf("HTML lacks %q", w)
					}
				}
			}
			stem := "real_" + c.base + "_vs_" + c.head
			golden(t, stem+".md", md.Bytes())
			if !c.all {
				return
			}
			for _, f := range formats[1:] {
				var b bytes.Buffer
				if err := f.write(&b, r); err != nil {
					t.Fatal(err)
				}
				golden(t, stem+"."+f.ext, b.Bytes())
			}
		})
	}
}

// TestSampledAnalytical: vLLM's analytical GB/s (its MFU log line, parsed
// by --extra) is shown beside the measured decode DRAM traffic.
func TestSampledAnalytical(t *testing.T) {
	withMFU := func(name string, gbps float64) *parse.Summary {
		var b bytes.Buffer
		if err := parse.EncodeSummary(&b, realSummary(t, name)); err != nil {
			t.Fatal(err)
		}
		s, err := parse.DecodeSummary(&b)
		if err != nil {
			t.Fatal(err)
		}
		s.Extra = append(s.Extra, parse.ExtraMetric{Name: "vllm.log.mfu_gbps_per_gpu", Unit: "GB/s", Value: gbps, Source: "vllm.log"})
		return s
	}
	r := compare.Compare(withMFU("gm_base", 1200), withMFU("gm_kv_fp32", 1500), compare.Options{})
	var md bytes.Buffer
	if err := Markdown(&md, r, Options{}); err != nil {
		t.Fatal(err)
	}
	want := "vLLM's own estimate (analytical, from its MFU log line): 1.2 TB/s → 1.5 TB/s per GPU; measured over the decode steps, read and write: 1.4 TB/s → 2.02 TB/s."
	if !strings.Contains(md.String(), want) {
		t.Errorf("markdown lacks %q:\n%s", want, md.String())
	}
}
