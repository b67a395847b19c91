package runner

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options describe a command to run. Only Command or Args is required.
type Options struct {
	// Name labels the command's lines and exit, such as "vite" or "/api".
	// Empty means the program's base name ("npm" for "npm run dev").
	Name string
	// Command is a command line such as "npm run dev". It is split into
	// words by Split and run without a shell; a line that needs one (pipes,
	// &&, redirections, $VAR, globs) runs as /bin/sh -c Command (cmd /C on
	// Windows), and then gets no port flag. Leading NAME=value words are
	// added to the environment.
	Command string
	// Args is the program and its arguments; when set, Command is ignored.
	Args []string
	// Dir is the directory the command runs in and whose package.json is
	// read for npm/pnpm/yarn scripts. Empty means devproxy's own.
	Dir string
	// Env holds NAME=value pairs added to devproxy's environment, after
	// BROWSER=none and PORT, so they win over both.
	Env []string
	// URL is where the command will listen. Empty means a free loopback
	// port is picked and passed as PORT, and as a flag to dev servers that
	// ignore PORT; a PORT in Env is used instead of a free one. When URL is
	// given, its port is passed as PORT and the arguments are left alone.
	URL string
	// Output receives every line of stdout and stderr as it comes, one
	// call at a time, never after Exited. Nil discards them. It should
	// return quickly: the command waits for it when its pipe is full.
	Output func(Line)
	// Exited is called once per run when the command has exited and no
	// process of its group is left, after the run's last Output call. It
	// may call Start or Restart; a run started by then may already be
	// delivering lines. Nil means nobody is told.
	Exited func(Exit)
	// History is how many of the last lines Lines and Exit keep. Zero
	// means 40.
	History int
	// FlushDelay is how long a line without a line break waits for the
	// rest before it is delivered as a partial line. Zero means 100ms.
	FlushDelay time.Duration
	// MaxLine is the length in bytes at which a line is delivered in
	// pieces. Zero means 64 KiB.
	MaxLine int
	// StopGrace is how long Stop waits after SIGINT before SIGTERM, and
	// after SIGTERM before SIGKILL. Zero means 3s.
	StopGrace time.Duration
}

// Plan is what New decided: what runs and where it will listen.
type Plan struct {
	// Argv is the program and arguments that run, port flags included.
	Argv []string
	// Shell is true when Options.Command needed a shell and Argv runs it.
	Shell bool
	// Env holds the pairs added to devproxy's environment, in order.
	Env []string
	// URL is where the command is expected to listen.
	URL string
	// Port is the port passed as PORT; zero when URL has none.
	Port int
	// Source says how URL was decided: URLGiven, URLPortEnv or URLPortFlag.
	Source URLSource
	// Server names the dev server whose port flag was added ("vite",
	// "ng serve", …) when Source is URLPortFlag.
	Server string
}

// State is where a command is in its life.
type State int

const (
	// Idle is a command not started yet.
	Idle State = iota
	// Starting is a command running whose URL has not answered yet.
	Starting
	// Ready is a command whose URL has answered an HTTP request.
	Ready
	// Exited is a command that has exited; Status.Exit says how.
	Exited
)

// String returns "idle", "starting", "ready" or "exited".
func (s State) String() string {
	switch s {
	case Starting:
		return "starting"
	case Ready:
		return "ready"
	case Exited:
		return "exited"
	}
	return "idle"
}

// Exit reports how a run of a command ended.
type Exit struct {
	// Name is the command's name.
	Name string
	// Code is the exit code, -1 when a signal ended the process.
	Code int
	// Signal is the signal that ended it, empty otherwise.
	Signal string
	// Stopped is true when Stop or Restart asked it to end.
	Stopped bool
	// Lines are the last Options.History lines of this run's output.
	Lines []Line
}

// String says how the command ended: "exited with code 1", "killed by
// signal interrupt", "stopped".
func (e Exit) String() string {
	switch {
	case e.Stopped:
		return "stopped"
	case e.Signal != "":
		return "killed by signal " + e.Signal
	}
	return "exited with code " + strconv.Itoa(e.Code)
}

// Status is a snapshot of a command.
type Status struct {
	State State
	// URL is where the command listens: Plan.URL, or the URL it announced
	// when that differs.
	URL string
	// Source says how URL was decided.
	Source URLSource
	// Announced is the last local URL the command printed, empty until it
	// prints one. With a given URL it is only reported, never used.
	Announced string
	// PID is the command's first process while it runs.
	PID int
	// Exit is how the last run ended when State is Exited.
	Exit *Exit
}

// Command is a command devproxy runs and supervises. Its methods are safe
// for concurrent use.
type Command struct {
	opts Options
	plan Plan
	name string

	// outMu makes Output calls one at a time; it is never held with mu.
	outMu sync.Mutex

	mu        sync.Mutex
	state     State
	url       string
	source    URLSource
	announced string
	history   []Line // ring of the last opts.History lines
	next      int    // where the next line goes in history
	full      bool
	runLines  int // lines delivered by the current run
	run       *run
	exit      *Exit
	changed   chan struct{} // closed and replaced on every state change
}

// run is one start of a command.
type run struct {
	cmd      *exec.Cmd
	stop     chan struct{} // closed by Stop
	stopOnce sync.Once
	done     chan struct{} // closed once the exit is reported
}

// New plans a command: splits it, decides its URL and picks its port. The
// port stays the same across restarts.
func New(opts Options) (*Command, error) {
	if opts.History <= 0 {
		opts.History = 40
	}
	if opts.FlushDelay <= 0 {
		opts.FlushDelay = 100 * time.Millisecond
	}
	if opts.MaxLine <= 0 {
		opts.MaxLine = 64 << 10
	}
	if opts.StopGrace <= 0 {
		opts.StopGrace = 3 * time.Second
	}
	plan, err := makePlan(opts)
	if err != nil {
		return nil, err
	}
	name := opts.Name
	if name == "" {
		name = programName(plan.Argv[0])
		if plan.Shell {
			// The line's first word: "npm" for "npm run build && vite".
			name = programName(strings.Fields(opts.Command)[0])
		}
	}
	return &Command{
		opts:    opts,
		plan:    plan,
		name:    name,
		url:     plan.URL,
		source:  plan.Source,
		history: make([]Line, opts.History),
		changed: make(chan struct{}),
	}, nil
}

func makePlan(opts Options) (Plan, error) {
	var p Plan
	switch {
	case len(opts.Args) > 0:
		p.Argv = append([]string(nil), opts.Args...)
	case strings.TrimSpace(opts.Command) != "":
		argv, env, needShell, err := Split(opts.Command)
		if err != nil {
			return Plan{}, err
		}
		if needShell {
			p.Argv, p.Shell = shellArgv(opts.Command), true
		} else {
			p.Argv, p.Env = argv, env
		}
	default:
		return Plan{}, errors.New("run command: no command given")
	}
	p.Env = append([]string{"BROWSER=none"}, p.Env...)
	p.Env = append(p.Env, opts.Env...)

	if opts.URL != "" {
		u, err := url.Parse(opts.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return Plan{}, fmt.Errorf("run %q: url %q is not an http:// or https:// URL", opts.Command+strings.Join(opts.Args, " "), opts.URL)
		}
		p.URL, p.Source = opts.URL, URLGiven
		if port, err := strconv.Atoi(u.Port()); err == nil {
			p.Port = port
		}
	} else {
		port, err := envPort(p.Env)
		if err != nil {
			return Plan{}, err
		}
		if port == 0 {
			if port, err = freePort(); err != nil {
				return Plan{}, err
			}
		}
		p.Port, p.Source = port, URLPortEnv
		p.URL = "http://localhost:" + strconv.Itoa(port)
		if !p.Shell {
			if argv, server := injectFlags(p.Argv, opts.Dir, port); server != "" {
				p.Argv, p.Server, p.Source = argv, server, URLPortFlag
			}
		}
	}
	if p.Port != 0 && !hasEnv(opts.Env, "PORT") {
		// Before the user's pairs, so a PORT of theirs still wins.
		p.Env = append([]string{"BROWSER=none", "PORT=" + strconv.Itoa(p.Port)}, p.Env[1:]...)
	}
	return p, nil
}

// envPort returns the port a PORT pair of env sets, zero when none does.
func envPort(env []string) (int, error) {
	port := 0
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PORT="); ok {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 || n > 65535 {
				return 0, fmt.Errorf("run command: env PORT=%q is not a port number", v)
			}
			port = n
		}
	}
	return port, nil
}

func hasEnv(env []string, name string) bool {
	for _, kv := range env {
		if strings.HasPrefix(kv, name+"=") {
			return true
		}
	}
	return false
}

// Name returns the command's name, as its lines carry it.
func (c *Command) Name() string { return c.name }

// Plan returns what runs and where it is expected to listen.
func (c *Command) Plan() Plan { return c.plan }

// Status returns the command's state now.
func (c *Command) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := Status{State: c.state, URL: c.url, Source: c.source, Announced: c.announced}
	if c.run != nil && c.state != Exited && c.run.cmd.Process != nil {
		s.PID = c.run.cmd.Process.Pid
	}
	if c.state == Exited && c.exit != nil {
		e := *c.exit
		s.Exit = &e
	}
	return s
}

// Lines returns the last Options.History lines of output, oldest first,
// across restarts.
func (c *Command) Lines() []Line {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.linesLocked()
}

func (c *Command) linesLocked() []Line {
	if !c.full {
		return append([]Line(nil), c.history[:c.next]...)
	}
	return append(append([]Line(nil), c.history[c.next:]...), c.history[:c.next]...)
}

// setStateLocked changes the state and wakes WaitReady and Wait.
func (c *Command) setStateLocked(s State) {
	c.state = s
	close(c.changed)
	c.changed = make(chan struct{})
}

// Start starts the command. It fails when the command is running, or when
// the program cannot be started; a program that starts and then fails is
// reported through Exited.
func (c *Command) Start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.run != nil {
		select {
		case <-c.run.done:
		default:
			return fmt.Errorf("start %s: already running", c.name)
		}
	}
	cmd := exec.Command(c.plan.Argv[0], c.plan.Argv[1:]...)
	cmd.Dir = c.opts.Dir
	cmd.Env = append(os.Environ(), c.plan.Env...)
	cmd.SysProcAttr = procAttr()

	// Pipes of our own rather than StdoutPipe: Wait on the first process
	// must not wait for the readers, since a grandchild may hold the pipes
	// open after the first process exits.
	outR, outW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("start %s: %w", c.name, err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		closeAll(outR, outW)
		return fmt.Errorf("start %s: %w", c.name, err)
	}
	// Standard input is a pipe devproxy holds open and never writes:
	// tools such as esbuild's watch mode exit when their input ends.
	inR, inW, err := os.Pipe()
	if err != nil {
		closeAll(outR, outW, errR, errW)
		return fmt.Errorf("start %s: %w", c.name, err)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, errW
	err = cmd.Start()
	closeAll(inR, outW, errW)
	if err != nil {
		closeAll(outR, errR, inW)
		return fmt.Errorf("start %s: %w", c.name, err)
	}
	pid := cmd.Process.Pid
	watcher, watchPipe, err := startWatcher(pid)
	if err != nil {
		// The command runs unguarded against devproxy's death; that is
		// not a reason to refuse to run it.
		watcher, watchPipe = nil, nil
	}

	r := &run{cmd: cmd, stop: make(chan struct{}), done: make(chan struct{})}
	c.run, c.exit, c.runLines = r, nil, 0
	c.setStateLocked(Starting)

	var readers sync.WaitGroup
	for _, p := range []struct {
		f      *os.File
		stream Stream
	}{{outR, Stdout}, {errR, Stderr}} {
		readers.Add(1)
		go func() {
			defer readers.Done()
			c.read(p.f, p.stream)
		}()
	}
	go c.supervise(r, &readers, []*os.File{outR, errR}, inW, watcher, watchPipe)
	go c.poll(r)
	return nil
}

func closeAll(files ...*os.File) {
	for _, f := range files {
		f.Close()
	}
}

// read delivers the lines of one of the command's pipes until it ends.
func (c *Command) read(f *os.File, stream Stream) {
	s := newLineSplitter(c.opts.FlushDelay, c.opts.MaxLine, func(text string, partial bool) {
		c.deliver(Line{Name: c.name, Stream: stream, Text: text, Partial: partial})
	})
	buf := make([]byte, 32<<10)
	for {
		n, err := f.Read(buf)
		if n > 0 {
			s.write(buf[:n])
		}
		if err != nil {
			break
		}
	}
	s.close()
}

// deliver records a line, looks in it for an announced URL and hands it to
// Output.
func (c *Command) deliver(l Line) {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	c.mu.Lock()
	c.history[c.next] = l
	c.next = (c.next + 1) % len(c.history)
	if c.next == 0 {
		c.full = true
	}
	c.runLines++
	if u, ok := DiscoverURL(l.Text); ok {
		c.announced = u
		switch {
		case c.plan.Source == URLGiven:
		case sameServer(u, c.plan.URL):
			c.url, c.source = c.plan.URL, c.plan.Source
		default:
			c.url, c.source = u, URLAnnounced
		}
	}
	c.mu.Unlock()
	if c.opts.Output != nil {
		c.opts.Output(l)
	}
}

// stopSignal is a step of the stop sequence.
type stopSignal int

const (
	sigInterrupt stopSignal = iota
	sigTerminate
	sigKill
)

// supervise waits for the first process to exit or for Stop, stops what is
// left of the group, and reports the exit once.
func (c *Command) supervise(r *run, readers *sync.WaitGroup, pipes []*os.File, stdin *os.File, watcher *exec.Cmd, watchPipe *os.File) {
	pid := r.cmd.Process.Pid
	waited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = r.cmd.Wait()
		close(waited)
	}()

	stopped := false
	select {
	case <-waited:
		// The first process exited by itself; what it started must not
		// keep the port or the pipes, so the group gets SIGTERM, then
		// SIGKILL.
		c.escalate(pid, waited, sigTerminate)
	case <-r.stop:
		stopped = true
		c.escalate(pid, waited, sigInterrupt)
	}
	<-waited

	if watcher != nil {
		// Dismiss the watcher before closing its pipe: the group is gone
		// and its number may be reused.
		_ = watcher.Process.Kill()
		_ = watcher.Wait()
		watchPipe.Close()
	}
	stdin.Close()
	// Every process of the group is gone, so the pipes end unless a
	// process that left the group holds them; do not wait for that.
	readersDone := make(chan struct{})
	go func() {
		readers.Wait()
		close(readersDone)
	}()
	select {
	case <-readersDone:
	case <-time.After(time.Second):
		closeAll(pipes...)
		<-readersDone
	}
	closeAll(pipes...)

	exit := Exit{Name: c.name, Code: -1, Stopped: stopped}
	var ee *exec.ExitError
	switch {
	case waitErr == nil:
		exit.Code = 0
	case errors.As(waitErr, &ee):
		exit.Code = ee.ExitCode()
		if exit.Code < 0 {
			exit.Signal = signalName(ee)
		}
	}
	c.mu.Lock()
	exit.Lines = c.linesLocked()
	if n := len(exit.Lines); c.runLines < n {
		exit.Lines = exit.Lines[n-c.runLines:]
	}
	c.exit = &exit
	c.setStateLocked(Exited)
	c.mu.Unlock()
	// The run is over before Exited is called, so that Exited may start
	// the command again; Output calls are over too (the readers are done),
	// so Exited comes after the run's last line.
	close(r.done)
	if c.opts.Exited != nil {
		c.opts.Exited(exit)
	}
}

// escalate sends the stop sequence from first on to the group led by pid
// until no process of it is left: each step waits StopGrace for the group
// to end. waited is closed once the first process is reaped.
func (c *Command) escalate(pid int, waited <-chan struct{}, first stopSignal) {
	gone := func() bool {
		select {
		case <-waited:
			return groupGone(pid)
		default:
			return false
		}
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for sig := first; sig <= sigKill; sig++ {
		if gone() {
			return
		}
		_ = signalGroup(pid, sig)
		deadline := time.After(c.opts.StopGrace)
		if sig == sigKill {
			// SIGKILL cannot be ignored; the wait only covers a process
			// stuck in the kernel.
			deadline = time.After(10 * time.Second)
		}
	wait:
		for !gone() {
			select {
			case <-tick.C:
			case <-waited:
			case <-deadline:
				break wait
			}
		}
	}
}

// poll waits for the command's URL to answer an HTTP request, any status,
// and marks it Ready; it gives up when the run ends.
func (c *Command) poll(r *run) {
	client := &http.Client{
		Timeout: 2 * time.Second,
		Transport: &http.Transport{
			DisableKeepAlives: true,
			// A dev server's own certificate is rarely trusted; any
			// answer means it is up.
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	defer client.CloseIdleConnections()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-r.done:
		case <-r.stop:
		}
		cancel()
	}()
	delay := 25 * time.Millisecond
	for {
		c.mu.Lock()
		u := c.url
		c.mu.Unlock()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return
		}
		if resp, err := client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			c.mu.Lock()
			if c.run == r && c.state == Starting {
				c.setStateLocked(Ready)
			}
			c.mu.Unlock()
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(delay*2, 250*time.Millisecond)
	}
}

// WaitReady waits until the command's URL answers. It fails when the
// command exits first, is not started, or ctx ends.
func (c *Command) WaitReady(ctx context.Context) error {
	for {
		c.mu.Lock()
		state, changed, exit := c.state, c.changed, c.exit
		c.mu.Unlock()
		switch state {
		case Ready:
			return nil
		case Exited:
			return fmt.Errorf("%s %s before it answered", c.name, exit)
		case Idle:
			return fmt.Errorf("%s is not started", c.name)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("wait for %s to answer: %w", c.name, ctx.Err())
		}
	}
}

// Wait waits until the current run has exited and returns how; ok is
// false when ctx ended first or the command never started.
func (c *Command) Wait(ctx context.Context) (exit Exit, ok bool) {
	c.mu.Lock()
	r := c.run
	c.mu.Unlock()
	if r == nil {
		return Exit{}, false
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		return Exit{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return *c.exit, true
}

// Stop stops the command and every process of its group: SIGINT, SIGTERM
// after StopGrace, SIGKILL after StopGrace more. It returns once no
// process of the group is left, or with an error when ctx ends first (the
// stop goes on). Stopping a command that is not running does nothing.
func (c *Command) Stop(ctx context.Context) error {
	c.mu.Lock()
	r := c.run
	c.mu.Unlock()
	if r == nil {
		return nil
	}
	r.stopOnce.Do(func() { close(r.stop) })
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop %s: %w", c.name, ctx.Err())
	}
}

// Restart stops the command, as Stop does, and starts it again on the
// same port.
func (c *Command) Restart(ctx context.Context) error {
	if err := c.Stop(ctx); err != nil {
		return err
	}
	return c.Start()
}
