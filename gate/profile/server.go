package profile

import (
	"context"
	"io"
	"os"
	"path/filepath"

	"github.com/nsys-gate/gate/gate/load"
	"github.com/nsys-gate/gate/gate/server"
	"github.com/nsys-gate/gate/parse"
)

// Server is `gate profile --server`: it runs the server mode under nsys with
// its report in o.Dir (profile.nsys-rep, profile.sqlite, server.log),
// summarises the export like Run and adds the serving metrics (load.*,
// vllm.metrics.*, vllm.log.*) to Summary.Extra, then writes
// o.Dir/summary.json. From o it uses Dir, Nsys, NsysArgs, NsysExtra, Parse,
// Extra, Env, Progress (else Stderr), LookPath and Version; so says how to
// run and load the server.
func Server(ctx context.Context, o Options, so server.Options) (*parse.Summary, error) {
	dir, err := outputDir(o.Dir)
	if err != nil {
		return nil, err
	}
	nsys, err := load.Nsys{Path: o.Nsys, LookPath: o.LookPath}.Find()
	if err != nil {
		return nil, err
	}
	so.Nsys = nsys
	args := o.NsysArgs
	if len(args) == 0 {
		args = server.DefaultNsysArgs()
	}
	so.NsysArgs = append(append([]string(nil), args...), o.NsysExtra...)
	so.Output = filepath.Join(dir, "profile")
	so.LogPath = filepath.Join(dir, "server.log")
	so.Env = append(so.Env, o.Env...)
	os.Remove(so.Output + ".sqlite") // never parse a stale export
	t := o.tools()
	if t.progress == nil {
		t.progress = o.Stderr
	}
	if t.progress == nil {
		t.progress = io.Discard
	}
	t.logf("server mode: %s (its output and nsys's: %s)", so.Command, so.LogPath)
	if so.Progress == nil {
		so.Progress = t.progress
	}
	res, err := server.Run(ctx, so)
	if err != nil {
		return nil, err
	}
	t.logf("server mode: %d requests completed, %d failed", res.Completed, res.Failed)
	export := res.Report + ".sqlite"
	s, err := parseExport(ctx, t, export, o.Parse)
	if err != nil {
		return nil, err
	}
	load.AddMetrics(s, res.Metrics, res.Warnings)
	if err := finish(t, s, dir, o.Extra, o.Version); err != nil {
		return nil, err
	}
	return s, nil
}
