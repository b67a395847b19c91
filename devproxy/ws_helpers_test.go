package devproxy

import (
	"bufio"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/devproxy/devproxy/internal/wsframe"
)

// A real WebSocket handshake and real frames (internal/wsframe), enough to
// prove that upgrades and messages pass through devproxy.

func wsAccept(key string) string { return wsframe.Accept(key) }

// wsEchoHandler accepts a WebSocket and echoes every message back with
// prefix prepended, until the client closes. seen receives the upgrade
// request's headers.
func wsEchoHandler(t *testing.T, prefix string, seen chan<- http.Header) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if seen != nil {
			seen <- r.Header.Clone()
		}
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			http.Error(w, "not a websocket", http.StatusBadRequest)
			return
		}
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		defer c.Close()
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
			wsAccept(r.Header.Get("Sec-WebSocket-Key")) + "\r\n\r\n")
		_ = brw.Flush()
		for {
			op, msg, err := wsRead(brw.Reader)
			if err != nil || op == 8 {
				return
			}
			if err := wsWrite(c, op, append([]byte(prefix), msg...), false); err != nil {
				return
			}
		}
	}
}

// wsConn is the client side of a test WebSocket.
type wsConn struct {
	net.Conn
	r *bufio.Reader
}

// wsDial opens a WebSocket to ws://addr/path with the given extra headers.
func wsDial(t *testing.T, addr, path string, header http.Header) (*wsConn, *http.Response, error) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	return wsHandshake(c, "http://"+addr+path, header)
}

// wsHandshake opens a WebSocket to url over the connection c.
func wsHandshake(c net.Conn, url string, header http.Header) (*wsConn, *http.Response, error) {
	key := base64.StdEncoding.EncodeToString([]byte("devproxy-test-key"))
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Sec-WebSocket-Key", key)
	req.Header.Set("Sec-WebSocket-Version", "13")
	for k, v := range header {
		req.Header[k] = v
	}
	_ = c.SetDeadline(time.Now().Add(waitTimeout))
	if err := req.Write(c); err != nil {
		c.Close()
		return nil, nil, err
	}
	br := bufio.NewReader(c)
	res, err := http.ReadResponse(br, req)
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	if res.StatusCode != http.StatusSwitchingProtocols {
		c.Close()
		return nil, res, nil
	}
	if got := res.Header.Get("Sec-WebSocket-Accept"); got != wsAccept(key) {
		c.Close()
		return nil, res, errors.New("bad Sec-WebSocket-Accept " + got)
	}
	return &wsConn{Conn: c, r: br}, res, nil
}

func (c *wsConn) send(msg []byte) error { return wsWrite(c.Conn, 1, msg, true) }

func (c *wsConn) recv() ([]byte, error) {
	_, msg, err := wsRead(c.r)
	return msg, err
}

func (c *wsConn) close() error {
	_ = wsWrite(c.Conn, 8, []byte{3, 232}, true)
	return c.Conn.Close()
}

func wsWrite(w io.Writer, op byte, msg []byte, mask bool) error {
	var f wsframe.Framer
	return f.Write(w, op, msg, mask)
}

func wsRead(r *bufio.Reader) (byte, []byte, error) {
	var f wsframe.Framer
	return f.Read(r)
}
