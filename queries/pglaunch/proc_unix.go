//go:build unix

package pglaunch

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// credential is the OS identity initdb and the server run as.
type credential = syscall.Credential

// The signals of PostgreSQL's fast and immediate shutdown modes.
var (
	fastShutdown      os.Signal = syscall.SIGINT
	immediateShutdown os.Signal = syscall.SIGQUIT
	// reloadSignal makes the server reread its configuration files.
	reloadSignal os.Signal = syscall.SIGHUP
)

// supported reports whether the embedded server can run here: it can on
// every unix system.
func supported() error { return nil }

// serverOwner returns the credential the server must run as: nil (the
// current user) unless we are root.
func serverOwner() (*credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, errors.New("running as root, but neither a `postgres` nor a `nobody` user exists to run PostgreSQL as")
}

func chownAll(owner *credential, paths ...string) error {
	if owner == nil {
		return nil
	}
	for _, p := range paths {
		if err := os.Chown(p, int(owner.Uid), int(owner.Gid)); err != nil {
			return fmt.Errorf("hand %s to the server user: %w", p, err)
		}
	}
	return nil
}

// sysProcAttr runs a child as owner in its own process group, so that a
// terminal's ^C reaches hmperf only; the server itself also gets the
// platform's parent-death signal where there is one.
func sysProcAttr(owner *credential, server bool) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Credential: owner, Setpgid: true}
	if server {
		setParentDeathSignal(a)
	}
	return a
}

// processAlive reports whether process pid exists.
func processAlive(pid int) bool { return aliveBySignalZero(syscall.Kill(pid, 0)) }

// aliveBySignalZero reads the answer of kill(pid, 0): no error means alive,
// and so does EPERM, which says the process exists but belongs to another
// user (a server started by someone else, or by root as `postgres`). Only
// ESRCH means there is no such process.
func aliveBySignalZero(err error) bool {
	return err == nil || errors.Is(err, syscall.EPERM)
}

// lockFile takes an exclusive lock on path (created if missing), waiting for
// another process that holds it: two test binaries that both find no
// binaries fetch them once. The returned function releases it.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { _ = f.Close() }, nil
}
