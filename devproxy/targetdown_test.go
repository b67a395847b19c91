package devproxy

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// startOn serves h on addr, a port that was free, until the test ends.
func startOn(t *testing.T, addr string, h http.Handler) *httptest.Server {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen on %s again: %v", addr, err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func TestRouteFallback(t *testing.T) {
	local := "127.0.0.1:" + closedPort(t)
	var staging *httptest.Server
	staging = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/base/api/login":
			http.SetCookie(w, &http.Cookie{Name: "sid", Value: "1", Path: "/base", Domain: "127.0.0.1"})
			http.Redirect(w, r, staging.URL+"/base/api/home", http.StatusFound)
		default:
			b, _ := io.ReadAll(r.Body)
			io.WriteString(w, "staging host="+r.Host+" path="+r.URL.Path+" body="+string(b))
		}
	}))
	defer staging.Close()
	p := startProxy(t, "routes:\n  /api:\n    target: http://"+local+"\n    fallback: "+staging.URL+"/base\n", nil)

	// The local API is not started: the fallback answers, with the Host
	// and path rewriting of a target, and the body the client sent.
	res, body := p.do(t, "POST", "/api/items?x=1", strings.NewReader("payload"), nil)
	stagingHost := strings.TrimPrefix(staging.URL, "http://")
	if want := "staging host=" + stagingHost + " path=/base/api/items body=payload"; res.StatusCode != 200 || body != want {
		t.Errorf("POST /api/items with local down: got %d %q, want 200 %q", res.StatusCode, body, want)
	}
	p.log.waitLines(t, 1, "POST", "/api "+stagingHost, "fallback")

	// Location and cookies that name the fallback are mapped back.
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, _ = fetch(t, c, "GET", p.url+"/api/login", nil, nil)
	if loc := res.Header.Get("Location"); loc != p.url+"/api/home" {
		t.Errorf("GET /api/login via the fallback: Location = %q, want %q", loc, p.url+"/api/home")
	}
	if ck := res.Header.Get("Set-Cookie"); ck != "sid=1; Path=/" {
		t.Errorf("GET /api/login via the fallback: Set-Cookie = %q, want %q", ck, "sid=1; Path=/")
	}

	// The local API starts: the very next request goes to it.
	startOn(t, local, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "local")
	}))
	p.wantBody(t, "/api/items", "local")
	lines := p.log.waitLines(t, 1, "GET", "/api/items", "/api "+local)
	if strings.Contains(lines[len(lines)-1], "fallback") {
		t.Errorf("log line of the local answer says fallback: %q", lines[len(lines)-1])
	}
}

func TestRouteFallbackBothDown(t *testing.T) {
	local, staging := "127.0.0.1:"+closedPort(t), "127.0.0.1:"+closedPort(t)
	p := startProxy(t, "routes:\n  /api:\n    target: http://"+local+"\n    fallback: http://"+staging+"\n", nil)
	res, body := p.do(t, "GET", "/api/x", nil, http.Header{"Accept": {"application/json"}})
	var pe struct{ Error, Route, Target, Hint string }
	must(t, json.Unmarshal([]byte(body), &pe))
	if res.StatusCode != http.StatusBadGateway || res.Header.Get("X-Devproxy-Error") != "1" {
		t.Errorf("GET /api/x with both down: status = %d, X-Devproxy-Error = %q, want 502 and 1", res.StatusCode, res.Header.Get("X-Devproxy-Error"))
	}
	for _, want := range []string{"nothing listens on " + local, "the fallback http://" + staging + " failed too", "nothing listens on " + staging} {
		if !strings.Contains(pe.Error, want) {
			t.Errorf("GET /api/x with both down: error %q, want it to contain %q", pe.Error, want)
		}
	}
	if !strings.Contains(pe.Target, local) || !strings.Contains(pe.Target, "fallback http://"+staging) || !strings.Contains(pe.Hint, "start the local API") {
		t.Errorf("GET /api/x with both down: target %q, hint %q, want both named", pe.Target, pe.Hint)
	}
	p.log.waitLines(t, 1, "GET", "/api/x", "502")
	p.log.waitFor(t, "the fallback http://"+staging+" failed too")
}

func TestRouteFallbackThenReplay(t *testing.T) {
	// local down, fallback down, the recordings answer (replay: auto).
	local, staging := "127.0.0.1:"+closedPort(t), "127.0.0.1:"+closedPort(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"mocks/x/GET.http": "HTTP/1.1 200 OK\nContent-Type: text/plain\n\nrecorded x"})
	p := startProxyIn(t, dir, "routes:\n  /api:\n    target: http://"+local+"\n    fallback: http://"+staging+"\n    record: ./mocks\n    replay: auto\n", nil)
	p.wantBody(t, "/api/x", "recorded x")
	p.log.waitLines(t, 1, "/api/x", "/api replay", "fallback replayed")
}
