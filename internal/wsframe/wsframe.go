// Package wsframe is a minimal WebSocket (RFC 6455) codec: the handshake's
// accept key and whole, unfragmented frames. devproxy itself never parses
// WebSocket traffic; its tests, browser suite and load benchmark use this
// to speak it for real on both ends.
package wsframe

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
)

// Opcodes used by devproxy's tests.
const (
	OpText  = 0x1
	OpClose = 0x8
	OpPing  = 0x9
	OpPong  = 0xA
)

// guid is the constant RFC 6455 section 1.3 mixes into the accept key.
const guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// Accept returns the Sec-WebSocket-Accept value for a Sec-WebSocket-Key.
func Accept(key string) string {
	h := sha1.Sum([]byte(key + guid))
	return base64.StdEncoding.EncodeToString(h[:])
}

// ErrTooBig is returned by Read for a frame larger than Framer.Max.
var ErrTooBig = errors.New("websocket frame too large")

// Framer reads and writes frames with buffers it keeps, so that a round
// trip allocates nothing once the buffers have grown. A Framer is used by
// one goroutine at a time. The zero value is ready to use.
type Framer struct {
	// Max is the largest payload Read accepts; 0 means no limit.
	Max     int
	in, out []byte
}

// Read reads one frame and returns its opcode and unmasked payload. The
// payload stays valid until the next Read.
func (f *Framer) Read(r *bufio.Reader) (op byte, payload []byte, err error) {
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
	if f.Max > 0 && n > uint64(f.Max) {
		return 0, nil, ErrTooBig
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
	payload = f.in[:n]
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, err
	}
	if masked {
		for i := range payload {
			payload[i] ^= key[i%4]
		}
	}
	return op, payload, nil
}

// Write sends payload as one final frame in one write. A client masks its
// frames (RFC 6455 section 5.3); a fixed key is enough on loopback.
func (f *Framer) Write(w io.Writer, op byte, payload []byte, mask bool) error {
	b := append(f.out[:0], 0x80|op)
	var maskBit byte
	if mask {
		maskBit = 0x80
	}
	switch n := len(payload); {
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
		b = append(b, payload...)
		for i := range payload {
			b[start+i] ^= key[i%4]
		}
	} else {
		b = append(b, payload...)
	}
	f.out = b
	_, err := w.Write(b)
	return err
}
