package action

import (
	"context"
	"errors"
	"fmt"
	"sort"

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
}

// errNoBaseline means no usable baseline artifact exists: a neutral result,
// never a pass.
var errNoBaseline = errors.New("no baseline")

// pickBaseline chooses the newest non-expired artifact made by a run on
// branch of the repository itself (not a fork's branch of the same name).
// It returns why each artifact was passed over, for the log.
func pickBaseline(arts []Artifact, name, branch string) (Artifact, []string, bool) {
	var ok []Artifact
	var skipped []string
	for _, a := range arts {
		switch {
		case a.Name != name:
			continue
		case a.Expired:
			skipped = append(skipped, fmt.Sprintf("artifact %d: expired", a.ID))
		case a.HeadBranch != branch:
			skipped = append(skipped, fmt.Sprintf("artifact %d: made on branch %q, not %q", a.ID, a.HeadBranch, branch))
		case a.HeadRepoID != 0 && a.RepoID != 0 && a.HeadRepoID != a.RepoID:
			skipped = append(skipped, fmt.Sprintf("artifact %d: made from a fork's branch %q", a.ID, a.HeadBranch))
		default:
			ok = append(ok, a)
		}
	}
	if len(ok) == 0 {
		return Artifact{}, skipped, false
	}
	sort.SliceStable(ok, func(i, j int) bool {
		if !ok[i].CreatedAt.Equal(ok[j].CreatedAt) {
			return ok[i].CreatedAt.After(ok[j].CreatedAt)
		}
		return ok[i].ID > ok[j].ID
	})
	return ok[0], skipped, true
}

// fetchBaseline finds the newest baseline artifact called name on branch,
// downloads it and returns the summary inside. An artifact that is gone by
// the time it is downloaded (404, or 410 once expired) gives way to the next
// newest. When there is none it returns an error wrapping errNoBaseline
// that says what was looked for; when GitHub failed (after the client's
// retries) it returns an error wrapping errUnavailable, which is not "no
// baseline".
func fetchBaseline(ctx context.Context, api GitHub, name, branch string) (*baseline, []string, error) {
	arts, err := api.Artifacts(ctx, name)
	var skipped []string
	var trunc *TruncatedError
	if errors.As(err, &trunc) {
		skipped = append(skipped, trunc.Error()+": only the artifacts listed so far are candidates")
	} else if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", errUnavailable, err)
	}
	listed := len(arts)
	for first := true; ; first = false {
		a, why, ok := pickBaseline(arts, name, branch)
		if first {
			skipped = append(skipped, why...)
		}
		if !ok {
			return nil, skipped, fmt.Errorf("%w: no unexpired artifact %q from branch %q (%d candidates)", errNoBaseline, name, branch, listed)
		}
		data, err := api.DownloadArtifact(ctx, a.ID, maxArtifactZip)
		if isGone(err) {
			skipped = append(skipped, fmt.Sprintf("artifact %d: gone when downloaded (%v)", a.ID, err))
			arts = without(arts, a.ID)
			continue
		}
		if err != nil && !errors.Is(err, ErrUnsafeZip) {
			return nil, skipped, fmt.Errorf("%w: baseline artifact %q (%d): %w", errUnavailable, name, a.ID, err)
		}
		if err != nil {
			return nil, skipped, fmt.Errorf("baseline artifact %q (%d): %w", name, a.ID, err)
		}
		files, err := unzip(data, defaultUnzipLimits())
		if err != nil {
			return nil, skipped, fmt.Errorf("baseline artifact %q (%d): %w", name, a.ID, err)
		}
		f, err := pickSummaryFile(files)
		if err != nil {
			return nil, skipped, fmt.Errorf("baseline artifact %q (%d): %w", name, a.ID, err)
		}
		return &baseline{Data: f.Data, File: f.Name, Artifact: a}, skipped, nil
	}
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
