// Package summarytest gives the tests of the packages above parse (compare,
// render) the shipped Nsight Systems exports as summaries, exported once per
// test binary: parse.Export takes a second or more on the larger fixtures
// and many tests read the same few. It is not in exporttest because parse's
// own tests use that one, and this one imports parse.
package summarytest

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/nsys-gate/gate/internal/exporttest"
	"github.com/nsys-gate/gate/parse"
)

// cache holds the summaries made so far, by export and options. It lives
// for one test binary; callers share what it returns and must not modify it.
var cache = struct {
	sync.Mutex
	m map[string]*parse.Summary
}{m: map[string]*parse.Summary{}}

// Export is parse.Export of the gzipped export gz under opts, decompressed
// into a temp dir of the first test that asks. The summary names the
// fixture (Source.File is gz's base name), not the temp file, so that
// goldens are stable.
func Export(tb testing.TB, gz string, opts parse.Options) *parse.Summary {
	tb.Helper()
	key := fmt.Sprintf("%s\x00%+v", gz, opts)
	cache.Lock()
	defer cache.Unlock()
	if s, ok := cache.m[key]; ok {
		return s
	}
	path := exporttest.Decompress(tb, gz, tb.TempDir())
	s, err := parse.Export(context.Background(), path, opts)
	if err != nil {
		tb.Fatalf("parse.Export(%s, %+v): %v", gz, opts, err)
	}
	s.Source.File = filepath.Base(gz)
	cache.m[key] = s
	return s
}
