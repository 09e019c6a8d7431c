package action

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/nsys-gate/gate/gate/load"
)

// A baseline is the summary JSON that the workflow uploaded, with
// actions/upload-artifact, on a push to the baseline branch. It is found
// through the Actions REST API rather than by run, so any workflow may
// publish it.

// maxArtifactZip bounds the download of any artifact, before unzipping.
const maxArtifactZip = 128 << 20

// baseline is a fetched baseline and where it came from.
type baseline struct {
	Data     []byte // the summary JSON
	File     string // its name inside the zip
	Artifact Artifact
	How      choice        // why this artifact
	Query    baselineQuery // what was asked, with the merge base found
}

// errNoBaseline means no usable baseline artifact exists: a neutral result,
// never a pass.
var errNoBaseline = errors.New("no baseline")

// errNoBaselineYet means the repository lists no artifact of the baseline's
// name at all, expired ones included: the first run of a new gate, before
// the first push to the base branch uploaded one. It wraps errNoBaseline.
var errNoBaselineYet = fmt.Errorf("%w yet", errNoBaseline)

// baselineQuery is what a run looks for: the artifact's name, the branches
// it may come from in order of preference (a pull request's base branch,
// then the default branch), and the commit whose own baseline is best of
// all, a pull request's merge base: it measured exactly the code the pull
// request started from.
type baselineQuery struct {
	Name      string
	Branches  []string
	MergeBase string // "" outside a pull request, or when it is unknown
}

// choice says why an artifact was picked: for the merge base, or as the
// newest on Branch (the query's Rank-th branch, 0 first).
type choice struct {
	MergeBase bool
	Branch    string
	Rank      int
}

// pickBaseline chooses among the artifacts called q.Name that have not
// expired and were made by a run of the repository itself (not of a fork's
// branch of the same name) on one of q.Branches: the newest made for the
// merge base, else the newest on the first branch that has one. It
// returns why each artifact was passed over, for the log.
func pickBaseline(arts []Artifact, q baselineQuery) (Artifact, choice, []string, bool) {
	var ok []Artifact
	var skipped []string
	for _, a := range arts {
		switch {
		case a.Name != q.Name:
			continue
		case a.Expired:
			skipped = append(skipped, fmt.Sprintf("artifact %d: expired", a.ID))
		case a.HeadRepoID != 0 && a.RepoID != 0 && a.HeadRepoID != a.RepoID:
			skipped = append(skipped, fmt.Sprintf("artifact %d: made from a fork's branch %q", a.ID, a.HeadBranch))
		case !slices.Contains(q.Branches, a.HeadBranch):
			skipped = append(skipped, fmt.Sprintf("artifact %d: made on branch %q, not %s", a.ID, a.HeadBranch, quoteAll(q.Branches)))
		default:
			ok = append(ok, a)
		}
	}
	sort.SliceStable(ok, func(i, j int) bool { return newer(ok[i], ok[j]) })
	if q.MergeBase != "" {
		for _, a := range ok {
			if a.HeadSHA == q.MergeBase {
				return a, choice{MergeBase: true, Branch: a.HeadBranch, Rank: slices.Index(q.Branches, a.HeadBranch)}, skipped, true
			}
		}
	}
	for rank, branch := range q.Branches {
		for _, a := range ok {
			if a.HeadBranch == branch {
				return a, choice{Branch: branch, Rank: rank}, skipped, true
			}
		}
	}
	return Artifact{}, choice{}, skipped, false
}

// quoteAll is "main" or "release/1.x" or "main".
func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, " or ")
}

// fetchBaseline finds the baseline artifact q asks for (pickBaseline),
// downloads it and returns the summary inside. mergeBase, when not nil, is
// asked for q.MergeBase only once some artifact could be picked at all, so
// that a repository without baselines costs one API call. An artifact that
// is gone by the time it is downloaded (404, or 410 once expired) gives way
// to the next choice. When there is none it returns an error wrapping
// errNoBaseline (errNoBaselineYet when the repository never had one) that
// says what was looked for; when GitHub failed (after the client's retries)
// it returns an error wrapping errUnavailable, which is not "no baseline".
func fetchBaseline(ctx context.Context, api GitHub, q baselineQuery, mergeBase func(context.Context) (string, error)) (*baseline, []string, error) {
	arts, err := api.Artifacts(ctx, q.Name)
	var skipped []string
	var trunc *TruncatedError
	if errors.As(err, &trunc) {
		skipped = append(skipped, trunc.Error()+": only the artifacts listed so far are candidates")
	} else if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", errUnavailable, err)
	}
	listed := len(arts)
	if listed == 0 && trunc == nil {
		return nil, nil, fmt.Errorf("%w: the repository has no artifact %q", errNoBaselineYet, q.Name)
	}
	if _, _, _, found := pickBaseline(arts, q); found && mergeBase != nil {
		mb, err := mergeBase(ctx)
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("the merge base: %v; taking the newest baseline instead", err))
		}
		q.MergeBase = mb
	}
	for first := true; ; first = false {
		a, how, why, ok := pickBaseline(arts, q)
		if first {
			skipped = append(skipped, why...)
		}
		if !ok {
			return nil, skipped, fmt.Errorf("%w: no unexpired artifact %q from branch %s (%d candidates)", errNoBaseline, q.Name, quoteAll(q.Branches), listed)
		}
		data, err := api.DownloadArtifact(ctx, a.ID, maxArtifactZip)
		if isGone(err) {
			skipped = append(skipped, fmt.Sprintf("artifact %d: gone when downloaded (%v)", a.ID, err))
			arts = without(arts, a.ID)
			continue
		}
		if err != nil && !errors.Is(err, ErrUnsafeZip) {
			return nil, skipped, fmt.Errorf("%w: baseline artifact %q (%d): %w", errUnavailable, q.Name, a.ID, err)
		}
		if err != nil {
			return nil, skipped, fmt.Errorf("baseline artifact %q (%d): %w", q.Name, a.ID, err)
		}
		files, err := unzip(data, defaultUnzipLimits())
		if err != nil {
			return nil, skipped, fmt.Errorf("baseline artifact %q (%d): %w", q.Name, a.ID, err)
		}
		f, err := pickSummaryFile(files)
		if err != nil {
			return nil, skipped, fmt.Errorf("baseline artifact %q (%d): %w", q.Name, a.ID, err)
		}
		return &baseline{Data: f.Data, File: f.Name, Artifact: a, How: how, Query: q}, skipped, nil
	}
}

// origin says where a baseline came from, for the report: which commit and
// why that one, the run that uploaded it and how old it was at now.
//
//	the merge base 0d3a7e9c1b5f of this pull request, on main (run 902, 7 days old)
//	the newest on main, the default branch, 1111111111aa (run 901, 3 h old): release/1.x has none
func (b *baseline) origin(now time.Time) string {
	a, q := b.Artifact, b.Query
	run := fmt.Sprintf("run %d", a.RunID)
	if !a.CreatedAt.IsZero() {
		run += ", " + age(now.Sub(a.CreatedAt)) + " old"
	}
	switch {
	case b.How.MergeBase:
		return fmt.Sprintf("the merge base %s of this pull request, on %s (%s)", shortSHA(a.HeadSHA), a.HeadBranch, run)
	case b.How.Rank == 0:
		s := fmt.Sprintf("the newest on %s, %s (%s)", b.How.Branch, shortSHA(a.HeadSHA), run)
		if q.MergeBase != "" {
			s += fmt.Sprintf(": the merge base %s has none", shortSHA(q.MergeBase))
		}
		return s
	}
	return fmt.Sprintf("the newest on %s, %s (%s): %s has none", b.How.Branch, shortSHA(a.HeadSHA), run, quoteAll(q.Branches[:b.How.Rank]))
}

// age is a duration as people say it: 40 min, 5 h, 3 days.
func age(d time.Duration) string {
	switch {
	case d < 0:
		return "0 min"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", int(d.Hours()))
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

// errUnavailable means a baseline may exist but GitHub did not hand it over.
var errUnavailable = errors.New("baseline unavailable")

// without returns arts less the artifact id.
func without(arts []Artifact, id int64) []Artifact {
	out := make([]Artifact, 0, len(arts))
	for _, a := range arts {
		if a.ID != id {
			out = append(out, a)
		}
	}
	return out
}

// pickSummaryFile returns the zip's load.SummaryFile (summary.json), or its
// only .json file.
func pickSummaryFile(files []zipFile) (zipFile, error) {
	if f, ok := findZipFile(files, load.SummaryFile); ok {
		return f, nil
	}
	var js []zipFile
	for _, f := range files {
		if len(f.Name) > 5 && f.Name[len(f.Name)-5:] == ".json" {
			js = append(js, f)
		}
	}
	if len(js) == 1 {
		return js[0], nil
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.Name
	}
	return zipFile{}, fmt.Errorf("no %s in the zip (files: %v)", load.SummaryFile, names)
}
