package probe

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/devproxy/devproxy/internal/neterr"
	"github.com/devproxy/devproxy/internal/testnet"
)

// TestProbe pins what a probe says of real servers, in particular those a
// TCP connect called up: plain HTTP behind https, a silent server and one
// that answers garbage.
func TestProbe(t *testing.T) {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	plain := httptest.NewServer(handler)
	defer plain.Close()
	tlsSrv := httptest.NewUnstartedServer(handler)
	// The handshakes the probes fail on are the point, not news.
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	silent := make(chan struct{})
	defer close(silent)
	hang := testnet.RawServer(t, func(c net.Conn) { <-silent; c.Close() })
	garbage := testnet.RawServer(t, func(c net.Conn) {
		defer c.Close()
		buf := make([]byte, 512)
		_, _ = c.Read(buf)
		_, _ = c.Write([]byte("+OK redis ready\r\n"))
	})
	tlsURL, _ := url.Parse(tlsSrv.URL)
	tests := []struct {
		name     string
		url      string
		insecure bool
		up       bool
		kind     neterr.Kind
	}{
		{"http server answers 404", plain.URL, false, true, 0},
		{"plain HTTP on an https target", "https://" + plain.Listener.Addr().String(), false, false, neterr.NotTLS},
		{"closed port", "http://127.0.0.1:" + testnet.ClosedPort(t), false, false, neterr.Refused},
		{"accepts and never answers", "http://" + hang, false, false, neterr.Timeout},
		{"self-signed certificate", tlsSrv.URL, false, false, neterr.Untrusted},
		{"self-signed certificate, insecure", "https://localhost:" + tlsURL.Port(), true, true, 0},
		{"garbage over TCP", "http://" + garbage, false, false, neterr.NotHTTP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := url.Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			// Only the server that never answers needs the timeout; the
			// others must be told apart however slow a loaded machine is.
			timeout := 10 * time.Second
			if tt.kind == neterr.Timeout {
				timeout = 300 * time.Millisecond
			}
			target := Target{URL: u, Insecure: tt.insecure, Timeout: timeout}
			if u.Hostname() == "localhost" {
				target.Addr = net.JoinHostPort("127.0.0.1", u.Port())
			}
			err = Probe(context.Background(), target)
			switch {
			case tt.up && err != nil:
				t.Fatalf("Probe(%s) = %v, want up", tt.url, err)
			case !tt.up && err == nil:
				t.Fatalf("Probe(%s) = up, want down (%v)", tt.url, tt.kind)
			case !tt.up:
				if got := neterr.Classify(err); got.Kind != tt.kind {
					t.Errorf("Probe(%s) = %v, classified %v %q, want kind %v", tt.url, err, got.Kind, got.Phrase, tt.kind)
				}
			}
		})
	}
}
