//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly || solaris

package devproxy

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// resizes receives a value each time the terminal is resized (SIGWINCH),
// until ctx ends.
func resizes(ctx context.Context) <-chan struct{} {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGWINCH)
	out := make(chan struct{}, 1)
	go func() {
		defer signal.Stop(sig)
		for {
			select {
			case <-ctx.Done():
				return
			case <-sig:
				select {
				case out <- struct{}{}:
				default: // a resize is already pending
				}
			}
		}
	}()
	return out
}
