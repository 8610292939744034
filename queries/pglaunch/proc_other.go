//go:build !unix

package pglaunch

import (
	"os"
	"syscall"
)

type credential struct{}

var (
	fastShutdown      os.Signal = os.Interrupt
	immediateShutdown os.Signal = os.Kill
	reloadSignal      os.Signal = os.Interrupt
)

func supported() error { return ErrUnsupportedPlatform }

func serverOwner() (*credential, error) { return nil, nil }

func chownAll(*credential, ...string) error { return nil }

func sysProcAttr(*credential, bool) *syscall.SysProcAttr { return nil }

func processAlive(int) bool { return false }

// lockFile locks nothing: Start refuses to run here before it would fetch.
func lockFile(string) (func(), error) { return func() {}, nil }
