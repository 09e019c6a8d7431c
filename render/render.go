// Package render writes a compare.Result as markdown for a PR comment, a
// standalone HTML page, plain text for terminals or JSON; likewise the
// merged report of several entries (merged.go), the workflow annotations
// (annotation.go) and the table view of one summary (summary_text.go). It
// does no I/O of its own: every function writes to the io.Writer it is given.
//
// There are two layouts. The PR comment (Markdown) and the terminal (Text)
// are for a reviewer with ten seconds: the verdict and its cause in one
// sentence (with the kernel that moved a phase's time most, from compare's
// attribution), where the baseline came from, one row per cause
// (regressions, then warnings), where the time went, the improvements, what
// the GPU's counters tell, the kernel set's news, the key numbers of each
// phase and folded details (kernel names in full, what differs between the
// fingerprints, the method, the rules that fired, the warnings). Kernel
// names are shortened to what identifies them (short.go); passing metrics
// are counted, not listed. The HTML page and JSON hold everything: every
// metric, passing ones too, whole names, and the charts (components, each
// phase's step-time distribution). Every string that comes from a profile
// is treated as hostile and escaped for the format at hand. Output is
// deterministic: no map order, no clocks.
//
// Markdown has a size budget (Options.Budget, GitHub's 65,536 characters
// by default). Tables show their top rows and say how many more there are;
// when the whole is still too long, parts go in this order until it fits
// (budget.go): the rules and warnings in the details, rows of long tables,
// the details, the kernel set, the GPU counters, the key numbers, the
// improvements, where the time went, the warnings, the fingerprints and
// finally regression rows beyond five. The report then says what was left
// out and links Options.FullReportURL. The verdict line, which names the
// cause, always stays. HTML and Text are not budgeted.
//
// Untrusted strings go into markdown either as code spans (names: a fence
// longer than any backtick run inside, pipes escaped in tables) or as
// escaped text (markdown punctuation backslash-escaped, < > & as entities,
// a zero-width joiner after @, before issue numbers and inside URLs so that
// GitHub neither notifies nor links), always on one line. The HTML page is
// goldmark's rendering of that same markdown, so the same escaping holds.
//
// Start reading at Markdown (render.go), which builds the report model
// (report.go: sections of lines of trusted and untrusted spans, model.go)
// and writes it (md.go, html.go, text.go) within its budget (budget.go);
// format.go holds the one formatter of values and verdicts, which
// Annotation and SummaryText (the table view of one summary) share.
package render

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/nsys-gate/gate/compare"
)

// CommentBudget is GitHub's limit on an issue or PR comment body, in
// characters, and the default Options.Budget.
const CommentBudget = 65536

// StepSummaryBudget keeps a report within the runner's 1 MiB limit on a job
// summary ($GITHUB_STEP_SUMMARY): the budget counts UTF-16 code units and a
// code unit takes at most 3 bytes of UTF-8.
const StepSummaryBudget = (1 << 20) / 3

// Options tune a report.
type Options struct {
	// Budget is the most characters a markdown report may have; 0 means
	// CommentBudget (65,536, GitHub's comment limit). Characters are counted
	// as GitHub does, in UTF-16 code units. Sections are dropped, least
	// important first, until the report fits; the report then says what was
	// left out and links FullReportURL.
	Budget int
	// FullReportURL, when set, is linked under the verdict and where
	// sections had to be dropped: the run whose artifacts hold the HTML report.
	// Only http(s) URLs are linked.
	FullReportURL string
	// BaselineCommit names the commit the baseline came from, where known
	// and Result.Baseline does not say it.
	BaselineCommit string
}

var errNil = errors.New("render: no result")

// Marker is the hidden first line of gate's PR comment for a configuration
// id. The action finds its previous comment by this line and edits it in
// place. The id is reduced to letters, digits and _./: so that it can never
// end the HTML comment early.
func Marker(id string) string {
	return "<!-- gate:report id=" + markerID(id) + " -->"
}

// Markdown writes the report as GitHub-flavoured markdown, with the hidden
// marker line that identifies gate's sticky comment for r.ConfigID. It never
// writes more than opts.Budget characters.
func Markdown(w io.Writer, r *compare.Result, opts Options) error {
	if r == nil {
		return errNil
	}
	_, err := io.WriteString(w, markdown(r, opts))
	if err != nil {
		return fmt.Errorf("render: markdown: %w", err)
	}
	return nil
}

// JSON writes the result as indented, stable JSON: fields in declaration
// order, lists as [] rather than null, the schema set.
func JSON(w io.Writer, r *compare.Result) error {
	if r == nil {
		return errNil
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(normalized(r)); err != nil {
		return fmt.Errorf("render: json: %w", err)
	}
	return nil
}

// normalized returns a shallow copy of r whose lists are never nil and whose
// schema is set, so that the JSON shape does not depend on how r was built.
func normalized(r *compare.Result) *compare.Result {
	c := *r
	if c.Schema == "" {
		c.Schema = compare.ResultSchema
	}
	if c.Metrics == nil {
		c.Metrics = []compare.Metric{}
	}
	if c.Rules == nil {
		c.Rules = []compare.Rule{}
	}
	k := &c.Kernels
	for _, l := range []*[]compare.KernelChange{&k.Added, &k.Removed, &k.Variant, &k.TopTime, &k.TopCount} {
		if *l == nil {
			*l = []compare.KernelChange{}
		}
	}
	return &c
}
