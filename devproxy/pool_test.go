package devproxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// TestShortPathIdleConnectionsExpire: a connection left unused for the idle
// timeout is closed, and the next request dials a new one.
func TestShortPathIdleConnectionsExpire(t *testing.T) {
	b, _ := wireBackend(t)
	target, err := url.Parse(b.url)
	if err != nil {
		t.Fatal(err)
	}
	tr := newUpstreamTransport(target, false, 0)
	tr.idleAfter = 50 * time.Millisecond
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr}
	for i := range 2 {
		res, err := client.Get(b.url + "/x")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, res.Body); err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		b.waitClosed(t, fmt.Sprintf("round %d: the idle connection was never closed", i))
		tr.mu.Lock()
		n := len(tr.idle)
		tr.mu.Unlock()
		if n != 0 {
			t.Fatalf("round %d: %d idle connections left after the timeout", i, n)
		}
	}
}

// TestShortPathRetiredPool: a request in flight when a reload removes its
// target finishes, and its connection is then closed rather than kept for
// a pool nobody uses.
func TestShortPathRetiredPool(t *testing.T) {
	arrived := make(chan struct{}, 1)
	release := make(chan struct{})
	b := startRawBackend(t, func(c net.Conn, br *bufio.Reader) {
		for {
			wr, err := readWireRequest(br)
			if err != nil {
				return
			}
			if strings.Contains(wr.line, "/old/slow") {
				arrived <- struct{}{}
				<-release
			}
			if answer(c, "old") != nil {
				return
			}
		}
	})
	other, _ := wireBackend(t)
	p := startProxy(t, "routes:\n  /old: "+b.url+"\n", nil)
	b.waitClosed(t, "the start-up probe never came")
	done := make(chan string, 1)
	go func() {
		res, err := http.Get(p.url + "/old/slow")
		if err != nil {
			done <- err.Error()
			return
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		done <- fmt.Sprint(res.StatusCode, " ", string(body))
	}()
	<-arrived
	if err := os.WriteFile(p.file, []byte("routes:\n  /new: "+other.url+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := p.waitReload(t); err != nil {
		t.Fatal(err)
	}
	close(release)
	if got := <-done; got != "200 old" {
		t.Errorf("the request in flight got %q, want 200 old", got)
	}
	b.waitClosed(t, "the removed target's connection stayed open after its last request")
}
