package devproxy

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestReloadChangesListen(t *testing.T) {
	free := func() string {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		defer ln.Close()
		return ln.Addr().String()
	}
	p := startProxy(t, "routes:\n  /x:\n    respond: {body: hi}\n", nil)
	newAddr := free()
	saveByRename(t, p.file, "listen: "+newAddr+"\nroutes:\n  /x:\n    respond: {body: hi}\n")
	if err := p.waitReload(t); err != nil {
		t.Fatal(err)
	}
	p.log.waitFor(t, "listen 127.0.0.1:8080 → "+newAddr)
	res, err := http.Get("http://" + newAddr + "/x")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("GET /x on the new address: %v %v", res, err)
	}
	res.Body.Close()
	waitRefusedDial(t, p.host)

	// An address that cannot be bound keeps the current one.
	busy, _ := net.Listen("tcp", "127.0.0.1:0")
	defer busy.Close()
	saveByRename(t, p.file, "listen: "+busy.Addr().String()+"\nroutes:\n  /x:\n    respond: {body: still}\n")
	if err := p.waitReload(t); err != nil {
		t.Fatal(err)
	}
	p.log.waitFor(t, "listen "+busy.Addr().String()+" not applied")
	res, err = http.Get("http://" + newAddr + "/x")
	if err != nil {
		t.Fatalf("GET /x on the kept address: %v", err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(b) != "still" {
		t.Errorf("GET /x on the kept address: %q, want the rest of the config applied", b)
	}
}

func waitRefusedDial(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for time.Now().Before(deadline) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s still accepts connections", addr)
}

func TestListenFlagWins(t *testing.T) {
	file := filepath.Join(t.TempDir(), "devproxy.yaml")
	must(t, os.WriteFile(file, []byte("listen: 127.0.0.1:9999\nroutes:\n  /x:\n    respond: {body: hi}\n"), 0o644))
	p := startProxyOpts(t, file, func(o *Options) { o.Listen = "127.0.0.1:7777" })
	if got := p.srv.ListenAddr(); got != "127.0.0.1:7777" {
		t.Errorf("ListenAddr() = %q with -listen 127.0.0.1:7777, want the flag", got)
	}
	saveByRename(t, file, "listen: 127.0.0.1:9998\nroutes:\n  /x:\n    respond: {body: hi}\n")
	if err := p.waitReload(t); err != nil {
		t.Fatal(err)
	}
	p.log.waitFor(t, "listen change to 127.0.0.1:9998 ignored: -listen 127.0.0.1:7777 wins")
	p.wantBody(t, "/x", "hi")
}

// TestListenBackToTheServedAddress pins that setting listen to the address
// devproxy already serves (back after a change that could not be applied)
// is taken as it is, not reported as "address already in use".
func TestListenBackToTheServedAddress(t *testing.T) {
	p := startProxy(t, "routes:\n  /x:\n    respond: {body: a}\n", nil)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	steps := []struct{ listen, body, wantLog string }{
		{p.host, "b", "listen " + p.host + ", already served"},
		{busy.Addr().String(), "c", "listen " + busy.Addr().String() + " not applied"},
		{p.host, "d", "listen " + p.host + ", already served"},
		{"localhost:" + p.host[strings.LastIndexByte(p.host, ':')+1:], "e", ", already served"},
	}
	for i, st := range steps {
		saveByRename(t, p.file, "listen: "+st.listen+"\nroutes:\n  /x:\n    respond: {body: "+st.body+"}\n")
		if err := p.waitReload(t); err != nil {
			t.Fatal(err)
		}
		log := p.log.waitFor(t, st.wantLog)
		if n := strings.Count(log, "not applied"); n > 1 {
			t.Errorf("step %d, listen %s: %d listen changes not applied, want only the busy one; log:\n%s", i, st.listen, n, log)
		}
		p.wantBody(t, "/x", st.body)
	}
}

func TestShutdownEndsStreamsCleanly(t *testing.T) {
	// A stream that never ends by itself.
	be := streamBackend(t, func(r *http.Request) bool { <-r.Context().Done(); return false })
	p := startProxy(t, "routes:\n  /api: "+be.URL+"\n", nil)

	ws, _, err := wsDial(t, p.host, "/api/ws", nil)
	if err != nil || ws == nil {
		t.Fatalf("WebSocket: %v", err)
	}
	defer ws.Close()
	res, err := http.Get(p.url + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	br := bufio.NewReader(res.Body)
	if line, _ := br.ReadString('\n'); line != "data: first\n" {
		t.Fatalf("first event: %q", line)
	}

	p.stop()

	// The event stream ended as a complete response, which an EventSource
	// answers by reconnecting, not as a broken one.
	rest, err := io.ReadAll(br)
	if err != nil {
		t.Errorf("event stream at shutdown: %v after %q, want a clean end", err, rest)
	}
	if _, err := ws.recv(); err == nil {
		t.Error("WebSocket still open after shutdown")
	}
	p.log.waitFor(t, "shutting down", "WS      /api/ws", "closed", "/api/events")
}
