package action

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/nsys-gate/gate/gate/config"
)

// A repository may gate several configurations (models, GPU kinds,
// parallelism: a matrix's legs). Each is an entry with an id, and the id
// keys everything that must not be shared: the sticky comment's marker, the
// baseline artifact (gate-baseline-ID) and the report artifact
// (gate-report-ID), so that each leg compares with its own baseline. A
// single configuration without an id keeps the plain names.

// entryID names the configuration this run gates: the id input, else
// gate.yml's id, else one made from the job's matrix values (the matrix
// input, which action.yml fills with toJSON(matrix)); "" for a single
// unnamed configuration.
func entryID(in inputs, cfg *config.Config) (string, error) {
	switch {
	case in.ID != "":
		return in.ID, nil
	case cfg.ID != "":
		return cfg.ID, nil
	}
	return matrixID(in.Matrix)
}

// matrixID makes an id from a job's matrix values, as toJSON(matrix) writes
// them: the values in the order of their keys, sorted so that reordering a
// workflow's keys does not rename the entry and lose its baselines, joined
// by '-', each reduced to letters, digits, '.' and '_':
// {"model": "Llama-3.1 8B", "gpu": "h200"} is h200-Llama-3.1-8B. A job
// without a matrix ("", "null", "{}") has none.
func matrixID(matrix string) (string, error) {
	matrix = strings.TrimSpace(matrix)
	if matrix == "" || matrix == "null" {
		return "", nil
	}
	dec := json.NewDecoder(strings.NewReader(matrix))
	dec.UseNumber()
	var values map[string]any
	if err := dec.Decode(&values); err != nil {
		return "", fmt.Errorf("input matrix: not the JSON of a matrix (toJSON(matrix)): %v", err)
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		var v string
		switch x := values[k].(type) {
		case string:
			v = x
		case json.Number:
			v = x.String()
		case bool:
			v = strconv.FormatBool(x)
		case nil:
			continue
		default:
			return "", fmt.Errorf("input matrix: the value of %q is not a string, number or boolean: set the id input to name the entry", k)
		}
		if p := idPart(v); p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return "", nil
	}
	id := strings.Join(parts, "-")
	if err := config.CheckID(id); err != nil {
		return "", fmt.Errorf("input matrix: the entry's name made from its values: %w; set the id input", err)
	}
	return id, nil
}

// idPart reduces a matrix value to an id's characters: others become '-',
// runs of them one, none at either end.
func idPart(v string) string {
	var b bytes.Buffer
	for _, r := range v {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_':
			b.WriteRune(r)
		default:
			if b.Len() > 0 && b.Bytes()[b.Len()-1] != '-' {
				b.WriteByte('-')
			}
		}
	}
	return strings.Trim(b.String(), "-._")
}

// withID is an artifact's name for entry id: name-ID, or name itself for
// the unnamed configuration.
func withID(name, id string) string {
	if id == "" {
		return name
	}
	return name + "-" + id
}

// idOf is the entry id an artifact called name carries, when it is one of
// base's names (base itself, or base-ID).
func idOf(name, base string) (string, bool) {
	if name == base {
		return "", true
	}
	id, ok := strings.CutPrefix(name, base+"-")
	if !ok || config.CheckID(id) != nil {
		return "", false
	}
	return id, true
}
