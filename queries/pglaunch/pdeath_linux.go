package pglaunch

import "syscall"

// setParentDeathSignal has the kernel send the server SIGQUIT (immediate
// shutdown) when hmperf dies without stopping it.
func setParentDeathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGQUIT }
