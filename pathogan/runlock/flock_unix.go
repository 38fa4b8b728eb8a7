//go:build unix

package runlock

import (
	"os"
	"syscall"
)

// errWouldBlock is what tryLock returns when another process holds the lock.
var errWouldBlock = syscall.EWOULDBLOCK

// tryLock takes an exclusive flock on f without waiting.
func tryLock(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err != syscall.EINTR {
			return err
		}
	}
}
