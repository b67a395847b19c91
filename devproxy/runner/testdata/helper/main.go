//go:build unix

// Command helper is the program the runner tests start: a dev server that
// reads PORT or --port, one that ignores both, a flood of output, processes
// that ignore signals, a process tree, and a supervisor that uses the
// runner package itself.
package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/devproxy/devproxy/devproxy/runner"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: helper MODE [ARGS]")
		os.Exit(2)
	}
	mode, args := os.Args[1], os.Args[2:]
	switch mode {
	case "serve":
		serve(args, false)
	case "serve-elsewhere":
		serve(args, true)
	case "flood":
		flood(args)
	case "partial":
		fmt.Print("prompt> ")
		waitSignal(syscall.SIGINT, syscall.SIGTERM)
		os.Exit(130)
	case "exit":
		fmt.Println("first words")
		fmt.Fprintln(os.Stderr, "last words")
		code, _ := strconv.Atoi(args[0])
		os.Exit(code)
	case "stubborn":
		stubborn("stubborn", syscall.SIGINT, syscall.SIGTERM)
	case "tree":
		// npm → node → esbuild: the first process exits on SIGINT, its
		// child ignores SIGINT, the grandchild ignores SIGINT and SIGTERM.
		start("mid")
		fmt.Println("pid leader", os.Getpid())
		waitSignal(syscall.SIGINT)
		os.Exit(130)
	case "mid":
		start("leaf")
		stubborn("mid", syscall.SIGINT)
	case "leaf":
		stubborn("leaf", syscall.SIGINT, syscall.SIGTERM)
	case "supervise":
		supervise()
	default:
		fmt.Fprintf(os.Stderr, "helper: unknown mode %q\n", mode)
		os.Exit(2)
	}
}

// serve listens on --port or PORT, or on a port of its own when elsewhere
// is set, says where as Vite does (in colour), and answers 503.
func serve(args []string, elsewhere bool) {
	fmt.Printf("args=%q\n", strings.Join(args, " "))
	fmt.Printf("BROWSER=%s PORT=%s\n", os.Getenv("BROWSER"), os.Getenv("PORT"))
	port := os.Getenv("PORT")
	for i, a := range args {
		if a == "--port" && i+1 < len(args) {
			port = args[i+1]
		}
	}
	if elsewhere {
		port = "0"
	}
	l, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		os.Exit(1)
	}
	p := l.Addr().(*net.TCPAddr).Port
	fmt.Printf("\n  \x1b[32m➜\x1b[39m  \x1b[1mLocal\x1b[22m:   \x1b[36mhttp://localhost:\x1b[1m%d\x1b[22m/\x1b[39m\n", p)
	_ = http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "still compiling", http.StatusServiceUnavailable)
	}))
}

// flood writes args[0] bytes of numbered 100-byte lines to stdout and a
// tenth of that to stderr at the same time, then a line without a line
// break on each, and exits 3.
func flood(args []string) {
	total, _ := strconv.Atoi(args[0])
	done := make(chan struct{})
	go func() {
		w := bufio.NewWriterSize(os.Stderr, 64<<10)
		for i := 0; i < total/10/100; i++ {
			fmt.Fprintf(w, "err %08d %s\n", i, strings.Repeat("e", 100-14))
		}
		w.WriteString("err tail")
		w.Flush()
		close(done)
	}()
	w := bufio.NewWriterSize(os.Stdout, 64<<10)
	for i := 0; i < total/100; i++ {
		fmt.Fprintf(w, "out %08d %s\n", i, strings.Repeat("o", 100-14))
	}
	w.WriteString("out tail")
	w.Flush()
	<-done
	os.Exit(3)
}

// start starts this program in another mode as a child that shares the
// process group and the output.
func start(mode string) {
	cmd := exec.Command(os.Args[0], mode)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "start:", err)
		os.Exit(1)
	}
}

// stubborn prints its PID and ignores the signals given, saying so.
func stubborn(name string, ignore ...os.Signal) {
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, ignore...)
	fmt.Println("pid", name, os.Getpid())
	for s := range ch {
		fmt.Println(name, "ignores", s)
	}
}

func waitSignal(sigs ...os.Signal) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sigs...)
	<-ch
}

// supervise runs "tree" under the runner and prints its lines, so that a
// test can SIGKILL this process and look for survivors.
func supervise() {
	cmd, err := runner.New(runner.Options{
		Name:   "tree",
		Args:   []string{os.Args[0], "tree"},
		Output: func(l runner.Line) { fmt.Println(l.Text) },
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("pid supervisor", os.Getpid())
	exit, _ := cmd.Wait(context.Background())
	fmt.Println("tree", exit)
}
