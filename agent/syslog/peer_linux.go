package syslog

import (
	"net"
	"syscall"
)

// peerClosed reports whether the receiver has closed a TCP connection (or
// it failed), by peeking at it without blocking. Receivers never send on a
// syslog connection, so readable means end of stream or an error.
func peerClosed(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	closed := false
	var buf [1]byte
	err = rc.Read(func(fd uintptr) bool {
		n, _, rerr := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case rerr == syscall.EAGAIN || rerr == syscall.EINTR:
			// Nothing to read: the connection is open.
		case rerr != nil || n == 0:
			closed = true
		}
		return true // never wait for readability
	})
	return closed || err != nil
}
