// Package profiletest puts fake nsys and ncu first on a test's PATH. They
// run the workload as the real tools do, leave a real export of the probe
// workload (testdata/nsys/probe.sqlite.gz) and a real ncu CSV
// (testdata/ncu/ncu_baseline.csv.gz) where the tools would, and log each
// call, so that `gate profile` runs end to end without a GPU.
package profiletest

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/nsys-gate/gate/internal/exporttest"
)

// fakeNsys is an nsys that runs the workload after `-o BASE` and writes
// BASE.sqlite, a copy of a real export, as nsys does with --export=sqlite.
// Without --export it writes BASE.nsys-rep and supports `nsys export`. It
// records its arguments, one call a line, in $FAKE_LOG and exits with the
// workload's code, as nsys does. Asked to sample GPU metrics it copies
// $FAKE_EXPORT_GM instead where set, or refuses with $FAKE_NSYS_REFUSE.
const fakeNsys = `#!/bin/sh
echo "nsys $*" >> "$FAKE_LOG"
case " $* " in
  *" --gpu-metrics-devices=none "*) ;;
  *" --gpu-metrics-devices="*)
    if [ -n "$FAKE_NSYS_REFUSE" ]; then echo "$FAKE_NSYS_REFUSE" >&2; exit 1; fi
    [ -n "$FAKE_EXPORT_GM" ] && FAKE_EXPORT=$FAKE_EXPORT_GM ;;
esac
if [ "$1" = export ]; then
  while [ $# -gt 0 ]; do [ "$1" = --output ] && out=$2; shift; done
  cp "$FAKE_EXPORT" "$out"; exit 0
fi
[ "$1" = profile ] || { echo "fake nsys: no $1" >&2; exit 9; }
sqlite=no
while [ $# -gt 0 ]; do
  case "$1" in
    --export=sqlite) sqlite=yes; shift ;;
    -o) out=$2; shift 2; break ;;
    *) shift ;;
  esac
done
"$@"; code=$?
if [ $sqlite = yes ]; then cp "$FAKE_EXPORT" "$out.sqlite"; else echo report > "$out.nsys-rep"; fi
exit $code
`

// fakeNCU writes a real ncu CSV where --log-file says and runs the workload
// after the last flag.
const fakeNCU = `#!/bin/sh
echo "ncu $*" >> "$FAKE_LOG"
while [ $# -gt 0 ]; do
  case "$1" in
    --log-file) log=$2; shift 2; break ;;
    *) shift ;;
  esac
done
"$@"; code=$?
cp "$FAKE_NCU_CSV" "$log"
exit $code
`

// Tools are the installed fakes.
type Tools struct {
	Bin string // the folder put first on the PATH
	Log string // one line per call: "nsys profile ...", "ncu ..."
	Out string // a fresh output folder for the test to use
}

// Install puts fake nsys (and ncu, when withNCU) first on the PATH for the
// rest of the test.
func Install(t *testing.T, withNCU bool) Tools {
	t.Helper()
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "bin")
	os.Mkdir(bin, 0o755)
	if err := os.WriteFile(filepath.Join(bin, "nsys"), []byte(fakeNsys), 0o755); err != nil {
		t.Fatal(err)
	}
	if withNCU {
		if err := os.WriteFile(filepath.Join(bin, "ncu"), []byte(fakeNCU), 0o755); err != nil {
			t.Fatal(err)
		}
		t.Setenv("FAKE_NCU_CSV", exporttest.Decompress(t, testdata("ncu/ncu_baseline.csv.gz"), tmp))
	}
	f := Tools{Bin: bin, Log: filepath.Join(tmp, "calls.log"), Out: filepath.Join(tmp, "out")}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("FAKE_LOG", f.Log)
	t.Setenv("FAKE_EXPORT", exporttest.Decompress(t, testdata("nsys/probe.sqlite.gz"), tmp))
	return f
}

// RefuseGPUMetrics makes the fake nsys refuse --gpu-metrics-devices as
// nsys does where the GPU's counters are out of reach: message on stderr,
// exit 1, no report, the workload not run.
func (f Tools) RefuseGPUMetrics(t *testing.T, message string) {
	t.Helper()
	t.Setenv("FAKE_NSYS_REFUSE", message)
}

// SampledExport makes the fake nsys hand out testdata/<name> (gzipped) when
// asked to sample GPU metrics: a real export with samples.
func (f Tools) SampledExport(t *testing.T, name string) {
	t.Helper()
	t.Setenv("FAKE_EXPORT_GM", exporttest.Decompress(t, testdata(name), t.TempDir()))
}

// Calls returns the calls the fakes logged, in order.
func (f Tools) Calls(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(f.Log)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

// testdata returns the path of name under the module's testdata folder.
func testdata(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "testdata", name)
}
