package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devproxy/devproxy/internal/testnet"

	"github.com/devproxy/devproxy/devproxy"
	"github.com/devproxy/devproxy/devproxy/doctor"
)

// TestDoctorDispatch checks that "devproxy doctor" reaches the doctor with
// its own flags and exit codes.
func TestDoctorDispatch(t *testing.T) {
	code, _, stderr := runCLI(t, "doctor", "-h")
	if code != 0 || !strings.Contains(stderr, "devproxy doctor [URL] [flags]") {
		t.Errorf("devproxy doctor -h: exit %d, stderr %q; want exit 0 and the doctor's usage", code, stderr)
	}
	code, _, stderr = runCLI(t, "doctor", "http://localhost:5000", "--origin", "localhost:3000")
	if code != 2 || !strings.Contains(stderr, "devproxy: error: origin") {
		t.Errorf("devproxy doctor with a bad origin: exit %d, stderr %q; want exit 2 and the error", code, stderr)
	}
	code, _, stderr = runCLI(t, "-h")
	if code != 0 || !strings.Contains(stderr, "devproxy doctor URL --origin") {
		t.Errorf("devproxy -h: exit %d, stderr %q; want the doctor example", code, stderr)
	}
}

func TestDoctorCLI(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "https://localhost:3000")
	}))
	defer backend.Close()
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
	}))
	defer ok.Close()

	tests := []struct {
		args       []string
		wantCode   int
		wantStdout []string
		wantStderr string
	}{
		{[]string{backend.URL + "/x", "--origin", "http://localhost:3000"}, 1, []string{
			"GET " + backend.URL + "/x from origin http://localhost:3000",
			"Access-Control-Allow-Origin: https://localhost:3000",
			"blocked: Access to fetch at",
			"why:  \"https://localhost:3000\" differs only in scheme (https vs http)",
			"send: Access-Control-Allow-Origin: http://localhost:3000",
			"Express (cors)", "Flask (flask-cors)", "nginx", "add_header Access-Control-Allow-Origin \"http://localhost:3000\" always;",
			"routes:\n      /x: " + backend.URL,
		}, ""},
		{[]string{"--origin=http://localhost:3000", ok.URL}, 0, []string{"allowed: the response allows the origin"}, ""},
		{[]string{ok.URL, "--origin", "localhost:3000"}, 2, nil, `devproxy: error: origin "localhost:3000" is not scheme://host[:port]`},
		{[]string{"ftp://x", "--origin", "http://localhost:3000"}, 2, nil, `devproxy: error: "ftp://x" is not an http or https URL`},
		{[]string{ok.URL, ok.URL}, 2, nil, "devproxy: error: unexpected argument"},
		{[]string{"-listen", "8081"}, 2, nil, "devproxy: error: -listen \"8081\" has no host\ndevproxy: hint: write -listen 127.0.0.1:8081\n"},
		{[]string{"-nope"}, 2, nil, "devproxy: error: unknown flag -nope\ndevproxy: hint: run devproxy doctor -h for usage\n"},
		{[]string{"--orign", "http://localhost:3000"}, 2, nil, "devproxy: error: unknown flag -orign; did you mean -origin?\n"},
		{[]string{"-h"}, 0, nil, "Examples:\n  devproxy doctor http://localhost:5000/api/users --origin http://localhost:3000"},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		code := runDoctor(context.Background(), tt.args, &out, &errb)
		if code != tt.wantCode || !strings.Contains(errb.String(), tt.wantStderr) {
			t.Errorf("devproxy doctor %s: exit %d, stderr %q; want exit %d, stderr with %q", strings.Join(tt.args, " "), code, errb.String(), tt.wantCode, tt.wantStderr)
		}
		for _, want := range tt.wantStdout {
			if !strings.Contains(out.String(), want) {
				t.Errorf("devproxy doctor %s: stdout lacks %q:\n%s", strings.Join(tt.args, " "), want, out.String())
			}
		}
	}
}

func TestDoctorJSON(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer backend.Close()
	var out, errb bytes.Buffer
	code := runDoctor(context.Background(), []string{backend.URL, "--origin", "http://localhost:3000", "--credentials", "--json"}, &out, &errb)
	var v doctor.Verdict
	if err := json.Unmarshal(out.Bytes(), &v); err != nil {
		t.Fatalf("devproxy doctor --json: %v in %s", err, out.String())
	}
	if code != 1 || v.Verdict != "blocked" || v.Header != "Access-Control-Allow-Origin" || v.Request == nil || v.Request.Status != 200 || len(v.Fixes) != 4 {
		t.Errorf("devproxy doctor --json: exit %d, %+v; want exit 1, blocked on Access-Control-Allow-Origin, the request seen and 4 fixes", code, v)
	}
}

// TestDoctorConfig checks the config mode: a route whose target answers, one
// whose target does not, a mock, and a port held by another program.
func TestDoctorConfig(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer up.Close()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	down := testnet.ClosedPort(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "devproxy.yaml")
	config := "listen: " + busy.Addr().String() + "\nfrontend: " + up.URL + "\nroutes:\n  /api: " + up.URL +
		"\n  /auth: http://127.0.0.1:" + down + "\n  /hello: {respond: {json: hi}}\n"
	if err := os.WriteFile(file, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := runDoctor(context.Background(), []string{"-config", file}, &out, &errb)
	upHost := strings.TrimPrefix(up.URL, "http://")
	for _, want := range []string{
		"ok      route /api: " + up.URL + " answers on " + upHost + " (IPv4)",
		"problem route /auth: http://127.0.0.1:" + down + " does not answer: 127.0.0.1:" + down + " (IPv4) refused",
		"hint: start it, or fix routes./auth.target in " + file,
		"ok      route /hello: a mock",
		"ok      frontend: " + up.URL + " answers",
		"problem listen: something else listens on " + busy.Addr().String(),
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("devproxy doctor -config: stdout lacks %q:\n%s", want, out.String())
		}
	}
	if code != 1 || !strings.Contains(errb.String(), "devproxy: error: 2 problems") {
		t.Errorf("devproxy doctor -config: exit %d, stderr %q; want exit 1 and 2 problems", code, errb.String())
	}

	// devproxy itself on the port is no problem.
	host := serveDevproxy(t, "routes:\n  /api: "+up.URL+"\n")
	if err := os.WriteFile(file, []byte("listen: "+host+"\nroutes:\n  /api: "+up.URL+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errb.Reset()
	if code := runDoctor(context.Background(), []string{"-config", file}, &out, &errb); code != 0 || !strings.Contains(out.String(), "devproxy devel already runs on "+host) {
		t.Errorf("devproxy doctor -config with devproxy running: exit %d, stdout:\n%s\nstderr: %s", code, out.String(), errb.String())
	}

	// -listen names the address devproxy was started on, which wins over
	// the config's: devproxy there is fine, another program is not.
	if err := os.WriteFile(file, []byte("routes:\n  /api: "+up.URL+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		listen string
		code   int
		want   string
	}{
		{host, 0, "ok      listen: devproxy devel already runs on " + host},
		{busy.Addr().String(), 1, "problem listen: something else listens on " + busy.Addr().String()},
	} {
		out.Reset()
		errb.Reset()
		if code := runDoctor(context.Background(), []string{"-config", file, "-listen", tt.listen}, &out, &errb); code != tt.code || !strings.Contains(out.String(), tt.want) {
			t.Errorf("devproxy doctor -listen %s: exit %d, stdout:\n%s\nwant exit %d and %q", tt.listen, code, out.String(), tt.code, tt.want)
		}
	}
}

// serveDevproxy serves config on a 127.0.0.1:0 listener until the test
// ends and returns its address.
func serveDevproxy(t *testing.T, config string) (host string) {
	t.Helper()
	srv, err := devproxy.New(devproxy.Options{ConfigFile: writeConfig(t, config)})
	if err != nil {
		t.Fatalf("devproxy.New: %v", err)
	}
	return testnet.Serve(t, srv)
}
