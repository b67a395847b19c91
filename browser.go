package main

import (
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"strings"
)

// browserCommand is the command that opens url in the default browser on
// goos, as each desktop does it.
func browserCommand(goos, url string) []string {
	switch goos {
	case "darwin":
		return []string{"open", url}
	case "windows":
		// start's first quoted argument is a window title.
		return []string{"cmd", "/c", "start", "", url}
	}
	return []string{"xdg-open", url}
}

// openBrowser opens url in the browser and says what it ran, or that it
// could not and the URL to open by hand.
func openBrowser(out io.Writer, url string) {
	args := browserCommand(runtime.GOOS, url)
	cmd := exec.Command(args[0], args[1:]...)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(out, "  cannot open a browser (%s: %v); open %s\n", args[0], err, url)
		return
	}
	fmt.Fprintf(out, "  opening %s (%s)\n", url, strings.Join(args, " "))
	go func() { _ = cmd.Wait() }() // reap it; xdg-open exits once the browser has the URL
}
