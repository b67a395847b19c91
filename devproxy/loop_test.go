package devproxy

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/devproxy/devproxy/devproxy/config"
)

// TestSelfTargetRefused pins a loop: a frontend or route target that is
// devproxy itself (pasting the URL you open into the config) was accepted,
// and every request came back to devproxy until file descriptors ran out.
func TestSelfTargetRefused(t *testing.T) {
	for _, tt := range []struct {
		name, config, want string // want "" means accepted
	}{
		{"frontend localhost", "listen: 127.0.0.1:8080\nfrontend: http://localhost:8080\n",
			`devproxy.yaml:2:11: frontend: "http://localhost:8080" is devproxy itself: devproxy listens on 127.0.0.1:8080`},
		{"frontend 127.0.0.1 with path", "frontend: http://127.0.0.1:8080/app\n",
			`devproxy.yaml:1:11: frontend: "http://127.0.0.1:8080/app" is devproxy itself`},
		{"route ::1", "listen: 127.0.0.1:8080\nroutes:\n  /api: http://[::1]:8080\n",
			`devproxy.yaml:3:9: routes./api: "http://[::1]:8080" is devproxy itself`},
		{"route long form 127/8", "listen: localhost:3000\nroutes:\n  /api:\n    target: http://127.1.2.3:3000/x\n",
			`devproxy.yaml:4:13: routes./api.target: "http://127.1.2.3:3000/x" is devproxy itself`},
		{"wildcard listen", "listen: 0.0.0.0:9000\nroutes:\n  /api: http://app.localhost:9000\n",
			`routes./api: "http://app.localhost:9000" is devproxy itself: devproxy listens on 0.0.0.0:9000`},
		{"empty host listen", "listen: :9000\nfrontend: http://0.0.0.0:9000\n", `frontend: "http://0.0.0.0:9000" is devproxy itself`},
		{"ipv6 wildcard", "listen: '[::]:9000'\nfrontend: http://localhost:9000\n", `is devproxy itself`},
		{"default port", "listen: 127.0.0.1:80\nfrontend: http://localhost\n", `frontend: "http://localhost" is devproxy itself`},
		{"hint", "frontend: http://localhost:8080\n", "hint: point it at your dev server's own address, e.g. http://localhost:5173 for Vite, not at the address you open in the browser"},
		{"other port", "listen: 127.0.0.1:8080\nfrontend: http://localhost:5173\n", ""},
		{"https other port", "frontend: https://localhost:8443\n", ""},
		{"other host", "listen: 127.0.0.1:8080\nroutes:\n  /api: http://api.test:8080\n", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse("devproxy.yaml", []byte(tt.config), func(string) (string, bool) { return "", false })
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("ParseConfig: %v, want no error", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("ParseConfig: error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestSelfTargetOnReload: a save that points the frontend at the address
// devproxy actually listens on (here a port the config's listen: :0 did
// not name) is refused and the old config keeps serving.
func TestSelfTargetOnReload(t *testing.T) {
	be, _ := wireBackend(t)
	p := startProxy(t, "listen: 127.0.0.1:0\nfrontend: "+be.url+"\n", nil)
	_, port, _ := net.SplitHostPort(p.host)
	if err := os.WriteFile(p.file, []byte("listen: 127.0.0.1:0\nfrontend: http://localhost:"+port+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := p.waitReload(t)
	if err == nil || !strings.Contains(err.Error(), `frontend: "http://localhost:`+port+`" is devproxy itself: devproxy listens on `+p.host) {
		t.Fatalf("reload: %v, want the self-target refused", err)
	}
	if res, body := p.get(t, "/x"); res.StatusCode != 200 || !strings.HasPrefix(body, "GET /x ") {
		t.Errorf("GET /x after the refused save: got %d %q, want the old frontend", res.StatusCode, body)
	}
}

// TestSelfTargetNew: New refuses a config whose frontend is the -listen
// address.
func TestSelfTargetNew(t *testing.T) {
	file := filepath.Join(t.TempDir(), "devproxy.yaml")
	if err := os.WriteFile(file, []byte("frontend: http://localhost:3000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := New(Options{ConfigFile: file, Listen: "127.0.0.1:3000"})
	if err == nil || !strings.Contains(err.Error(), "devproxy.yaml:1:11: frontend: \"http://localhost:3000\" is devproxy itself: devproxy listens on 127.0.0.1:3000") {
		t.Fatalf("New: %v, want the self-target refused", err)
	}
}

// relay forwards every connection it accepts to addr, as a port forward
// or a container's published port does.
func relay(t *testing.T, addr string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", addr)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, up)
			mu.Unlock()
			wg.Add(2)
			go func() { defer wg.Done(); _, _ = io.Copy(up, c); up.Close() }()
			go func() { defer wg.Done(); _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
	return ln.Addr().String()
}

// TestLoopDetected: a target that leads back to devproxy by a way no
// config check can see (a port forward) gets one 508 with a hint, and one
// log line, where it used to loop until file descriptors ran out.
func TestLoopDetected(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "devproxy.yaml")
	if err := os.WriteFile(file, []byte("routes:\n  /api: http://127.0.0.1:1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startProxyFile(t, file)
	via := relay(t, p.host)
	if err := os.WriteFile(file, []byte("frontend: http://"+via+"\nroutes:\n  /api: http://"+via+"/api\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := p.waitReload(t); err != nil {
		t.Fatalf("reload: %v", err)
	}
	for _, path := range []string{"/page", "/api/x"} {
		res, body := p.get(t, path)
		if res.StatusCode != 508 || !strings.Contains(body, "loop detected") || !strings.Contains(body, "is devproxy itself") ||
			!strings.Contains(body, "not at the address you open in the browser") {
			t.Errorf("GET %s: got %d %q, want 508 saying it is a loop", path, res.StatusCode, body)
		}
	}
	log := p.log.waitFor(t, "GET     /api/x")
	if n := strings.Count(log, " 508 "); n != 2 {
		t.Errorf("log has %d lines with 508, want one per request; log:\n%s", n, log)
	}
	if n := strings.Count(log, "↳ loop detected"); n != 2 {
		t.Errorf("log has %d loop hints, want one per request; log:\n%s", n, log)
	}
}
