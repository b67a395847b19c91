package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// nginx is a running nginx (-nginx): a master process, started by bench,
// and the workers it forks.
type nginx struct {
	name    string // "nginx 1.22.1", from nginx -v
	url     string // http://127.0.0.1:PORT
	dir     string // its prefix: config, error log, temp files
	errLog  string
	ticks   int64
	cmd     *exec.Cmd
	exited  chan struct{}
	stopped bool
}

// nginxConf is nginx configured as the page-load harness configures it
// (../shared/pageload/proxies/nginx.sh), the way people front a dev server:
// / to the dev server and /api/ to the backend over kept upstream
// connections, HTTP/1.1 upstream with Host passed through (Vite checks
// it), the WebSocket upgrade map that keeps plain requests' upstream
// connections alive, no access log, everything else nginx's default. The
// temp paths are the one addition: the packaged nginx's defaults are
// shared folders under /var/lib/nginx.
func nginxConf(dir, listen, page, backend string) string {
	return fmt.Sprintf(`worker_processes auto;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    map $http_upgrade $connection_upgrade {
        default upgrade;
        ''      '';
    }
    upstream page    { server %[3]s; keepalive 32; }
    upstream backend { server %[4]s; keepalive 16; }
    proxy_http_version 1.1;
    proxy_set_header Host $http_host;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection $connection_upgrade;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto $scheme;
    proxy_read_timeout 1h;
    client_max_body_size 0;
    server {
        listen %[2]s;
        location /api/ { proxy_pass http://backend; }
        location /     { proxy_pass http://page; }
    }
}
`, dir, listen, strings.TrimPrefix(page, "http://"), strings.TrimPrefix(backend, "http://"))
}

// nginxVersion returns "nginx 1.22.1" for the nginx at path, from what
// nginx -v prints on its stderr.
func nginxVersion(ctx context.Context, path string) (string, error) {
	out, err := exec.CommandContext(ctx, path, "-v").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s -v: %v: %s", path, err, strings.TrimSpace(string(out)))
	}
	s := strings.TrimSpace(string(out))
	_, v, ok := strings.Cut(s, "nginx/")
	if !ok {
		return "", fmt.Errorf("%s -v: got %q, want nginx version: nginx/X.Y.Z", path, s)
	}
	return "nginx " + strings.Fields(v)[0], nil
}

// startNginx runs the nginx at path in front of page (the dev server) and
// backend (/api/) on a free loopback port, with its config, error log and
// temp files in a folder of its own. cpu >= 0 pins it, workers included,
// to that CPU with taskset. It returns once nginx answers through to the
// backend; on failure nothing is left running.
func startNginx(ctx context.Context, path, page, backend string, cpu int) (*nginx, error) {
	name, err := nginxVersion(ctx, path)
	if err != nil {
		return nil, err
	}
	// Not under bench's temp folder, which only its owner may enter:
	// nginx's workers drop to an unprivileged user when bench runs as
	// root, and they write large responses to the temp paths in here.
	dir, err := os.MkdirTemp("", "devproxy-bench-nginx-")
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	listen := "127.0.0.1:" + port
	ng := &nginx{name: name, url: "http://" + listen, dir: dir, errLog: filepath.Join(dir, "error.log"), ticks: clockTicks(), exited: make(chan struct{})}
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(nginxConf(dir, listen, page, backend)), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	out, err := os.Create(filepath.Join(dir, "nginx.out"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	defer out.Close()
	argv := []string{path, "-p", dir, "-c", conf, "-e", ng.errLog, "-g", "daemon off;"}
	if cpu >= 0 {
		argv = append([]string{"taskset", "-c", strconv.Itoa(cpu)}, argv...)
	}
	// Not CommandContext: stop ends it, by its PID, as it ends devproxy.
	ng.cmd = exec.Command(argv[0], argv[1:]...)
	ng.cmd.Stdout, ng.cmd.Stderr = out, out
	if err := startProc(ng.cmd, ng.exited); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := ng.waitReady(ctx, 20*time.Second); err != nil {
		ng.stop()
		return nil, err
	}
	return ng, nil
}

// waitReady polls until nginx answers /api/small through to the backend.
func (ng *nginx) waitReady(ctx context.Context, timeout time.Duration) error {
	return waitAnswers(ctx, ng.name, ng.url, ng.exited, timeout, "its error log", ng.logTail)
}

func (ng *nginx) logTail() string {
	var b []byte
	for _, f := range []string{"nginx.out", "error.log"} {
		s, _ := os.ReadFile(filepath.Join(ng.dir, f))
		b = append(b, s...)
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// stop sends the master SIGTERM, nginx's fast shutdown, in which it stops
// its workers and waits for them; after 10 s it kills the master and the
// workers it had, by their PIDs. Then it removes nginx's folder. stop may
// be called more than once.
func (ng *nginx) stop() {
	if ng.stopped {
		return
	}
	ng.stopped = true
	defer os.RemoveAll(ng.dir)
	select {
	case <-ng.exited:
		return
	default:
	}
	workers, _ := children(ng.cmd.Process.Pid)
	_ = ng.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-ng.exited:
	case <-time.After(10 * time.Second):
		_ = ng.cmd.Process.Kill()
		<-ng.exited
		for _, pid := range workers {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// cpuTime returns the user plus system CPU time of the master and of the
// workers running now. The workers live as long as the master (nginx
// starts them once, and restarts one only if it dies).
func (ng *nginx) cpuTime() (time.Duration, error) {
	master := ng.cmd.Process.Pid
	total, err := procCPU(master, ng.ticks)
	if err != nil {
		return 0, err
	}
	workers, err := children(master)
	if err != nil {
		return 0, err
	}
	if len(workers) == 0 {
		return 0, fmt.Errorf("%s (pid %d) has no worker processes", ng.name, master)
	}
	for _, pid := range workers {
		c, err := procCPU(pid, ng.ticks)
		if err != nil {
			return 0, fmt.Errorf("%s worker %d: %v", ng.name, pid, err)
		}
		total += c
	}
	return total, nil
}

// children returns the PIDs of the processes whose parent is pid, from
// the parent field of every /proc/PID/stat.
func children(pid int) ([]int, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var out []int
	for _, e := range ents {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, err := procParent(child); err == nil && ppid == pid {
			out = append(out, child)
		}
	}
	return out, nil
}

// procParent returns field 4 of /proc/PID/stat, the parent's PID.
func procParent(pid int) (int, error) {
	f, err := procStat(pid)
	if err != nil {
		return 0, err
	}
	if len(f) < 2 {
		return 0, errors.New("cannot parse /proc/PID/stat")
	}
	return strconv.Atoi(f[1])
}
