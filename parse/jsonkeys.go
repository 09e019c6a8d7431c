package parse

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// encoding/json takes the last of two equal keys: a summary that ends with
// a second `"phases": {}` would decode with no phases, and a baseline
// artifact could hide what it says. checkKeys refuses such a document
// before it is decoded, in one pass over the bytes that allocates little
// (a 114 MB summary with 10^6 kernels scans in well under a second). It also
// returns the raw value of the top-level "schema" key and whether the
// document is an object at all, so that DecodeSummary need not decode the
// document twice. Malformed JSON is not its business: it stops, and
// json.Unmarshal reports the syntax error.

// maxKeyDepth is where checkKeys stops descending, as encoding/json does
// (it refuses more than 10000 levels).
const maxKeyDepth = 10000

type keyScan struct {
	data   []byte
	i      int
	top    []string // the top-level keys
	schema []byte   // the raw value of the top-level "schema"
	path   []string // where the scan is, for the error
	stop   bool     // malformed input: leave it to json.Unmarshal
}

// checkKeys scans data, one JSON document. It returns the top-level keys
// (nil when data is not an object, or is malformed before the duplicate),
// the raw top-level "schema" value, and an error naming the first duplicate
// key and where it is.
func checkKeys(data []byte) (top []string, schema []byte, err error) {
	s := &keyScan{data: data}
	s.ws()
	if s.i >= len(data) || data[s.i] != '{' {
		return nil, nil, nil
	}
	if err := s.value(0); err != nil {
		return nil, nil, err
	}
	if s.stop {
		return nil, nil, nil
	}
	if s.top == nil {
		s.top = []string{}
	}
	return s.top, s.schema, nil
}

func (s *keyScan) ws() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

// value skips one value, checking the keys of the objects in it.
func (s *keyScan) value(depth int) error {
	s.ws()
	if s.i >= len(s.data) || depth > maxKeyDepth {
		s.stop = true
		return nil
	}
	switch s.data[s.i] {
	case '{':
		return s.object(depth)
	case '[':
		return s.array(depth)
	case '"':
		s.str()
		return nil
	}
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ',', ']', '}', ' ', '\t', '\r', '\n':
			return nil
		}
		s.i++
	}
	return nil
}

// str skips a string and returns its raw bytes without the quotes.
func (s *keyScan) str() []byte {
	start := s.i + 1
	for s.i++; s.i < len(s.data); s.i++ {
		switch s.data[s.i] {
		case '\\':
			s.i++
		case '"':
			s.i++
			return s.data[start : s.i-1]
		}
	}
	s.stop = true
	return nil
}

func (s *keyScan) object(depth int) error {
	s.i++ // '{'
	var keys []string
	var seen map[string]bool
	for !s.stop {
		s.ws()
		if s.i >= len(s.data) {
			s.stop = true
			break
		}
		if s.data[s.i] == '}' {
			s.i++
			break
		}
		if s.data[s.i] != '"' {
			s.stop = true
			break
		}
		raw := s.str()
		key := string(raw)
		if strings.IndexByte(key, '\\') >= 0 {
			// "\u0070hases" is "phases" to encoding/json.
			if err := json.Unmarshal(append(append([]byte{'"'}, raw...), '"'), &key); err != nil {
				s.stop = true // a bad escape: Unmarshal's to report
				break
			}
		}
		dup := false
		if seen != nil {
			dup = seen[key]
			seen[key] = true
		} else {
			for _, k := range keys {
				dup = dup || k == key
			}
			keys = append(keys, key)
			if len(keys) > 16 {
				seen = make(map[string]bool, 2*len(keys))
				for _, k := range keys {
					seen[k] = true
				}
			}
		}
		if dup {
			return fmt.Errorf("duplicate key %q %s: a JSON object may name a key once", key, s.where())
		}
		if depth == 0 {
			s.top = append(s.top, key)
		}
		s.ws()
		if s.i >= len(s.data) || s.data[s.i] != ':' {
			s.stop = true
			break
		}
		s.i++
		s.path = append(s.path, key)
		start := s.i
		if err := s.value(depth + 1); err != nil {
			return err
		}
		if depth == 0 && key == "schema" {
			s.schema = s.data[start:s.i]
		}
		s.path = s.path[:len(s.path)-1]
		s.ws()
		if s.i < len(s.data) && s.data[s.i] == ',' {
			s.i++
			continue
		}
		if s.i < len(s.data) && s.data[s.i] == '}' {
			s.i++
			break
		}
		s.stop = true
	}
	return nil
}

func (s *keyScan) array(depth int) error {
	s.i++ // '['
	for n := 0; !s.stop; n++ {
		s.ws()
		if s.i < len(s.data) && s.data[s.i] == ']' {
			s.i++
			return nil
		}
		s.path = append(s.path, "["+strconv.Itoa(n)+"]")
		if err := s.value(depth + 1); err != nil {
			return err
		}
		s.path = s.path[:len(s.path)-1]
		s.ws()
		if s.i < len(s.data) && s.data[s.i] == ',' {
			s.i++
			continue
		}
		if s.i < len(s.data) && s.data[s.i] == ']' {
			s.i++
			return nil
		}
		s.stop = true
	}
	return nil
}

// where names the object being scanned: "at the top level",
// "in kernels[3]".
func (s *keyScan) where() string {
	if len(s.path) == 0 {
		return "at the top level"
	}
	var b strings.Builder
	for i, p := range s.path {
		if i > 0 && !strings.HasPrefix(p, "[") {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return "in " + b.String()
}
