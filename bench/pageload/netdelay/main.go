//go:build linux

// Command netdelay adds round-trip time between the root network namespace
// and another one, for page loads measured as a remote machine sees them.
// The kernel it was written on has no netem qdisc (CONFIG_NET_SCH_NETEM
// is off), so the delay is made in user space: two point-to-point TUN
// devices, one in the root namespace and one moved into -netns, and every
// IP packet read from one is written to the other -rtt/2 later. TCP
// runs end to end over that link (handshakes, slow start, ACKs, window
// updates all see the delay), which a delaying TCP relay would hide.
//
//	netdelay -netns pl-lat -rtt 40ms -host 10.231.0.1 -peer 10.231.0.2
//
// The namespace must exist. netdelay names the devices plt-host and
// plt-ns, gives them the addresses and brings them up, writes -ready
// once packets flow, and runs until SIGINT or SIGTERM; the devices go
// away with it.
package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// From linux/if_tun.h.
const (
	tunSetIff = 0x400454ca
	iffTun    = 0x0001
	iffNoPI   = 0x1000
)

const (
	hostDev = "plt-host"
	nsDev   = "plt-ns"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "netdelay: error: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	fset := flag.NewFlagSet("netdelay", flag.ContinueOnError)
	fset.SetOutput(stderr)
	netns := fset.String("netns", "", "network namespace for the far end (must exist)")
	rtt := fset.Duration("rtt", 10*time.Millisecond, "round-trip time to add; each direction gets half")
	host := fset.String("host", "10.231.0.1", "address of the root namespace's end")
	peer := fset.String("peer", "10.231.0.2", "address of the far end, in -netns")
	mtu := fset.Int("mtu", 1500, "MTU of both devices, bytes")
	ready := fset.String("ready", "", "file to write once the link is up")
	if err := fset.Parse(args); err != nil {
		return err
	}
	if *netns == "" {
		return errors.New("-netns is required")
	}
	if *rtt < 0 {
		return fmt.Errorf("-rtt %v is negative", *rtt)
	}
	a, err := openTun(hostDev)
	if err != nil {
		return err
	}
	defer a.Close()
	b, err := openTun(nsDev)
	if err != nil {
		return err
	}
	defer b.Close()
	m := strconv.Itoa(*mtu)
	for _, c := range [][]string{
		{"link", "set", nsDev, "netns", *netns},
		{"addr", "add", *host, "peer", *peer + "/32", "dev", hostDev},
		{"link", "set", hostDev, "mtu", m, "up"},
		{"-n", *netns, "addr", "add", *peer, "peer", *host + "/32", "dev", nsDev},
		{"-n", *netns, "link", "set", nsDev, "mtu", m, "up"},
		{"-n", *netns, "link", "set", "lo", "up"},
	} {
		if out, err := exec.CommandContext(ctx, "ip", c...).CombinedOutput(); err != nil {
			return fmt.Errorf("ip %v: %v: %s", c, err, out)
		}
	}
	var dropped atomic.Int64
	errc := make(chan error, 2)
	go func() { errc <- pump(a, b, *rtt/2, *mtu, &dropped) }()
	go func() { errc <- pump(b, a, *rtt/2, *mtu, &dropped) }()
	if *ready != "" {
		if err := os.WriteFile(*ready, []byte("up\n"), 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "netdelay: %s (%s) <-> %s (%s in %s), %v added per round trip\n", hostDev, *host, nsDev, *peer, *netns, *rtt)
	select {
	case <-ctx.Done():
		fmt.Fprintf(stderr, "netdelay: stopped; %d packets dropped on full queues\n", dropped.Load())
		return nil
	case err := <-errc:
		return err
	}
}

// openTun creates the TUN device name (IP packets, no packet-info header),
// gone when the file is closed.
func openTun(name string) (*os.File, error) {
	fd, err := syscall.Open("/dev/net/tun", syscall.O_RDWR|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open /dev/net/tun: %w", err)
	}
	var ifr [40]byte // struct ifreq: name, then flags
	copy(ifr[:15], name)
	binary.NativeEndian.PutUint16(ifr[16:], iffTun|iffNoPI)
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), tunSetIff, uintptr(unsafe.Pointer(&ifr[0]))); errno != 0 {
		_ = syscall.Close(fd)
		return nil, fmt.Errorf("create TUN device %q: %w", name, errno)
	}
	return os.NewFile(uintptr(fd), name), nil
}

type packet struct {
	due time.Time
	b   []byte
}

// pump copies packets from one device to the other, each one delay after
// it was read. The delay is the same for all, so a FIFO keeps them in
// order. A full queue drops, as a router's would.
func pump(from, to *os.File, delay time.Duration, mtu int, dropped *atomic.Int64) error {
	q := make(chan packet, 8192)
	werr := make(chan error, 1)
	go func() {
		for p := range q {
			if d := time.Until(p.due); d > 0 {
				time.Sleep(d)
			}
			if _, err := to.Write(p.b); err != nil && !errors.Is(err, syscall.EIO) {
				werr <- fmt.Errorf("write %s: %w", to.Name(), err)
				return
			}
		}
	}()
	for {
		buf := make([]byte, mtu+64)
		n, err := from.Read(buf)
		if err != nil {
			return fmt.Errorf("read %s: %w", from.Name(), err)
		}
		select {
		case q <- packet{due: time.Now().Add(delay), b: buf[:n]}:
		case err := <-werr:
			return err
		default:
			dropped.Add(1)
		}
	}
}
