// Command cmdserver is the program the command tests start as a route's or
// the frontend's server. It prints its PID and its child's, waits for the
// file GATE (when set) to exist before it listens on PORT, exits 3 when
// CRASH is set, writes FLOOD lines first when set, listens on a port of its own when ELSEWHERE is set, and answers every request with its NAME and the path.
package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "child" {
		// A grandchild of devproxy, as esbuild is under npm and node: it
		// ignores SIGINT, so only the group's SIGTERM ends it.
		signal.Ignore(syscall.SIGINT)
		select {}
	}
	child := exec.Command(os.Args[0], "child")
	if err := child.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "start child:", err)
		os.Exit(1)
	}
	fmt.Printf("pid leader %d\npid child %d\n", os.Getpid(), child.Process.Pid)
	if n, _ := strconv.Atoi(os.Getenv("FLOOD")); n > 0 {
		// A command that writes a lot: n numbered 100-byte lines, then
		// a line without a line break.
		w := bufio.NewWriterSize(os.Stdout, 64<<10)
		for i := range n {
			fmt.Fprintf(w, "line %08d %s\n", i, strings.Repeat("x", 100-15))
		}
		w.WriteString("prompt> ")
		w.Flush()
	}
	if msg := os.Getenv("CRASH"); msg != "" {
		fmt.Fprintln(os.Stderr, "\x1b[31mboom:\x1b[0m", msg)
		os.Exit(3)
	}
	if gate := os.Getenv("GATE"); gate != "" {
		fmt.Println("waiting for", gate)
		for {
			if _, err := os.Stat(gate); err == nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	port := os.Getenv("PORT")
	if os.Getenv("ELSEWHERE") != "" {
		// A dev server that took another port than it was given.
		port = "0"
	}
	l, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		os.Exit(1)
	}
	fmt.Printf("listening on http://localhost:%d/\n", l.Addr().(*net.TCPAddr).Port)
	_ = http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "cmdserver NAME=%s path=%s\n", os.Getenv("NAME"), r.URL.Path)
	}))
}
