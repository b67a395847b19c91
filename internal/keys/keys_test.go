package keys

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"testing"
)

func TestDispatch(t *testing.T) {
	var got []string
	keys := []Key{
		{Char: 'o', Help: "open it", Do: func() { got = append(got, "o") }},
		{Char: 'q', Help: "quit", Do: func() { got = append(got, "q") }},
	}
	for _, tt := range []struct {
		in   string
		want string
		out  string
	}{
		{"o", "o", ""},
		{"Q", "q", ""},
		{"x\r\n", "", ""},
		{"h", "", "  press h to show the keys\n  press o to open it\n  press q to quit\n"},
	} {
		got = nil
		var out bytes.Buffer
		for _, c := range []byte(tt.in) {
			Dispatch(c, &out, keys)
		}
		if strings.Join(got, "") != tt.want || !strings.Contains(out.String(), tt.out) {
			t.Errorf("keys %q: ran %q, printed %q; want %q and %q", tt.in, got, out.String(), tt.want, tt.out)
		}
	}
}

// TestStartReadsNothingFromAPipe pins that a stdin that is not a terminal
// is left alone.
func TestStartReadsNothingFromAPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := w.WriteString("q"); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if IsTerminal(r) {
		t.Fatal("IsTerminal(pipe) = true")
	}
	ran := false
	restore := Start(context.Background(), r, io.Discard, []Key{{Char: 'q', Do: func() { ran = true }}})
	restore()
	left, _ := io.ReadAll(r)
	if ran || string(left) != "q" {
		t.Errorf("Start on a pipe: ran %t, left %q in it; want nothing run or read", ran, left)
	}
}
