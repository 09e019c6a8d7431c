package load

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nsys-gate/gate/parse"
)

func fixturePath(name string) string { return filepath.Join("..", "..", "testdata", name) }

// TestLoadGzipExport: a .sqlite.gz is decompressed to a temporary file that
// is gone afterwards, and the summary names the file the user gave.
func TestLoadGzipExport(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	s, err := Summary(context.Background(), fixturePath("nsys/probe.sqlite.gz"), parse.Options{Scope: "benchmark"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Source.File != "probe.sqlite.gz" || s.Phases[parse.PhaseDecode] == nil || s.Phases[parse.PhaseDecode].Steps != 4 {
		t.Errorf("source %+v phases %v", s.Source, s.Phases)
	}
	left, _ := os.ReadDir(tmp)
	if len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

// TestLoadSummaryJSON: a summary written by gate parse reads back equal.
func TestLoadSummaryJSON(t *testing.T) {
	s, err := Summary(context.Background(), fixturePath("nsys/probe.sqlite.gz"), parse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := parse.EncodeSummary(&buf, s); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "probe.json")
	os.WriteFile(path, buf.Bytes(), 0o644)
	back, err := Summary(context.Background(), path, parse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	parse.EncodeSummary(&again, back)
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("summary JSON does not survive a round trip")
	}
}

// TestNsysRepWithoutNsys: without nsys on the PATH the error says what to
// install.
func TestNsysRepWithoutNsys(t *testing.T) {
	x := Loader{nsys: Nsys{LookPath: func(string) (string, error) { return "", exec.ErrNotFound }}}
	_, err := x.Summary(context.Background(), fixturePath("nsys/base_a.nsys-rep"), parse.Options{})
	if err == nil || !strings.Contains(err.Error(), "base_a.nsys-rep") || !strings.Contains(err.Error(), "install NVIDIA Nsight Systems") {
		t.Errorf("err = %v", err)
	}
}

// TestNsysRepRefused: an nsys older than the report refuses it (the words
// Debian bookworm's nsys 2022.4 prints); the error names the release that
// wrote the report, read from the report itself, the nsys that refused it,
// and keeps nsys's own words.
func TestNsysRepRefused(t *testing.T) {
	old := Nsys{
		LookPath: func(string) (string, error) { return "/usr/bin/nsys", nil },
		Run: func(ctx context.Context, name string, args ...string) ([]byte, error) {
			if name != "/usr/bin/nsys" {
				t.Errorf("ran %s %v", name, args)
			}
			if args[0] == "--version" {
				return []byte("NVIDIA Nsight Systems version 2022.4.2.1-df9881f\n"), nil
			}
			if args[0] != "export" || !strings.HasSuffix(args[len(args)-1], ".nsys-rep") {
				t.Errorf("ran %s %v", name, args)
			}
			return []byte("Processing events...\nExportation error: Version not supported: 36398880\n"), errors.New("exit status 1")
		},
	}
	// A report whose trailer gate cannot read: the same refusal, no release named.
	anon := filepath.Join(t.TempDir(), "anon.nsys-rep")
	if err := os.WriteFile(anon, []byte("NVIDIA Tegra Profiler Report 36398880.\x00\x01"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		report string
		want   []string
	}{
		{fixturePath("nsys/base_a.nsys-rep"), []string{
			"base_a.nsys-rep: written by Nsight Systems 2025.3, which /usr/bin/nsys (2022.4.2.1) cannot read: export it with Nsight Systems 2025.3 or newer, or pass its .sqlite export instead",
			"(nsys export said: Exportation error: Version not supported: 36398880)"}},
		{anon, []string{"anon.nsys-rep: written by a newer Nsight Systems, which /usr/bin/nsys (2022.4.2.1) cannot read: " +
			"export it with the Nsight Systems release that wrote it or a newer one"}},
	} {
		_, err := Loader{nsys: old}.Summary(context.Background(), tc.report, parse.Options{})
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) || strings.Contains(err.Error(), "\n") {
				t.Errorf("%s: err = %v\nwant it to contain %q, on one line", tc.report, err, w)
			}
		}
	}
}

// TestReportVersion reads the release from the shipped report's trailer,
// and nothing from files that are not reports or do not say.
func TestReportVersion(t *testing.T) {
	if got := reportVersion(fixturePath("nsys/base_a.nsys-rep")); got != "2025.3.1.0" {
		t.Errorf("base_a.nsys-rep: version %q, want 2025.3.1.0", got)
	}
	dir := t.TempDir()
	for name, data := range map[string]string{
		"empty.nsys-rep":        "",
		"sqlite.nsys-rep":       "SQLite format 3\x00 2025.3.1.0:\x0836398880",
		"no-trailer.nsys-rep":   "NVIDIA Tegra Profiler Report 36398880.\x00 2025.3.1.0 then other bytes",
		"other-format.nsys-rep": "NVIDIA Tegra Profiler Report 36398880.\x00 2025.3.1.0:\x0836398881",
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := reportVersion(p); got != "" {
			t.Errorf("%s: version %q, want none", name, got)
		}
	}
	if got := reportVersion(filepath.Join(dir, "absent.nsys-rep")); got != "" {
		t.Errorf("absent file: version %q", got)
	}
}

// TestNsysRepReal runs the nsys on the PATH, if any, on the shipped report:
// a recent nsys exports it and the summary has the fixture's steps; an old
// one (Debian's 2022.4, which .ci/run installs) refuses it with one line that
// names the file and the release it needs.
func TestNsysRepReal(t *testing.T) {
	if _, err := exec.LookPath("nsys"); err != nil {
		t.Skip("nsys not on the PATH")
	}
	report := fixturePath("nsys/base_a.nsys-rep")
	s, err := Summary(context.Background(), report, parse.Options{Scope: "benchmark"})
	if err != nil {
		msg := err.Error()
		if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, report+": ") {
			t.Errorf("refusal not one line naming the file: %v", err)
		}
		if strings.Contains(msg, "Version not supported") && !strings.Contains(msg, "export it with Nsight Systems 2025.3 or newer") {
			t.Errorf("an old nsys's refusal does not name the release it needs: %v", err)
		}
		t.Logf("nsys refused the report: %v", err)
		return
	}
	if s.Phases[parse.PhaseDecode].Steps != 96 || s.Source.File != "base_a.nsys-rep" {
		t.Errorf("exported report: source %+v phases %v", s.Source, s.Phases)
	}
}

// TestLoadBadInputs: one line naming the file, never a panic.
func TestLoadBadInputs(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, data, 0o644)
		return p
	}
	gz, err := os.ReadFile(fixturePath("nsys/probe.sqlite.gz"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ path, want string }{
		{write("half.sqlite.gz", gz[:len(gz)/2]), "unexpected EOF"},
		{write("junk.sqlite", []byte("hello")), "not an SQLite database"},
		{write("junk.sqlite.gz", []byte{0x1f, 0x8b, 0, 1, 2}), "gzip"},
		{write("bad.json", []byte(`{"schema": "other/v9"}`)), "schema"},
		{filepath.Join(dir, "absent.sqlite"), "no such file"},
		{dir, "directory"},
	}
	for _, tt := range tests {
		_, err := Summary(context.Background(), tt.path, parse.Options{})
		if err == nil || !strings.Contains(err.Error(), tt.path) || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Summary(context.Background(), %s) = %v, want one line with the path and %q", tt.path, err, tt.want)
		}
	}
}

// Comma-separated exports are the ranks of one multi-process run: loaded
// one by one and merged, one device per rank.
func TestLoadRanks(t *testing.T) {
	probe := fixturePath("nsys/probe.sqlite.gz")
	one, err := Summary(context.Background(), probe, parse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The same export under a second name stands for a second rank.
	data, _ := os.ReadFile(probe)
	rank1 := filepath.Join(t.TempDir(), "rank1.sqlite.gz")
	os.WriteFile(rank1, data, 0o644)
	two, err := Summary(context.Background(), probe+","+rank1, parse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if two.GPU.Devices != 2 || len(two.Devices) != 2 {
		t.Errorf("merged: %d devices, %d device rows; want 2 and 2", two.GPU.Devices, len(two.Devices))
	}
	if len(two.Kernels) == 0 || two.Kernels[0].Count != 2*one.Kernels[0].Count {
		t.Errorf("merged kernels do not add up the ranks' launches")
	}
	if _, err := Summary(context.Background(), probe+","+fixturePath("nsys/missing.sqlite"), parse.Options{}); err == nil || !strings.Contains(err.Error(), "missing.sqlite") {
		t.Errorf("a missing rank: error %v, want one naming the file", err)
	}
	// One rank twice would count as two devices; an empty element is no
	// file at all.
	for _, tt := range []struct{ arg, want string }{
		{probe + "," + probe, "is listed twice"},
		{probe + ",./" + probe, "is listed twice"},
		{probe + ",", "rank 1 of the comma-separated list is empty"},
		{"," + probe, "rank 0 of the comma-separated list is empty"},
	} {
		_, err := Summary(context.Background(), tt.arg, parse.Options{})
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), strconv.Quote(tt.arg)) {
			t.Errorf("%q: %v, want %q naming the argument", tt.arg, err, tt.want)
		}
	}
}

// Errors keep their chain: a caller can still ask what went wrong.
func TestLoadErrorsKeepTheirChain(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "absent.sqlite")
	for _, path := range []string{missing, missing + ".gz", fixturePath("nsys/probe.sqlite.gz") + "," + missing, strings.TrimSuffix(missing, ".sqlite") + ".nsys-rep"} {
		if _, err := Summary(context.Background(), path, parse.Options{}); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Summary(%s) = %v, want an error that is fs.ErrNotExist", path, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	x := Loader{nsys: Nsys{
		LookPath: func(string) (string, error) { return "/usr/bin/nsys", nil },
		Run: func(ctx context.Context, name string, args ...string) ([]byte, error) {
			return nil, ctx.Err()
		},
	}}
	if _, err := x.Summary(ctx, fixturePath("nsys/base_a.nsys-rep"), parse.Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled export: %v, want context.Canceled in the chain", err)
	}
}

// Only regular files are profiles: a named pipe would block the open
// forever, and /dev/stdin cannot be read twice.
func TestLoadRefusesNonRegularFiles(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo.sqlite")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	stdin := fmt.Sprintf("/proc/self/fd/%d", r.Fd())
	for _, tt := range []struct{ path, want string }{
		{fifo, "is not a regular file (a named pipe)"},
		{stdin, "is not a regular file (a named pipe)"},
		{"/dev/null", "is not a regular file (a device)"},
	} {
		done := make(chan error, 1)
		go func() { _, err := Summary(context.Background(), tt.path, parse.Options{}); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), tt.path) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s: %v, want %q", tt.path, err, tt.want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: still waiting after 10 s", tt.path)
		}
	}
}

// gzip: the first decompressed bytes decide, the expansion is capped, and
// the temporary export is removed however the load ends.
func TestLoadGzipLimits(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	dir := t.TempDir()
	gz := func(name string, head []byte, zeros int64) string {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(head)
		zw.Write(make([]byte, zeros))
		zw.Close()
		p := filepath.Join(dir, name)
		os.WriteFile(p, b.Bytes(), 0o644)
		return p
	}
	// Neither SQLite nor JSON: refused before anything is written.
	zeros := gz("zeros.sqlite.gz", nil, 64<<20)
	if _, err := Summary(context.Background(), zeros, parse.Options{}); err == nil || !strings.Contains(err.Error(), "neither an SQLite export nor a summary JSON") {
		t.Errorf("zeros: %v", err)
	}
	// An SQLite header over more than the cap: refused at the cap.
	bomb := gz("bomb.sqlite.gz", []byte("SQLite format 3\x00"), 8<<20)
	start := time.Now()
	_, err := Loader{MaxGunzip: 1 << 20}.Summary(context.Background(), bomb, parse.Options{})
	if err == nil || !strings.Contains(err.Error(), "expands to more than 1 MiB") || !strings.Contains(err.Error(), bomb) {
		t.Errorf("bomb: %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("the capped bomb took %v", time.Since(start))
	}
	// A cancelled load (SIGTERM) stops and cleans up.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Summary(ctx, bomb, parse.Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	// A real gzipped export still loads, and nothing is left in TMPDIR.
	if _, err := Summary(context.Background(), fixturePath("nsys/probe.sqlite.gz"), parse.Options{}); err != nil {
		t.Fatal(err)
	}
	if es, _ := os.ReadDir(tmp); len(es) != 0 {
		t.Errorf("left in TMPDIR: %v", es)
	}
}
