package gate

import (
	"testing"

	"github.com/nsys-gate/gate/compare"
	"github.com/nsys-gate/gate/gate/action"
	"github.com/nsys-gate/gate/gate/config"
)

func TestExitCode(t *testing.T) {
	zero := 0
	lenient := &config.Config{Exit: config.ExitConfig{NoBaseline: &zero}}
	tests := []struct {
		v      compare.Verdict
		failOn string
		cfg    *config.Config
		want   int
	}{
		{compare.Pass, action.FailOnFail, &config.Config{}, ExitOK},
		{compare.Warn, action.FailOnFail, &config.Config{}, ExitOK},
		{compare.Fail, action.FailOnFail, &config.Config{}, ExitFail},
		{compare.Warn, action.FailOnWarn, &config.Config{}, ExitFail},
		{compare.Pass, action.FailOnWarn, &config.Config{}, ExitOK},
		{compare.Fail, action.FailOnWarn, &config.Config{}, ExitFail},
		{compare.Fail, action.FailOnNever, &config.Config{}, ExitOK},
		{compare.NoBaseline, action.FailOnFail, &config.Config{}, ExitNotComparable},
		{compare.NoBaseline, action.FailOnFail, lenient, ExitOK},
		{compare.NotComparable, action.FailOnFail, lenient, ExitNotComparable},
		{compare.NotComparable, action.FailOnNever, &config.Config{}, ExitOK},
		{compare.Info, "", nil, ExitOK},
		{compare.NotComparable, "", nil, ExitNotComparable},
		{"approved", action.FailOnFail, &config.Config{}, ExitError},
	}
	for _, tt := range tests {
		if got := exitCode(tt.v, tt.failOn, tt.cfg); got != tt.want {
			t.Errorf("exitCode(%s, %s) = %d, want %d", tt.v, tt.failOn, got, tt.want)
		}
	}
}
