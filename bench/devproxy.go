package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// profileSource is added to devproxy's main package by go build -overlay
// when a profile is asked for; the source tree is left as it is.
//
//go:embed profile.go.txt
var profileSource []byte

// profileEnv names the variable that gives the profiling build its
// control address.
const profileEnv = "DEVPROXY_BENCH_PROFILE_ADDR"

// build compiles devproxy from the module root into dir, as a user would
// with go build. With profile, the binary also serves a loopback control
// endpoint that starts and stops profiles.
func build(ctx context.Context, root, dir string, profile bool) (string, error) {
	bin := filepath.Join(dir, "devproxy")
	args := []string{"build", "-o", bin}
	if profile {
		src := filepath.Join(dir, "profile.go")
		if err := os.WriteFile(src, profileSource, 0o644); err != nil {
			return "", err
		}
		overlay, err := json.Marshal(map[string]map[string]string{
			"Replace": {filepath.Join(root, "zz_bench_profile.go"): src},
		})
		if err != nil {
			return "", err
		}
		ov := filepath.Join(dir, "overlay.json")
		if err := os.WriteFile(ov, overlay, 0o644); err != nil {
			return "", err
		}
		args = append(args, "-overlay", ov)
	}
	cmd := exec.CommandContext(ctx, "go", append(args, ".")...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
}

// moduleRoot returns the folder of the go.mod that the current directory
// belongs to.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside the devproxy module: run go run ./bench from its root")
	}
	return filepath.Dir(mod), nil
}

// instance is one running devproxy process.
type instance struct {
	name    string // how the table names it
	url     string // http://127.0.0.1:PORT
	dir     string // the config's folder
	config  string // devproxy.yaml in dir
	backend string
	// frontend is the config's frontend: the backend, or the page-load
	// dev server when a page-load scenario runs.
	frontend string
	logPath  string // "" when the log goes to /dev/null
	control  string // the profiling build's control address, or ""
	ticks    int64  // USER_HZ, the unit of /proc/PID/stat's times
	cmd      *exec.Cmd
	exited   chan struct{}
}

// baseConfig is the config every instance starts with: /api goes to the
// backend and the frontend to frontend: the backend too, as in the peers'
// harness, or the page-load scenarios' dev server, as in the page-load
// harness.
func baseConfig(listen, frontend, backend string) string {
	return fmt.Sprintf("listen: %s\nfrontend: %s\nroutes:\n  /api: %s\n", listen, frontend, backend)
}

// start runs bin with a generated config in its own folder under dir, as
// v says: the request log goes to a file there, or to /dev/null when
// v.logOff. cpu >= 0 pins the process to that CPU with taskset.
func start(ctx context.Context, bin, dir, frontend, backend string, v variant, cpu int, profile bool) (*instance, error) {
	name := v.name()
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	listen := "127.0.0.1:" + port
	in := &instance{name: name, url: "http://" + listen, dir: dir, config: filepath.Join(dir, "devproxy.yaml"), backend: backend, frontend: frontend, ticks: clockTicks(), exited: make(chan struct{})}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(in.config, []byte(baseConfig(listen, frontend, backend)), 0o644); err != nil {
		return nil, err
	}
	var out *os.File
	if v.logOff {
		out, err = os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	} else {
		in.logPath = filepath.Join(dir, "devproxy.log")
		out, err = os.Create(in.logPath)
	}
	if err != nil {
		return nil, err
	}
	defer out.Close()

	argv := []string{bin, "-config", in.config, "-listen", listen}
	if v.inspectOff {
		argv = append(argv, "-inspect=false")
	}
	if cpu >= 0 {
		argv = append([]string{"taskset", "-c", strconv.Itoa(cpu)}, argv...)
	}
	// Not CommandContext: the process is stopped by stop, gracefully.
	in.cmd = exec.Command(argv[0], argv[1:]...)
	in.cmd.Stdout, in.cmd.Stderr = out, out
	in.cmd.Env = append(os.Environ(), v.env...)
	if profile {
		cport, err := freePort()
		if err != nil {
			return nil, err
		}
		in.control = "127.0.0.1:" + cport
		in.cmd.Env = append(in.cmd.Env, profileEnv+"="+in.control)
	}
	if err := startProc(in.cmd, in.exited); err != nil {
		return nil, err
	}
	if err := in.waitReady(ctx, 20*time.Second); err != nil {
		in.stop()
		return nil, err
	}
	return in, nil
}

// waitReady polls until devproxy answers /api/small through to the backend.
func (in *instance) waitReady(ctx context.Context, timeout time.Duration) error {
	return waitAnswers(ctx, in.name, in.url, in.exited, timeout, "its output", in.logTail)
}

// startProc starts cmd in a process group of its own, killed with bench
// should bench die first, and closes exited when it has exited.
func startProc(cmd *exec.Cmd, exited chan struct{}) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	return nil
}

// waitAnswers polls url/api/small until it answers 200 through the proxy
// named name to the backend, the proxy's process exits (exited closes) or
// timeout passes; the errors quote what logTail returns, as what.
func waitAnswers(ctx context.Context, name, url string, exited <-chan struct{}, timeout time.Duration, what string, logTail func() string) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{Proxy: nil}}
	defer client.CloseIdleConnections()
	for {
		res, err := client.Get(url + "/api/small")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
			err = errors.New(res.Status)
		}
		select {
		case <-exited:
			return fmt.Errorf("%s exited before it answered; %s:\n%s", name, what, logTail())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer GET /api/small within %s (last error: %v); %s:\n%s", name, timeout, err, what, logTail())
		}
	}
}

func (in *instance) logTail() string {
	if in.logPath == "" {
		return "(log sent to /dev/null)"
	}
	b, _ := os.ReadFile(in.logPath)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// stop sends SIGTERM, devproxy's graceful stop, and SIGKILL after 10 s.
func (in *instance) stop() {
	select {
	case <-in.exited:
		return
	default:
	}
	_ = in.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-in.exited:
	case <-time.After(10 * time.Second):
		_ = in.cmd.Process.Kill()
		<-in.exited
	}
}

func (in *instance) pid() int { return in.cmd.Process.Pid }

// cpuTime returns the user plus system CPU time devproxy has used.
func (in *instance) cpuTime() (time.Duration, error) {
	return procCPU(in.pid(), in.ticks)
}

// procCPU returns the user plus system CPU time of process pid, from
// /proc/PID/stat (utime and stime, in clock ticks of ticks per second).
func procCPU(pid int, ticks int64) (time.Duration, error) {
	f, err := procStat(pid)
	if err != nil {
		return 0, err
	}
	if len(f) < 13 {
		return 0, errors.New("cannot parse /proc/PID/stat")
	}
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(ut+st) * time.Second / time.Duration(ticks), nil
}

// procStat returns the fields of /proc/PID/stat from field 3 (state) on.
func procStat(pid int) ([]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, err
	}
	// The command name, field 2, may hold spaces: count from its ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil, errors.New("cannot parse /proc/PID/stat")
	}
	return strings.Fields(string(b[i+1:])), nil
}

// resetPeak makes VmHWM start again from the current RSS (Linux 4.0+), so
// that the peak read after a scenario is that scenario's own.
func (in *instance) resetPeak() error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", in.pid()), []byte("5"), 0)
}

// peakRSS returns VmHWM from /proc/PID/status, in bytes.
func (in *instance) peakRSS() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", in.pid()))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New("no VmHWM in /proc/PID/status")
}

// profile asks the profiling build to start or stop a profile: what is
// "cpu/start", "cpu/stop" or "allocs", file where it is written.
func (in *instance) profile(what, file string) error {
	if in.control == "" {
		return nil
	}
	res, err := http.PostForm("http://"+in.control+"/"+what, url.Values{"file": {file}})
	if err != nil {
		return fmt.Errorf("profile %s: %v", what, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		var msg bytes.Buffer
		_, _ = msg.ReadFrom(res.Body)
		return fmt.Errorf("profile %s: %s", what, strings.TrimSpace(msg.String()))
	}
	return nil
}

// clockTicks returns USER_HZ, the unit of /proc/PID/stat's times: 100 on
// every Linux build that matters, asked of getconf when it is there.
func clockTicks() int64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err != nil {
		return 100
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if err != nil || n <= 0 {
		return 100
	}
	return n
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, port, err := net.SplitHostPort(ln.Addr().String())
	return port, err
}
