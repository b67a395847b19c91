package doctor

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/devproxy/devproxy/internal/testnet"
)

// TestDiagnose runs every CORS case against doctor alone; the Chromium
// suite checks the same cases against the browser.
func TestDiagnose(t *testing.T) {
	const pagePort = "3000"
	for _, c := range corsCases() {
		t.Run(c.name, func(t *testing.T) {
			origin := c.pageOrigin(pagePort)
			url := c.start(t, origin) + "/api/users"
			v, err := Diagnose(context.Background(), c.check(url, origin))
			if err != nil {
				t.Fatalf("Diagnose: %v", err)
			}
			if v.Allowed() != c.allowed {
				t.Fatalf("Diagnose: verdict %s (%s), want allowed = %t", v.Verdict, v.Reason, c.allowed)
			}
			if !strings.Contains(v.Reason, c.reason) {
				t.Errorf("Diagnose: reason %q, want it to contain %q", v.Reason, c.reason)
			}
			if !strings.Contains(strings.Join(v.Notes, "\n"), c.note) {
				t.Errorf("Diagnose: notes %q, want one containing %q", v.Notes, c.note)
			}
			if !strings.Contains(v.Mistake, c.mistake) {
				t.Errorf("Diagnose: mistake %q, want it to contain %q", v.Mistake, c.mistake)
			}
			if !c.allowed {
				if !strings.HasPrefix(v.Reason, "Access to fetch at '"+url+"' from origin '"+origin+"' has been blocked by CORS policy: ") && !c.down {
					t.Errorf("Diagnose: reason %q, want the browser's wording", v.Reason)
				}
				if len(v.Fixes) == 0 {
					t.Errorf("Diagnose: no fixes for a blocked request")
				}
			}
		})
	}
}

// TestDiagnoseSendsWhatBrowsersSend pins the preflight's request headers and
// checks that it carries no credentials, and that an unsafe method is not
// sent without Send.
func TestDiagnoseSendsWhatBrowsersSend(t *testing.T) {
	var got []*http.Request
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Clone(context.Background()))
		w.Header().Set("Access-Control-Allow-Origin", "http://localhost:3000")
		w.Header().Set("Access-Control-Allow-Credentials", "true")
		w.Header().Set("Access-Control-Allow-Methods", "DELETE")
		w.Header().Set("Access-Control-Allow-Headers", "authorization, x-b, x-a")
		w.WriteHeader(http.StatusNoContent)
	}))
	defer backend.Close()
	v, err := Diagnose(context.Background(), Check{
		URL: backend.URL + "/items/1", Origin: "http://localhost:3000", Method: "delete",
		Headers: []string{"X-B", "Authorization", "x-a", "Accept"}, Credentials: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !v.Allowed() || len(got) != 1 {
		t.Fatalf("Diagnose: verdict %s (%s) after %d requests, want allowed after the preflight alone", v.Verdict, v.Reason, len(got))
	}
	pre := got[0]
	want := map[string]string{
		"Origin":                         "http://localhost:3000",
		"Access-Control-Request-Method":  "DELETE",
		"Access-Control-Request-Headers": "authorization,x-a,x-b",
		"Cookie":                         "",
		"Authorization":                  "",
	}
	if pre.Method != http.MethodOptions {
		t.Errorf("preflight method = %s, want OPTIONS", pre.Method)
	}
	for name, value := range want {
		if g := pre.Header.Get(name); g != value {
			t.Errorf("preflight %s = %q, want %q", name, g, value)
		}
	}
	if len(v.Notes) == 0 || !strings.Contains(strings.Join(v.Notes, "\n"), "add --send") {
		t.Errorf("Diagnose: notes %q, want one saying the DELETE was not sent", v.Notes)
	}
}

func TestDiagnoseSameOrigin(t *testing.T) {
	v, err := Diagnose(context.Background(), Check{URL: "http://localhost:8080/api", Origin: "http://localhost:8080"})
	if err != nil || !v.Allowed() {
		t.Fatalf("Diagnose(same origin) = %+v, %v; want allowed with nothing sent", v, err)
	}
}

// TestDiagnoseSlowTarget: a server that accepts the connection and never
// answers is running but stuck; doctor says so, with the time it waited,
// rather than calling it unreachable and telling the user to start it.
// A port nothing listens on still is unreachable.
func TestDiagnoseSlowTarget(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(io.Discard, c) // never answers
			}()
		}
	}()
	cases := []struct {
		name            string
		url             string
		mistake, reason string
		fix, notFix     string
	}{
		{"accepts and never answers", "http://" + ln.Addr().String() + "/api",
			"target did not answer", "accepted the connection but did not answer within 300ms", "stuck", "start the server"},
		{"nothing listens", "http://127.0.0.1:" + testnet.ClosedPort(t) + "/api",
			"target not reachable", "connection refused", "start the server", "accepted"},
	}
	for _, c := range cases {
		for _, method := range []string{http.MethodGet, http.MethodPut} {
			t.Run(c.name+"/"+method, func(t *testing.T) {
				v, err := Diagnose(context.Background(), Check{URL: c.url, Origin: "http://localhost:3000", Method: method,
					Client: &http.Client{Timeout: 300 * time.Millisecond}})
				if err != nil {
					t.Fatal(err)
				}
				fixes := fmt.Sprint(v.Fixes)
				if v.Allowed() || v.Mistake != c.mistake || !strings.Contains(v.Reason, c.reason) {
					t.Errorf("Diagnose %s: verdict %s, mistake %q, reason %q; want mistake %q and a reason with %q", method, v.Verdict, v.Mistake, v.Reason, c.mistake, c.reason)
				}
				if !strings.Contains(fixes, c.fix) || strings.Contains(fixes, c.notFix) {
					t.Errorf("Diagnose %s: fixes %s, want %q and not %q", method, fixes, c.fix, c.notFix)
				}
			})
		}
	}
}
