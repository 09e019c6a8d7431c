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
		{compare.Pass, action.FailOnFail, &config.Config{}, exitOK},
		{compare.Warn, action.FailOnFail, &config.Config{}, exitOK},
		{compare.Fail, action.FailOnFail, &config.Config{}, exitFail},
		{compare.Warn, action.FailOnWarn, &config.Config{}, exitFail},
		{compare.Pass, action.FailOnWarn, &config.Config{}, exitOK},
		{compare.Fail, action.FailOnWarn, &config.Config{}, exitFail},
		{compare.Fail, action.FailOnNever, &config.Config{}, exitOK},
		{compare.NoBaseline, action.FailOnFail, &config.Config{}, exitNotComparable},
		{compare.NoBaseline, action.FailOnFail, lenient, exitOK},
		{compare.NotComparable, action.FailOnFail, lenient, exitNotComparable},
		{compare.NotComparable, action.FailOnNever, &config.Config{}, exitOK},
		{compare.Info, "", nil, exitOK},
		{compare.NotComparable, "", nil, exitNotComparable},
		{"approved", action.FailOnFail, &config.Config{}, exitError},
	}
	for _, tt := range tests {
		if got := exitCode(tt.v, tt.failOn, tt.cfg); got != tt.want {
			t.Errorf("exitCode(%s, %s) = %d, want %d", tt.v, tt.failOn, got, tt.want)
		}
	}
}
