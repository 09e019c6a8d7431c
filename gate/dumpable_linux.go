package gate

import "syscall"

// hideEnvironment makes gate's process non-dumpable before it starts the
// pull request's workload: /proc/<gate>/environ, where the runner put the
// token (INPUT_GITHUB-TOKEN), then belongs to root, and the workload, when it
// runs as another user than root, can neither read it nor ptrace gate. A
// workload running as root (the Docker action) can still; its own
// environment is scrubbed either way.
func hideEnvironment() error {
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_DUMPABLE, 0, 0); errno != 0 {
		return errno
	}
	return nil
}

// dumpable reports whether the process is dumpable, for the test.
func dumpable() bool {
	r, _, _ := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_GET_DUMPABLE, 0, 0)
	return r != 0
}
