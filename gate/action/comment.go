package action

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/nsys-gate/gate/compare"
	"github.com/nsys-gate/gate/render"
)

// gate keeps one PR comment per configuration id. The comment starts with
// render.Marker(id); it is found again by that line across every page of the
// PR's comments and edited in place, so a fixed regression turns the same
// comment green instead of adding a new one. A second hidden line carries a
// digest of the verdicts, which `comment: on-change` compares.

// Comment policies (the `comment` input).
const (
	commentAlways   = "always"
	commentOnChange = "on-change"
	commentNever    = "never"
)

// digestPrefix starts the hidden line that records what a comment judged.
const digestPrefix = "<!-- gate:digest "

// resultDigest summarises what a reader of the comment acts on: the overall
// verdict, its reasons and each metric's verdict. Values are left out on
// purpose: timings move on every run, and on-change should stay quiet while
// every verdict stays the same.
func resultDigest(r *compare.Result) string {
	h := sha256.New()
	fmt.Fprintf(h, "verdict %s\n", r.Verdict)
	for _, reason := range r.Reasons {
		fmt.Fprintf(h, "reason %q\n", reason)
	}
	for _, m := range r.Metrics {
		fmt.Fprintf(h, "metric %q %s\n", m.Name, m.Verdict)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// digestOf combines digests (an entry's, a verdict) into one.
func digestOf(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%q\n", p)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func digestLine(digest string) string { return digestPrefix + digest + " -->" }

// commentDigest returns the digest recorded in a comment body, or "".
func commentDigest(body string) string {
	for _, line := range strings.Split(body, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, digestPrefix) && strings.HasSuffix(line, " -->") {
			return strings.TrimSuffix(strings.TrimPrefix(line, digestPrefix), " -->")
		}
	}
	return ""
}

// hasMarker reports whether body carries marker as a line of its own. The
// renderer escapes '<' in every string that comes from a profile, so only gate
// can write such a line.
func hasMarker(body, marker string) bool {
	for _, line := range strings.Split(body, "\n") {
		if strings.TrimSpace(line) == marker {
			return true
		}
	}
	return false
}

// commentBody makes the comment for report: the marker first (added if the
// report lacks it), the report, the digest line last; never more than
// render.CommentBudget characters as GitHub counts them.
func commentBody(report, marker, digest string) string {
	tail := "\n" + digestLine(digest) + "\n"
	if !hasMarker(report, marker) {
		report = marker + "\n" + report
	}
	report = strings.TrimRight(report, "\n")
	room := render.CommentBudget - render.UTF16Len(tail)
	if render.UTF16Len(report) > room {
		const cut = "\n\n*Report cut to fit GitHub's comment limit; the job summary has it all.*"
		report = truncateUTF16(report, room-render.UTF16Len(cut)) + cut
	}
	return report + tail
}

// acceptedComment is the single configuration's comment: the report md,
// fitted to leave room for note (what the pull request accepted), with note
// under its marker line.
func acceptedComment(md, note string, res *compare.Result, opts render.Options) string {
	return afterMarker(fitCommentTo(render.CommentBudget-render.UTF16Len(note), md, res, opts), note)
}

// fitCommentTo returns md, or, when md and the digest line would not fit
// in budget characters, the report rendered again under a budget that
// leaves room for that line: the renderer then drops whole sections and
// says so, instead of commentBody cutting the text mid-table.
func fitCommentTo(budget int, md string, res *compare.Result, opts render.Options) string {
	room := budget - render.UTF16Len("\n"+digestLine(resultDigest(res))+"\n")
	if render.UTF16Len(md) <= room {
		return md
	}
	opts.Budget = room
	var b strings.Builder
	if err := render.Markdown(&b, res, opts); err != nil {
		return md // commentBody still cuts it to fit
	}
	return b.String()
}

// truncateUTF16 cuts s to at most n UTF-16 code units, at a line boundary when
// one is near and never inside a rune.
func truncateUTF16(s string, n int) string {
	cut := render.UTF16Prefix(s, n)
	if len(cut) == len(s) {
		return s
	}
	if j := strings.LastIndexByte(cut, '\n'); j > len(cut)/2 {
		cut = cut[:j]
	}
	return cut
}

// commentOutcome says what happened to the sticky comment.
type commentOutcome struct {
	Action  string // created, updated, unchanged, skipped
	URL     string
	ID      int64
	Warning string // something the log should say, e.g. a truncated listing
}

// findSticky returns gate's comment for marker among comments: one whose
// first line is the marker and whose author is author, the token's own
// identity. Anyone can write the marker (and a digest line); only the
// token's identity can write as it, so no one else's comment is ever taken
// for gate's, edited, or trusted as on-change's last word. When several
// match, the oldest wins.
func findSticky(comments []Comment, marker, author string) (Comment, bool) {
	for _, c := range comments {
		first, _, _ := strings.Cut(c.Body, "\n")
		if strings.TrimSpace(first) == marker && strings.EqualFold(c.User, author) {
			return c, true
		}
	}
	return Comment{}, false
}

// upsertComment posts body on pull request number, or edits the comment
// that author (the token's identity) wrote earlier for the same marker.
// With policy on-change an existing comment whose digest matches is left
// alone; with never nothing is posted.
func upsertComment(ctx context.Context, api GitHub, number int, marker, author, body, policy string) (commentOutcome, error) {
	if policy == commentNever {
		return commentOutcome{Action: "skipped"}, nil
	}
	var warning string
	comments, err := api.Comments(ctx, number)
	var trunc *TruncatedError
	if errors.As(err, &trunc) {
		warning = trunc.Error() + "; gate's comment may be among them, and a new one is posted if it is not found"
	} else if err != nil {
		return commentOutcome{}, err
	}
	old, ok := findSticky(comments, marker, author)
	if ok {
		if old.Body == body || (policy == commentOnChange && commentDigest(old.Body) == commentDigest(body)) {
			return commentOutcome{Action: "unchanged", URL: old.URL, ID: old.ID, Warning: warning}, nil
		}
		c, err := api.EditComment(ctx, old.ID, body)
		if err != nil {
			return commentOutcome{}, err
		}
		return commentOutcome{Action: "updated", URL: c.URL, ID: c.ID, Warning: warning}, nil
	}
	c, err := api.CreateComment(ctx, number, body)
	if err != nil {
		return commentOutcome{}, err
	}
	return commentOutcome{Action: "created", URL: c.URL, ID: c.ID, Warning: warning}, nil
}
