package inspect

import "encoding/binary"

// FrameTap reads the WebSocket frames of one direction out of the raw
// bytes the proxy copies, and records each as a message of the exchange.
// Feed it every byte of the direction, in order, with Write; it never
// fails and never holds the bytes back. A nil *FrameTap does nothing.
type FrameTap struct {
	ex  *Exchange
	dir Direction

	hdr     [14]byte
	hn      int    // header bytes read so far
	need    int    // header length once known
	remain  uint64 // payload bytes left of the current frame
	size    uint64
	op      byte
	mask    [4]byte
	masked  bool
	off     uint64 // payload offset, for unmasking
	payload []byte // first wsPreview bytes of the current frame
}

// WSFrames returns a tap for the frames going dir. Call it once per
// direction after the upgrade and Write the bytes to it as they are copied:
// the client's reads for ToServer, the client's writes for ToClient.
func (ex *Exchange) WSFrames(dir Direction) *FrameTap {
	if ex == nil {
		return nil
	}
	return &FrameTap{ex: ex, dir: dir}
}

// Write parses p; it always returns len(p), nil.
func (t *FrameTap) Write(p []byte) (int, error) {
	if t == nil {
		return len(p), nil
	}
	n := len(p)
	for len(p) > 0 {
		if t.need == 0 || t.hn < t.need {
			p = t.header(p)
			continue
		}
		k := min(uint64(len(p)), t.remain)
		chunk := p[:k]
		if room := uint64(wsPreview) - uint64(len(t.payload)); room > 0 {
			keep := chunk[:min(k, room)]
			start := len(t.payload)
			t.payload = append(t.payload, keep...)
			if t.masked {
				for i := range keep {
					t.payload[start+i] ^= t.mask[(t.off+uint64(i))%4]
				}
			}
		}
		t.off += k
		t.remain -= k
		p = p[k:]
		if t.remain == 0 {
			t.end()
		}
	}
	return n, nil
}

// header takes header bytes from p and returns the rest.
func (t *FrameTap) header(p []byte) []byte {
	for len(p) > 0 && (t.need == 0 || t.hn < t.need) {
		t.hdr[t.hn] = p[0]
		t.hn++
		p = p[1:]
		if t.hn == 2 {
			t.need = 2
			switch t.hdr[1] & 0x7f {
			case 126:
				t.need += 2
			case 127:
				t.need += 8
			}
			if t.hdr[1]&0x80 != 0 {
				t.need += 4
			}
		}
	}
	if t.need == 0 || t.hn < t.need {
		return p
	}
	t.op = t.hdr[0] & 0x0f
	t.masked = t.hdr[1]&0x80 != 0
	i := 2
	switch l := t.hdr[1] & 0x7f; l {
	case 126:
		t.size = uint64(binary.BigEndian.Uint16(t.hdr[2:4]))
		i = 4
	case 127:
		t.size = binary.BigEndian.Uint64(t.hdr[2:10])
		i = 10
	default:
		t.size = uint64(l)
	}
	if t.masked {
		copy(t.mask[:], t.hdr[i:i+4])
	}
	t.remain, t.off, t.payload = t.size, 0, t.payload[:0]
	if t.remain == 0 {
		t.end()
	}
	return p
}

// end records the frame just read and gets ready for the next.
func (t *FrameTap) end() {
	t.ex.wsFrame(t.dir, t.op, int(min(t.size, 1<<62)), t.payload)
	t.hn, t.need = 0, 0
}
