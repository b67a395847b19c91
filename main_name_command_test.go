//go:build linux

package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestBinaryNameFlag runs devproxy -name shop -- cmdserver: the banner
// opens shop.localhost, and a request for that name reaches the command.
func TestBinaryNameFlag(t *testing.T) {
	bin := buildBinary(t)
	server := buildCmdServer(t)
	p := startWithCommand(t, bin, t.TempDir(), "-listen", "127.0.0.1:0", "-name", "shop", "--", server)
	open, _, _ := strings.Cut(strings.TrimSpace(p.waitFor(t, "➜ open ", 30*time.Second)), " ")
	u, err := url.Parse(open)
	if err != nil || u.Hostname() != "shop.localhost" {
		t.Fatalf("banner opens %q, want http://shop.localhost:PORT; log:\n%s", open, p)
	}
	p.waitFor(t, "cmdserver │ ready at", 30*time.Second)
	var d net.Dialer
	c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, "127.0.0.1:"+u.Port())
	}}}
	res, err := c.Get(open + "/hello")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(body) != "cmdserver NAME= path=/hello\n" {
		t.Errorf("GET %s/hello: %d %q, want cmdserver's answer", open, res.StatusCode, body)
	}
}
