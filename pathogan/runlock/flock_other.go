//go:build !unix

package runlock

import (
	"errors"
	"os"
)

// errWouldBlock is what tryLock returns when another process holds the lock.
var errWouldBlock = errors.New("lock held")

// tryLock has no advisory lock to take on this system: a lock file that
// names a holder counts as held (remove it by hand after a crash).
func tryLock(f *os.File) error {
	if readHolder(f) != "" {
		return errWouldBlock
	}
	return nil
}
