package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// patternBlock is a fixed pseudo-random block; its length is odd so that
// the pattern does not line up with any buffer size.
var patternBlock = func() []byte {
	b := make([]byte, 1<<20+7)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}()

// patternReader yields patternBlock over and over: a cheap stream whose
// bytes depend on their offset only, so that both ends of a transfer can
// hash the same bytes.
type patternReader struct{ off int }

func (r *patternReader) Read(p []byte) (int, error) {
	n := copy(p, patternBlock[r.off:])
	r.off = (r.off + n) % len(patternBlock)
	return n, nil
}

// memory reads the resident set size and its peak, in bytes, from
// /proc/PID/status.
func memory(t *testing.T, pid int) (rss, hwm int64) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("cannot read the process's memory: %v", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		name, val, _ := strings.Cut(line, ":")
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
		switch name {
		case "VmRSS":
			rss = kb << 10
		case "VmHWM":
			hwm = kb << 10
		}
	}
	return rss, hwm
}

// TestBinaryLargeTransfers sends 2 GiB up and 2 GiB down through a route of
// the devproxy binary at the same time: the checksums match on both ends and
// devproxy's resident memory grows by less than 64 MiB. The binary is a
// process of its own, so the race detector does not slow it down.
func TestBinaryLargeTransfers(t *testing.T) {
	bin := buildBinary(t)
	const size = 2 << 30
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/upload":
			h := sha256.New()
			n, err := io.Copy(h, r.Body)
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			fmt.Fprintf(w, "%d %x", n, h.Sum(nil))
		case "/api/download":
			w.Header().Set("Content-Length", strconv.Itoa(size))
			io.CopyN(w, &patternReader{}, size)
		default:
			io.WriteString(w, "warm")
		}
	}))
	defer be.Close()
	p := startBinary(t, bin, "-config", writeConfig(t, "listen: 127.0.0.1:0\nroutes:\n  /api: "+be.URL+"\n"))
	base := strings.Replace(p.url, "localhost", "127.0.0.1", 1)
	if res, err := http.Get(base + "/api/warm"); err != nil {
		t.Fatal(err)
	} else {
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	pid := p.cmd.Process.Pid
	rssBefore, _ := memory(t, pid)

	var (
		wg                   sync.WaitGroup
		want                 [sha256.Size]byte
		upStatus, upBody     string
		downN                int64
		downSum              []byte
		upErr, downErr       error
		downStatus           int
		downLength           int64
		wantHash             = sha256.New()
		downHash             = sha256.New()
		uploadReq, uploadErr = http.NewRequest(http.MethodPost, base+"/api/upload", io.LimitReader(&patternReader{}, size))
	)
	if uploadErr != nil {
		t.Fatal(uploadErr)
	}
	uploadReq.ContentLength = size
	wg.Add(3)
	go func() {
		defer wg.Done()
		io.CopyN(wantHash, &patternReader{}, size)
		copy(want[:], wantHash.Sum(nil))
	}()
	go func() {
		defer wg.Done()
		res, err := http.DefaultClient.Do(uploadReq)
		if err != nil {
			upErr = err
			return
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		upStatus, upBody, upErr = res.Status, string(b), err
	}()
	go func() {
		defer wg.Done()
		res, err := http.Get(base + "/api/download")
		if err != nil {
			downErr = err
			return
		}
		defer res.Body.Close()
		downStatus, downLength = res.StatusCode, res.ContentLength
		downN, downErr = io.Copy(downHash, res.Body)
		downSum = downHash.Sum(nil)
	}()
	wg.Wait()

	if wantUp := fmt.Sprintf("%d %x", int64(size), want); upErr != nil || upBody != wantUp {
		t.Errorf("POST 2 GiB: got %s %q (%v), want 200 %q", upStatus, upBody, upErr, wantUp)
	}
	if downErr != nil || downStatus != 200 || downLength != size || downN != size || !bytes.Equal(downSum, want[:]) {
		t.Errorf("GET 2 GiB: status %d, Content-Length %d, read %d bytes (%v), checksum match %v; want 200 and %d bytes with the sent checksum",
			downStatus, downLength, downN, downErr, bytes.Equal(downSum, want[:]), int64(size))
	}
	rssAfter, hwm := memory(t, pid)
	growth := hwm - rssBefore
	t.Logf("devproxy RSS: %d MiB before, peak %d MiB during, %d MiB after: grew by %.1f MiB moving 4 GiB",
		rssBefore>>20, hwm>>20, rssAfter>>20, float64(growth)/(1<<20))
	if growth >= 64<<20 {
		t.Errorf("devproxy's RSS grew by %d MiB (from %d MiB to a peak of %d MiB) moving 2 GiB each way, want less than 64 MiB",
			growth>>20, rssBefore>>20, hwm>>20)
	}
}
