package wsframe

import (
	"bufio"
	"bytes"
	"errors"
	"testing"
)

func TestAccept(t *testing.T) {
	// The example of RFC 6455 section 1.3.
	if got, want := Accept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="; got != want {
		t.Errorf("Accept = %q, want %q", got, want)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 125, 126, 65535, 65536, 1 << 20} {
		for _, mask := range []bool{false, true} {
			msg := bytes.Repeat([]byte{'x', 'y', 'z'}, n/3+1)[:n]
			var buf bytes.Buffer
			var w, r Framer
			if err := w.Write(&buf, OpText, msg, mask); err != nil {
				t.Fatal(err)
			}
			if mask && n > 0 && bytes.Contains(buf.Bytes(), msg) {
				t.Errorf("%d bytes masked: payload sent in the clear", n)
			}
			op, got, err := r.Read(bufio.NewReader(&buf))
			if err != nil || op != OpText || !bytes.Equal(got, msg) {
				t.Errorf("%d bytes, mask %t: got op %d, %d bytes, %v; want the same %d bytes", n, mask, op, len(got), err, n)
			}
		}
	}
}

func TestMax(t *testing.T) {
	var buf bytes.Buffer
	var w Framer
	w.Write(&buf, OpText, make([]byte, 2000), false)
	r := Framer{Max: 1000}
	if _, _, err := r.Read(bufio.NewReader(&buf)); !errors.Is(err, ErrTooBig) {
		t.Errorf("Read of 2000 bytes with Max 1000: %v, want ErrTooBig", err)
	}
}
