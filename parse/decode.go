package parse

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// EncodeSummary writes s as indented JSON with stable key order (struct
// order; map keys sorted by encoding/json) and without HTML escaping, so
// kernel names stay readable in diffs. DecodeSummary reads it back.
func EncodeSummary(w io.Writer, s *Summary) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(s)
}

// maxSummaryBytes bounds what DecodeSummary reads: a summary is kilobytes to
// a few megabytes; anything far larger is not one.
const maxSummaryBytes = 256 << 20

// DecodeSummary reads a summary JSON document: gate's own (schema
// gate.summary/v1) or the seed's older
// summary.json layout (see legacy.go; Source.Legacy is set). Anything else is
// an error that says which layouts were expected.
func DecodeSummary(r io.Reader) (*Summary, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxSummaryBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading summary: %w", err)
	}
	if len(data) > maxSummaryBytes {
		return nil, fmt.Errorf("summary is larger than %d MiB", maxSummaryBytes>>20)
	}
	// A byte-order mark is not JSON, but editors write one.
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	keys, rawSchema, err := checkKeys(data)
	if err != nil {
		return nil, fmt.Errorf("decoding summary: %w", err)
	}
	if keys == nil {
		// Not an object, or malformed: let encoding/json say which.
		var top map[string]json.RawMessage
		if err := json.Unmarshal(data, &top); err != nil {
			return nil, fmt.Errorf("decoding summary: %w", err)
		}
		if top == nil {
			return nil, fmt.Errorf("decoding summary: want a JSON object")
		}
		for k := range top {
			keys = append(keys, k)
		}
		rawSchema = top["schema"]
	}
	if rawSchema == nil {
		top := make(map[string]json.RawMessage, len(keys))
		for _, k := range keys {
			top[k] = nil
		}
		if isLegacy(top) {
			return decodeLegacy(data)
		}
		sort.Strings(keys)
		if len(keys) > 8 {
			keys = append(keys[:8], "...")
		}
		return nil, fmt.Errorf("unknown summary layout: no \"schema\" key (gate %s) and none of the older summary.json keys %s; found keys: %s",
			SummarySchema, strings.Join(legacyKeys, ", "), strings.Join(keys, ", "))
	}
	var schema string
	if err := json.Unmarshal(rawSchema, &schema); err != nil {
		return nil, fmt.Errorf("decoding summary: schema: want a string")
	}
	if schema != SummarySchema {
		return nil, fmt.Errorf("unknown summary schema %q (want %q)", schema, SummarySchema)
	}
	// Unknown keys are tolerated: fields added within v1 must not make an
	// older gate refuse a newer baseline.
	var s Summary
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("decoding summary: %w", err)
	}
	if s.Phases == nil {
		s.Phases = map[string]*Phase{}
	}
	for name, p := range s.Phases {
		if p == nil {
			return nil, fmt.Errorf("decoding summary: phases.%s: null", name)
		}
	}
	return &s, nil
}
