//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly || solaris)

package devproxy

import "context"

// resizes is nil where there is no SIGWINCH: the width read at start-up
// stays.
func resizes(context.Context) <-chan struct{} { return nil }
