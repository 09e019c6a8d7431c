// Command gate stops GPU inference performance regressions at the pull request.
// See the README or `gate help` for its subcommands.
package main

import (
	"os"

	"github.com/nsys-gate/gate/gate"
)

func main() {
	cmd := gate.Command{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Environ: os.Environ}
	os.Exit(cmd.Main(os.Args))
}
