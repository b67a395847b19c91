package main

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// A minimal RFC 6455 implementation, both ends: the handshake and single
// unfragmented frames, which is all a message round trip needs.

const (
	wsGUID   = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
	wsBinary = 0x2
	wsClose  = 0x8
)

func wsAccept(key string) string {
	h := sha1.Sum([]byte(key + wsGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

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
		wsAccept(key) + "\r\n\r\n")
	if brw.Flush() != nil {
		return
	}
	var f wsFramer
	for {
		op, msg, err := f.read(brw.Reader)
		if err != nil {
			return
		}
		if op == wsClose {
			_ = f.write(c, wsClose, msg, false)
			return
		}
		if err := f.write(c, op, msg, false); err != nil {
			return
		}
	}
}

// wsClient is the load generator's end of one WebSocket.
type wsClient struct {
	c net.Conn
	r *bufio.Reader
	f wsFramer
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
	if got := res.Header.Get("Sec-WebSocket-Accept"); got != wsAccept(key) {
		c.Close()
		return nil, fmt.Errorf("websocket handshake: Sec-WebSocket-Accept %q, want %q", got, wsAccept(key))
	}
	_ = c.SetDeadline(time.Time{})
	return &wsClient{c: c, r: br}, nil
}

// roundTrip sends msg and waits for its echo.
func (ws *wsClient) roundTrip(msg []byte) error {
	if err := ws.f.write(ws.c, wsBinary, msg, true); err != nil {
		return err
	}
	_, got, err := ws.f.read(ws.r)
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
	_ = ws.f.write(ws.c, wsClose, []byte{0x03, 0xe8}, true)
	_ = ws.c.Close()
}

// wsFramer reads and writes frames with buffers it keeps, so that a
// round trip allocates nothing on the load generator's side.
type wsFramer struct {
	in, out []byte
}

var errWSTooBig = errors.New("websocket frame larger than 1 MiB")

// read reads one frame and returns its opcode and unmasked payload, which
// stays valid until the next read.
func (f *wsFramer) read(r *bufio.Reader) (byte, []byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, err
	}
	op, masked, n := h[0]&0x0f, h[1]&0x80 != 0, uint64(h[1]&0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if n > 1<<20 {
		return 0, nil, errWSTooBig
	}
	var key [4]byte
	if masked {
		if _, err := io.ReadFull(r, key[:]); err != nil {
			return 0, nil, err
		}
	}
	if uint64(cap(f.in)) < n {
		f.in = make([]byte, n)
	}
	msg := f.in[:n]
	if _, err := io.ReadFull(r, msg); err != nil {
		return 0, nil, err
	}
	if masked {
		for i := range msg {
			msg[i] ^= key[i%4]
		}
	}
	return op, msg, nil
}

// write sends msg as one final frame. A client masks its frames (RFC 6455
// section 5.3); a fixed key is enough on loopback, where nothing caches.
func (f *wsFramer) write(w io.Writer, op byte, msg []byte, mask bool) error {
	b := append(f.out[:0], 0x80|op)
	var maskBit byte
	if mask {
		maskBit = 0x80
	}
	switch n := len(msg); {
	case n < 126:
		b = append(b, maskBit|byte(n))
	case n < 1<<16:
		b = append(b, maskBit|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, maskBit|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if mask {
		key := [4]byte{0x5a, 0xc3, 0x1e, 0x77}
		b = append(b, key[:]...)
		start := len(b)
		b = append(b, msg...)
		for i := range msg {
			b[start+i] ^= key[i%4]
		}
	} else {
		b = append(b, msg...)
	}
	f.out = b
	_, err := w.Write(b)
	return err
}
