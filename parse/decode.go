package parse

import (
	"encoding/json"
	"fmt"
	"io"
)

// DecodeSummary reads a summary JSON document written by gate (schema
// gate.summary/v1).
func DecodeSummary(r io.Reader) (*Summary, error) {
	var s Summary
	if err := json.NewDecoder(r).Decode(&s); err != nil {
		return nil, fmt.Errorf("decoding summary: %w", err)
	}
	if s.Schema != SummarySchema {
		return nil, fmt.Errorf("unknown summary schema %q (want %q)", s.Schema, SummarySchema)
	}
	return &s, nil
}
