//go:build unix && !linux

package pglaunch

import "syscall"

// setParentDeathSignal does nothing: only Linux has a parent-death signal.
// Elsewhere a server whose hmperf was killed outright keeps running until
// it is stopped by hand; its directory is kept while it runs (SweepStale
// sweeps only directories whose server is gone).
func setParentDeathSignal(*syscall.SysProcAttr) {}
