// Command bench measures what devproxy costs: it starts a backend and
// devproxy on 127.0.0.1, drives load with its own keep-alive HTTP client and
// prints, for every scenario, the backend hit directly next to the same
// load through devproxy.
//
//	go run ./bench                        every scenario, 5 s each
//	go run ./bench -pin                   devproxy on CPU 1; load and backend on CPU 0
//	go run ./bench -duration 2s -only small,small1
//	go run ./bench -log compare           add devproxy with its log sent to /dev/null
//	go run ./bench -inspect compare       add devproxy with the inspector's capture off
//	go run ./bench -only pageload -rounds 5 -against ../before   A/B against another checkout
//	go run ./bench -only pageload -think 1ms -against . -against-env GOMAXPROCS=2   the same build, governor off
//	go run ./bench -only pageload -nginx -think 1ms   nginx beside devproxy, paced as a browser
//	go run ./bench -pin -only small -cpuprofile cpu.prof -memprofile mem.prof
//	go tool pprof -top cpu.prof
//
// devproxy is built from the module root with go build and runs as a
// process of its own, with a generated config and its request log written
// to a file as users run it, so that its CPU time per request (utime+stime
// from /proc/PID/stat over the measured window) and its peak RSS (VmHWM
// from /proc/PID/status, reset before each scenario) are its own.
//
// Scenarios (-only): small (GET 1 KiB, -conns connections), small1 (the
// same on 1 connection), download and upload (1 MiB, -bigconns
// connections), ws (WebSocket message round trips, -conns sockets), sse
// (time to the first event for a client that accepts gzip), reload (the
// time from saving a config that adds a route to that route answering,
// over 20 saves) and pageload: pagecold and pagewarm, the 308 requests of
// a Vite app's page load replayed with Chromium's headers over 6
// connections in the module graph's waves, cache disabled and F5 with the
// cache primed (pageload.go). Their dev server runs as a process of its
// own, and a second table gives CPU per load of devproxy and of the dev
// server, and the connections opened per load. -nginx adds nginx, as the
// page-load harness configures it, to the page-load scenarios, its CPU per
// load being that of its master and workers; -think makes each page-load
// connection wait after every response before its next request, as a
// browser parses and runs a module before it asks for more.
//
// Profiles are devproxy's, from the start of the first scenario to the end
// of the last (it idles while the backend is hit directly). With a profile
// flag devproxy is built with one extra file, added by go build -overlay,
// through which bench starts and stops them. -memprofile writes the allocs
// profile: everything allocated since devproxy started (go tool pprof
// -sample_index=alloc_space).
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// pinnedEnv marks the process that -pin re-executed under taskset; its
// value is the machine's CPU count, which the pinned process cannot see.
const pinnedEnv = "DEVPROXY_BENCH_PINNED"

// loadCPU and proxyCPU are the CPUs -pin uses.
const (
	loadCPU  = 0
	proxyCPU = 1
)

func main() {
	if os.Getenv(pageBackendEnv) != "" {
		os.Exit(servePageBackend())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// bench is one run's settings and the backend every target leads to.
type bench struct {
	duration, warmup time.Duration
	rounds           int
	conns, bigConns  int
	backend          *backend
	// against is the module folder of a second devproxy measured beside
	// this one (-against); "" for none. againstEnv is added to its
	// environment (-against-env).
	against    string
	againstEnv []string
	// page is the page-load scenarios' dev server; nil when none runs.
	page *pageBackend
	// nginx is the path of the nginx measured in the page-load scenarios
	// (-nginx); "" for none.
	nginx string
	// think is the page-load connections' wait after each response.
	think time.Duration
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("bench", flag.ContinueOnError)
	fset.SetOutput(stderr)
	duration := fset.Duration("duration", 5*time.Second, "measured `time` per scenario and target")
	warmup := fset.Duration("warmup", 500*time.Millisecond, "unmeasured `time` before each measurement")
	rounds := fset.Int("rounds", 1, "measurements per scenario and target, interleaved; the table shows the median")
	conns := fset.Int("conns", 50, "connections for small and ws")
	bigConns := fset.Int("bigconns", 8, "connections for download and upload")
	only := fset.String("only", "", "comma-separated `scenarios` to run: small,small1,download,upload,ws,sse,reload,pageload (pagecold,pagewarm) (default all)")
	logMode := fset.String("log", "file", "devproxy's request log: file, off (/dev/null) or compare (both, side by side)")
	inspectMode := fset.String("inspect", "on", "the inspector's capture: on, off (-inspect=false) or compare (both, side by side)")
	against := fset.String("against", "", "also measure the devproxy of the module in `dir` (say a git worktree of the commit before a change), interleaved with this one")
	againstEnv := fset.String("against-env", "", "`VAR=value ...` added to the environment of the -against devproxy (say GOMAXPROCS=2 to compare the same build without its scheduler governor)")
	withNginx := fset.Bool("nginx", false, "also measure nginx, as the page-load harness configures it, in the page-load scenarios (needs nginx on PATH)")
	think := fset.Duration("think", 0, "in the page-load scenarios, how long a connection waits after each response before its next request, as a browser parsing modules (0: back to back)")
	pin := fset.Bool("pin", false, "pin devproxy to CPU 1 and the load generator and backend to CPU 0 (taskset)")
	cpuProfile := fset.String("cpuprofile", "", "write a CPU profile of devproxy to `file`")
	memProfile := fset.String("memprofile", "", "write devproxy's allocs profile to `file`")
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "bench: error: "+format+"\n", a...)
		return 2
	}
	if fset.NArg() > 0 {
		return usage("unexpected argument %q", fset.Arg(0))
	}
	if *duration <= 0 || *warmup < 0 || *rounds < 1 || *conns < 1 || *bigConns < 1 {
		return usage("-duration, -rounds, -conns and -bigconns must be positive, -warmup not negative")
	}
	if *think < 0 {
		return usage("-think %s: must not be negative (0 sends a page load's requests back to back)", *think)
	}
	if *logMode != "file" && *logMode != "off" && *logMode != "compare" {
		return usage("-log %q: want file, off or compare", *logMode)
	}
	if *inspectMode != "on" && *inspectMode != "off" && *inspectMode != "compare" {
		return usage("-inspect %q: want on, off or compare", *inspectMode)
	}
	selected, err := selectScenarios(*only)
	if err != nil {
		return usage("%v", err)
	}

	if *pin && os.Getenv(pinnedEnv) == "" {
		// GOMAXPROCS follows the CPU affinity the process starts with:
		// start again under taskset rather than pin a running process.
		if err := repin(); err != nil {
			fmt.Fprintf(stderr, "bench: error: -pin: %v\n", err)
			return 1
		}
	}
	proxyPin := -1
	if *pin {
		proxyPin = proxyCPU
	}

	b := &bench{duration: *duration, warmup: *warmup, rounds: *rounds, conns: *conns, bigConns: *bigConns, against: absPath(*against), againstEnv: strings.Fields(*againstEnv), think: *think}
	if *withNginx {
		paged := slices.ContainsFunc(selected, func(s scenario) bool { return s.group == "pageload" })
		path, err := exec.LookPath("nginx")
		switch {
		case !paged:
			fmt.Fprintln(stderr, "bench: -nginx: nginx is measured in the page-load scenarios only, and none runs (-only pageload)")
		case err != nil:
			fmt.Fprintln(stderr, "bench: -nginx: nginx is not on PATH: measuring without it (Debian: apt-get install nginx)")
		default:
			b.nginx = path
		}
	}
	if err := b.run(ctx, stdout, stderr, selected, variants(*logMode, *inspectMode), proxyPin, absPath(*cpuProfile), absPath(*memProfile)); err != nil {
		fmt.Fprintf(stderr, "bench: error: %v\n", err)
		return 1
	}
	return 0
}

func selectScenarios(only string) ([]scenario, error) {
	all := scenarios()
	if only == "" {
		return all, nil
	}
	var names []string
	for _, s := range all {
		names = append(names, s.name)
	}
	var out []scenario
	for _, name := range strings.Split(only, ",") {
		name = strings.TrimSpace(name)
		n := len(out)
		for _, s := range all {
			if (s.name == name || s.group == name) && !slices.ContainsFunc(out, func(o scenario) bool { return o.name == s.name }) {
				out = append(out, s)
			}
		}
		if len(out) == n && !slices.ContainsFunc(out, func(o scenario) bool { return o.name == name || o.group == name }) {
			return nil, fmt.Errorf("-only: no scenario %q (scenarios: %s, pageload)", name, strings.Join(names, ", "))
		}
	}
	return out, nil
}

// repin replaces this process with itself under taskset -c loadCPU.
func repin() error {
	if runtime.NumCPU() < 2 {
		return fmt.Errorf("needs 2 CPUs, this machine has %d", runtime.NumCPU())
	}
	taskset, err := exec.LookPath("taskset")
	if err != nil {
		return errors.New("taskset is not installed (util-linux)")
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	argv := append([]string{"taskset", "-c", strconv.Itoa(loadCPU), exe}, os.Args[1:]...)
	return syscall.Exec(taskset, argv, append(os.Environ(), pinnedEnv+"="+strconv.Itoa(runtime.NumCPU())))
}

func absPath(p string) string {
	if p == "" {
		return ""
	}
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// variant is how one devproxy instance runs.
type variant struct {
	logOff     bool     // its request log goes to /dev/null, not a file
	inspectOff bool     // -inspect=false
	label      string   // the name in the tables; "" for "devproxy"
	env        []string // added to its environment (-against-env)
}

func (v variant) name() string {
	name := "devproxy"
	if v.label != "" {
		name = v.label
	}
	if v.logOff {
		name += ", log off"
	}
	if len(v.env) > 0 {
		name += " " + strings.Join(v.env, " ")
	}
	if v.inspectOff {
		name += ", inspect off"
	}
	return name
}

// variants are the instances the -log and -inspect modes ask for.
func variants(logMode, inspectMode string) []variant {
	var out []variant
	for _, logOff := range map[string][]bool{"file": {false}, "off": {true}, "compare": {false, true}}[logMode] {
		for _, inspectOff := range map[string][]bool{"on": {false}, "off": {true}, "compare": {false, true}}[inspectMode] {
			out = append(out, variant{logOff: logOff, inspectOff: inspectOff})
		}
	}
	return out
}

func (b *bench) run(ctx context.Context, stdout, stderr io.Writer, selected []scenario, vs []variant, proxyPin int, cpuProfile, memProfile string) error {
	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "devproxy-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	profiling := cpuProfile != "" || memProfile != ""
	fmt.Fprintf(stderr, "building devproxy from %s\n", root)
	bin, err := build(ctx, root, tmp, profiling)
	if err != nil {
		return err
	}
	version, _ := exec.CommandContext(ctx, bin, "-version").Output()

	b.backend, err = startBackend()
	if err != nil {
		return err
	}
	defer b.backend.close()
	frontend := b.backend.url
	if slices.ContainsFunc(selected, func(s scenario) bool { return s.group == "pageload" }) {
		if b.page, err = startPageBackend(ctx); err != nil {
			return err
		}
		defer b.page.stop()
		frontend = b.page.url
	}

	var instances []*instance
	defer func() {
		for _, in := range instances {
			in.stop()
		}
	}()
	for i, v := range vs {
		in, err := start(ctx, bin, filepath.Join(tmp, "devproxy"+strconv.Itoa(i)), frontend, b.backend.url, v, proxyPin, profiling && i == 0)
		if err != nil {
			return err
		}
		instances = append(instances, in)
	}
	if b.against != "" {
		// Built into a folder of its own: build names the binary devproxy.
		dir := filepath.Join(tmp, "against")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "building devproxy from %s\n", b.against)
		abin, err := build(ctx, b.against, dir, false)
		if err != nil {
			return fmt.Errorf("-against %s: %v", b.against, err)
		}
		av := vs[0]
		av.label = "devproxy " + filepath.Base(b.against)
		av.env = b.againstEnv
		in, err := start(ctx, abin, filepath.Join(tmp, "devproxy-against"), frontend, b.backend.url, av, proxyPin, false)
		if err != nil {
			return err
		}
		instances = append(instances, in)
	}
	var ng *nginx
	if b.nginx != "" {
		fmt.Fprintf(stderr, "starting %s\n", b.nginx)
		if ng, err = startNginx(ctx, b.nginx, b.page.url, b.backend.url, proxyPin); err != nil {
			return fmt.Errorf("-nginx: %v", err)
		}
		defer ng.stop()
	}
	profiled := instances[0]

	if cpuProfile != "" {
		if err := profiled.profile("cpu/start", cpuProfile); err != nil {
			return err
		}
	}
	var rows []row
	var peakWarned bool
	for _, sc := range selected {
		targets := []target{{name: "direct", url: b.backend.url}}
		if sc.proxyOnly {
			targets = nil
		}
		for _, in := range instances {
			if sc.proxyOnly && in != instances[0] {
				continue // one devproxy tells how long a reload takes
			}
			targets = append(targets, target{name: in.name, url: in.url, in: in})
		}
		if ng != nil && sc.group == "pageload" {
			targets = append(targets, target{name: ng.name, url: ng.url, ng: ng})
		}
		// Rounds interleave the targets, each round starting with the
		// next one, so that a slow spell of a shared machine does not
		// land on one target only.
		runs := make([][]row, len(targets))
		for round := range b.rounds {
			for k := range targets {
				i := (k + round) % len(targets)
				r := b.measure(ctx, sc, targets[i], &peakWarned, stderr)
				runs[i] = append(runs[i], r)
				fmt.Fprintf(stderr, "%-8s %-18s %s\n", sc.name, targets[i].name, r.summary())
				if ctx.Err() != nil {
					return ctx.Err()
				}
			}
		}
		var direct *row
		for i, t := range targets {
			r := median(runs[i])
			if !t.proxied() {
				direct = &r
			} else {
				r.direct = direct
			}
			rows = append(rows, r)
		}
	}
	if cpuProfile != "" {
		if err := profiled.profile("cpu/stop", ""); err != nil {
			return err
		}
	}
	if memProfile != "" {
		if err := profiled.profile("allocs", memProfile); err != nil {
			return err
		}
	}

	pinDesc := "not pinned (-pin to pin)"
	if proxyPin >= 0 {
		pinDesc = fmt.Sprintf("devproxy pinned to CPU %d, load generator and backend to CPU %d", proxyCPU, loadCPU)
	}
	cpus := runtime.NumCPU()
	if n, err := strconv.Atoi(os.Getenv(pinnedEnv)); err == nil {
		cpus = n
	}
	fmt.Fprintf(stdout, "%s (%s), %s %s/%s, %d CPUs, %s\n", strings.TrimSpace(string(version)), root, runtime.Version(), runtime.GOOS, runtime.GOARCH, cpus, time.Now().Format("2006-01-02 15:04"))
	fmt.Fprintf(stdout, "%s; per target: %s warm-up, %s measured, %s; devproxy's request log: %s; the inspector: %s%s\n\n", pinDesc, b.warmup, b.duration, roundsDesc(b.rounds), logDesc(vs), inspectDesc(vs), b.pageDesc(selected))
	writeTable(stdout, rows)
	writePageTable(stdout, rows)
	var peak int64 = -1
	for _, r := range rows {
		peak = max(peak, r.rss)
	}
	if peak >= 0 {
		fmt.Fprintf(stdout, "devproxy's peak RSS over the whole run: %.1f MiB\n", float64(peak)/mib)
	}
	if cpuProfile != "" {
		fmt.Fprintf(stdout, "\nCPU profile of devproxy: %s (go tool pprof -top %s)\n", cpuProfile, cpuProfile)
	}
	if memProfile != "" {
		fmt.Fprintf(stdout, "allocs profile of devproxy: %s (go tool pprof -sample_index=alloc_space -top %s)\n", memProfile, memProfile)
	}
	return nil
}

// pageDesc is what the header line says of the page-load scenarios: the
// think time, and nginx when it runs; "" when none of them runs.
func (b *bench) pageDesc(selected []scenario) string {
	if !slices.ContainsFunc(selected, func(s scenario) bool { return s.group == "pageload" }) {
		return ""
	}
	s := "; page loads: no think time, each connection's requests back to back (-think)"
	if b.think > 0 {
		s = fmt.Sprintf("; page loads: %s think time after each response, per connection", b.think)
	}
	if b.nginx != "" {
		s += ", nginx beside devproxy"
	}
	return s
}

func roundsDesc(n int) string {
	if n == 1 {
		return "1 round"
	}
	return fmt.Sprintf("median of %d interleaved rounds", n)
}

// median returns the run with the median rate, or for scenarios without
// a rate the median p50, and records the spread of the runs in it.
func median(runs []row) row {
	key := func(r *row) float64 {
		if r.scenario.unit == "" {
			return float64(r.w.percentile(0.5))
		}
		return r.rate()
	}
	slices.SortFunc(runs, func(a, b row) int { return cmp.Compare(key(&a), key(&b)) })
	m := runs[len(runs)/2]
	if lo, hi := key(&runs[0]), key(&runs[len(runs)-1]); len(runs) > 1 && key(&m) > 0 {
		m.spread = (hi - lo) / key(&m)
	} else {
		m.spread = -1
	}
	return m
}

func logDesc(vs []variant) string {
	on, off := false, false
	for _, v := range vs {
		on, off = on || !v.logOff, off || v.logOff
	}
	switch {
	case on && off:
		return "a file, and /dev/null for \"log off\""
	case off:
		return "/dev/null"
	}
	return "a file"
}

func inspectDesc(vs []variant) string {
	on, off := false, false
	for _, v := range vs {
		on, off = on || !v.inspectOff, off || v.inspectOff
	}
	switch {
	case on && off:
		return "capturing, and -inspect=false for \"inspect off\""
	case off:
		return "-inspect=false"
	}
	return "capturing (the default)"
}

// measure runs sc against t and reads devproxy's CPU time at the edges of
// the measured window and its peak RSS after it.
func (b *bench) measure(ctx context.Context, sc scenario, t target, peakWarned *bool, stderr io.Writer) row {
	title := strings.NewReplacer("-bigconns", strconv.Itoa(b.bigConns)+" conns", "-conns", strconv.Itoa(b.conns)+" conns").Replace(sc.title)
	r := row{scenario: sc, title: title, target: t.name, proxied: t.proxied(), nginx: t.ng != nil, cpu: -1, rss: -1}
	if t.in != nil {
		if err := t.in.resetPeak(); err != nil && !*peakWarned {
			*peakWarned = true
			fmt.Fprintf(stderr, "bench: warning: cannot reset devproxy's peak RSS (%v): peak RSS is since its start\n", err)
		}
	}
	var cpu0, cpu1, page0, page1 time.Duration
	var conns0, conns1 int64
	var cpuErr, pageErr error
	paged := sc.group == "pageload" && b.page != nil
	if paged {
		r.pageCPU = -1
	}
	mark := func(start bool) {
		conns := b.backend.accepted.Load()
		var c, pc time.Duration
		if t.proxied() {
			var err error
			c, err = t.cpuTime()
			cpuErr = errors.Join(cpuErr, err)
		}
		if paged {
			n, err1 := b.page.accepted()
			conns += n
			var err2 error
			pc, err2 = b.page.cpuTime()
			pageErr = errors.Join(pageErr, err1, err2)
		}
		if start {
			cpu0, page0, conns0 = c, pc, conns
		} else {
			cpu1, page1, conns1 = c, pc, conns
		}
	}
	r.w = sc.run(b, ctx, t, mark)
	r.conns = conns1 - conns0
	if paged && pageErr == nil {
		r.pageCPU = page1 - page0
	}
	if t.proxied() && cpuErr == nil {
		r.cpu = cpu1 - cpu0
	}
	if t.in != nil {
		if rss, err := t.in.peakRSS(); err == nil {
			r.rss = rss
		}
	}
	return r
}
