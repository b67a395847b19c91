package main

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/devproxy/devproxy/internal/wsframe"
)

// Both ends of a WebSocket, with internal/wsframe: the handshake and
// single unfragmented frames, which is all a message round trip needs.

const (
	wsBinary = 0x2
	wsClose  = wsframe.OpClose
)

// wsMax bounds the frames the benchmark reads.
const wsMax = 1 << 20

// wsEcho accepts a WebSocket and sends every message back until the client
// closes.
func wsEcho(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Sec-WebSocket-Key")
	if key == "" || r.Header.Get("Upgrade") == "" {
		http.Error(w, "not a websocket handshake", http.StatusBadRequest)
		return
	}
	c, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer c.Close()
	_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
		wsframe.Accept(key) + "\r\n\r\n")
	if brw.Flush() != nil {
		return
	}
	f := wsframe.Framer{Max: wsMax}
	for {
		op, msg, err := f.Read(brw.Reader)
		if err != nil {
			return
		}
		if op == wsClose {
			_ = f.Write(c, wsClose, msg, false)
			return
		}
		if err := f.Write(c, op, msg, false); err != nil {
			return
		}
	}
}

// wsClient is the load generator's end of one WebSocket.
type wsClient struct {
	c net.Conn
	r *bufio.Reader
	f wsframe.Framer
}

// wsDial opens a WebSocket to ws://hostport/path.
func wsDial(hostport, path string, timeout time.Duration) (*wsClient, error) {
	c, err := net.DialTimeout("tcp", hostport, timeout)
	if err != nil {
		return nil, err
	}
	_ = c.SetDeadline(time.Now().Add(timeout))
	key := base64.StdEncoding.EncodeToString([]byte("devproxy-bench-k"))
	req, err := http.NewRequest(http.MethodGet, "http://"+hostport+path, nil)
	if err != nil {
		c.Close()
		return nil, err
	}
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Sec-WebSocket-Key", key)
	req.Header.Set("Sec-WebSocket-Version", "13")
	if err := req.Write(c); err != nil {
		c.Close()
		return nil, err
	}
	br := bufio.NewReader(c)
	res, err := http.ReadResponse(br, req)
	if err != nil {
		c.Close()
		return nil, err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSwitchingProtocols {
		c.Close()
		return nil, fmt.Errorf("websocket handshake: status %d, want 101", res.StatusCode)
	}
	if got := res.Header.Get("Sec-WebSocket-Accept"); got != wsframe.Accept(key) {
		c.Close()
		return nil, fmt.Errorf("websocket handshake: Sec-WebSocket-Accept %q, want %q", got, wsframe.Accept(key))
	}
	_ = c.SetDeadline(time.Time{})
	return &wsClient{c: c, r: br}, nil
}

// roundTrip sends msg and waits for its echo.
func (ws *wsClient) roundTrip(msg []byte) error {
	if err := ws.f.Write(ws.c, wsBinary, msg, true); err != nil {
		return err
	}
	_, got, err := ws.f.Read(ws.r)
	if err != nil {
		return err
	}
	if len(got) != len(msg) {
		return fmt.Errorf("websocket echo of %d bytes came back with %d", len(msg), len(got))
	}
	return nil
}

func (ws *wsClient) close() {
	_ = ws.c.SetDeadline(time.Now().Add(time.Second))
	_ = ws.f.Write(ws.c, wsClose, []byte{0x03, 0xe8}, true)
	_ = ws.c.Close()
}
