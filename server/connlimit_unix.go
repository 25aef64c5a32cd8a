//go:build unix

package server

import "syscall"

// descriptorLimit is the process's limit of open descriptors (Go raises
// the soft limit to the hard one at start).
func descriptorLimit() uint64 {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil || l.Cur == 0 {
		return 1024
	}
	return l.Cur
}
