// Package servertest supports tests of the server mode: it builds the Go
// stand-in inference server (testdata/standin, which speaks vLLM's
// OpenAI-compatible endpoints and /metrics) and checks that no process of a
// run outlives it.
package servertest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// Build compiles the stand-in server into dir and returns its path. It
// skips the test under -short.
func Build(t testing.TB, dir string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the stand-in server")
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("servertest: cannot locate the module root")
	}
	bin := filepath.Join(dir, "standin")
	cmd := exec.Command("go", "build", "-o", bin, "./testdata/standin")
	cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build standin: %v\n%s", err, out)
	}
	return bin
}

// FreeAddr returns a 127.0.0.1 address with a port nothing listens on.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// NoLeftovers fails the test when a live process's command line contains
// marker (a server's address, say): the server mode must stop every
// process it started.
func NoLeftovers(t testing.TB, marker string) {
	t.Helper()
	if l := leftovers(marker); len(l) > 0 {
		t.Errorf("processes left behind: %v", l)
	}
}

// leftovers lists live processes whose command line contains marker.
func leftovers(marker string) []string {
	var out []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || !strings.Contains(string(cmdline), marker) {
			continue
		}
		stat, _ := os.ReadFile("/proc/" + e.Name() + "/stat")
		if i := strings.LastIndexByte(string(stat), ')'); i > 0 && strings.HasPrefix(string(stat[i+1:]), " Z") {
			continue // a zombie waiting for its reaper is not running
		}
		out = append(out, fmt.Sprintf("%s: %s", e.Name(), strings.ReplaceAll(string(cmdline), "\x00", " ")))
	}
	return out
}
