package action

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"

	"github.com/nsys-gate/gate/compare"
)

// decodeResult reads a result.json that came from an artifact, which in the
// fork-safe path was written by untrusted code. The renderer escapes every
// string; here the shape is checked: the schema, the verdicts, finite numbers.
func decodeResult(data []byte) (*compare.Result, error) {
	var res compare.Result
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&res); err != nil {
		return nil, err
	}
	if res.Schema != compare.ResultSchema {
		return nil, fmt.Errorf("schema %q, want %q", res.Schema, compare.ResultSchema)
	}
	if !knownVerdict(res.Verdict, true) {
		return nil, fmt.Errorf("verdict %q: unknown", res.Verdict)
	}
	for i, m := range res.Metrics {
		if !knownVerdict(m.Verdict, false) {
			return nil, fmt.Errorf("metrics[%d].verdict %q: unknown", i, m.Verdict)
		}
		for _, v := range []float64{m.Base, m.Head, m.Delta, m.DeltaPct, m.P} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("metrics[%d]: a value is not finite", i)
			}
		}
	}
	return &res, nil
}

func knownVerdict(v compare.Verdict, whole bool) bool {
	switch v {
	case compare.Info, compare.Pass, compare.Warn, compare.Fail:
		return true
	case compare.NotComparable, compare.NoBaseline, compare.BaselineUnavailable:
		return whole
	}
	return false
}
