package action

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// The runner talks to an action through files named by environment variables
// (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY) and through workflow commands on
// stdout. go-githubactions panics when those files are missing and uses a
// fixed heredoc delimiter that a hostile value could forge, so gate writes
// them itself: only when the runner named them, with a random delimiter, and
// otherwise prints what it would have written, so local runs work too.

// fileCommands writes outputs and the job summary for one step.
type fileCommands struct {
	getenv func(string) string
	log    io.Writer
}

// setOutput sets a step output. Without GITHUB_OUTPUT it prints it.
func (f fileCommands) setOutput(name, value string) error {
	path := f.getenv("GITHUB_OUTPUT")
	if path == "" {
		fmt.Fprintf(f.log, "output %s=%s\n", name, value)
		return nil
	}
	delim, err := heredocDelimiter()
	if err != nil {
		return err
	}
	if strings.Contains(name, delim) || strings.Contains(value, delim) || strings.ContainsAny(name, "\r\n=") {
		return fmt.Errorf("GITHUB_OUTPUT: output %q: refusing a value that could forge another output", name)
	}
	return appendFile(path, fmt.Sprintf("%s<<%s\n%s\n%s\n", name, delim, value, delim))
}

// addSummary appends markdown to the job summary. Without GITHUB_STEP_SUMMARY
// it does nothing: the report is in the output directory anyway.
func (f fileCommands) addSummary(markdown string) error {
	path := f.getenv("GITHUB_STEP_SUMMARY")
	if path == "" {
		return nil
	}
	return appendFile(path, markdown)
}

func heredocDelimiter() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("heredoc delimiter: %w", err)
	}
	return "ghadelimiter_" + hex.EncodeToString(b), nil
}

func appendFile(path, s string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(f, s); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// event is the part of the triggering event's payload (GITHUB_EVENT_PATH)
// that gate reads. Fields absent from an event stay zero.
type event struct {
	Number      int      `json:"number"`
	PullRequest *eventPR `json:"pull_request"`
	Repository  struct {
		FullName      string `json:"full_name"`
		DefaultBranch string `json:"default_branch"`
	} `json:"repository"`
	WorkflowRun *struct {
		ID             int64  `json:"id"`
		Event          string `json:"event"`
		HeadSHA        string `json:"head_sha"`
		HeadBranch     string `json:"head_branch"`
		Conclusion     string `json:"conclusion"`
		HeadRepository struct {
			FullName string `json:"full_name"`
		} `json:"head_repository"`
		PullRequests []struct {
			Number int `json:"number"`
		} `json:"pull_requests"`
	} `json:"workflow_run"`
}

// eventPR is a pull_request event's pull request; mode comment fills one
// in from the API for the pull request it comments on.
type eventPR struct {
	Number int `json:"number"`
	Head   struct {
		SHA  string `json:"sha"`
		Ref  string `json:"ref"`
		Repo *struct {
			FullName string `json:"full_name"`
			Fork     bool   `json:"fork"`
		} `json:"repo"`
	} `json:"head"`
	Base struct {
		Ref string `json:"ref"`
		SHA string `json:"sha"`
	} `json:"base"`
}

// readEvent decodes the event payload at path; an empty path (a local run)
// gives an empty event.
func readEvent(path string) (*event, error) {
	var ev event
	if path == "" {
		return &ev, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("GITHUB_EVENT_PATH: %w", err)
	}
	if err := json.Unmarshal(data, &ev); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &ev, nil
}

// prNumber is the pull request the event is about, or 0.
func (ev *event) prNumber() int {
	if ev.PullRequest != nil && ev.PullRequest.Number > 0 {
		return ev.PullRequest.Number
	}
	return 0
}

// headSHA is the commit being gated: the PR's head, else GITHUB_SHA.
func (ev *event) headSHA(githubSHA string) string {
	if ev.PullRequest != nil && ev.PullRequest.Head.SHA != "" {
		return ev.PullRequest.Head.SHA
	}
	return githubSHA
}

// fromFork reports whether a pull_request event comes from a fork, whose
// GITHUB_TOKEN is read-only whatever the workflow asks for.
func (ev *event) fromFork() bool {
	pr := ev.PullRequest
	return pr != nil && pr.Head.Repo != nil && (pr.Head.Repo.Fork || (ev.Repository.FullName != "" && pr.Head.Repo.FullName != ev.Repository.FullName))
}
