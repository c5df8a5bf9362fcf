//go:build linux

package afpacket

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dnsieve/dnsieve/internal/capture"
)

func TestResolveIDs(t *testing.T) {
	tests := []struct {
		user, group string
		uid, gid    int
		err         string
	}{
		{"1234", "5678", 1234, 5678, ""},
		{"0", "0", 0, 0, ""},
		{"root", "", 0, 0, ""},
		{"root", "1", 0, 1, ""},
		{"", "", 0, 0, "no user given"},
		{"no-such-user-afpacket", "", 0, 0, "unknown user"},
		{"0", "no-such-group-afpacket", 0, 0, "unknown group"},
		{"4294967295", "1", 0, 0, "unknown user"},
		{"987654", "", 0, 0, "no group given"},
	}
	for _, tc := range tests {
		uid, gid, err := resolveIDs(tc.user, tc.group)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q %q: error %v, want %q", tc.user, tc.group, err, tc.err)
			}
			continue
		}
		if err != nil || uid != tc.uid || gid != tc.gid {
			t.Errorf("%q %q: %d %d %v, want %d %d", tc.user, tc.group, uid, gid, err, tc.uid, tc.gid)
		}
	}
}

// TestDropPrivileges runs a copy of the test binary inside namespace A with
// `ip netns exec`: it opens a Source, drops to nobody, checks that every
// thread changed ids and lost its capabilities, that no new socket can be
// opened, and that the open one still captures.
func TestDropPrivileges(t *testing.T) {
	if os.Getenv("AFPACKET_DROP_HELPER") == "1" {
		dropHelper(t)
		return
	}
	tn := newTestNet(t)
	cmd := exec.Command("ip", "netns", "exec", tn.nsA, os.Args[0], "-test.run=^TestDropPrivileges$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "AFPACKET_DROP_HELPER=1", "AFPACKET_IFACE="+tn.vA, "AFPACKET_PEER="+tn.ipB())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "HELPER OK") {
		t.Fatalf("helper: %v\n%s", err, out)
	}
}

func dropHelper(t *testing.T) {
	src, err := Open(Config{Interfaces: []string{os.Getenv("AFPACKET_IFACE")}, Filter: "udp dst port 53"})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if err := DropPrivileges("nobody", ""); err != nil {
		t.Fatal(err)
	}
	if u, e, g, eg := unix.Getuid(), unix.Geteuid(), unix.Getgid(), unix.Getegid(); u != 65534 || e != 65534 || g != 65534 || eg != 65534 {
		t.Fatalf("ids %d %d %d %d", u, e, g, eg)
	}
	if gs, _ := unix.Getgroups(); len(gs) != 0 {
		t.Fatalf("supplementary groups %v", gs)
	}
	// Every thread: ids, and no capability left.
	tasks, _ := filepath.Glob("/proc/self/task/*/status")
	if len(tasks) < 2 {
		t.Fatalf("only %d threads to check", len(tasks))
	}
	for _, p := range tasks {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // the thread ended
		}
		s := string(b)
		for _, want := range []string{"Uid:\t65534\t65534\t65534\t65534", "Gid:\t65534\t65534\t65534\t65534",
			"CapPrm:\t0000000000000000", "CapEff:\t0000000000000000", "CapAmb:\t0000000000000000"} {
			if !strings.Contains(s, want) {
				t.Fatalf("%s lacks %q:\n%s", p, want, s)
			}
		}
	}
	if err := syscall.Setuid(0); !errors.Is(err, syscall.EPERM) {
		t.Fatalf("setuid(0) after dropping: %v", err)
	}
	if _, err := Open(Config{Interfaces: []string{"lo"}}); !errors.Is(err, unix.EPERM) || !strings.Contains(err.Error(), "CAP_NET_RAW") {
		t.Fatalf("Open after dropping: %v", err)
	}
	// The open socket still captures (an outgoing query sent unprivileged).
	c, err := net.ListenUDP("udp4", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	q := dnsQuery(t, 9, "after.drop.example.")
	if _, err := c.WriteToUDPAddrPort(q, netip.MustParseAddrPort(os.Getenv("AFPACKET_PEER")+":53")); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	var rec capture.Record
	go func() { done <- src.Next(&rec) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no frame after dropping privileges")
	}
	checkUDP(t, rec, sent{netip.MustParseAddrPort(os.Getenv("AFPACKET_PEER") + ":53"), q}, netip.MustParseAddr(os.Getenv("AFPACKET_PEER")).Prev())
	if st := src.Stats(); st.Packets != 1 {
		t.Fatalf("stats %+v", st)
	}
	fmt.Println("HELPER OK")
}

// TestLiveInterfaceDown checks that an interface going down is reported by
// Next, wrapped with its name.
func TestLiveInterfaceDown(t *testing.T) {
	tn := newTestNet(t)
	src := openIn(t, tn.nsA, Config{Interfaces: []string{tn.vA}})
	errc := make(chan error, 1)
	go func() {
		var rec capture.Record
		errc <- src.Next(&rec)
	}()
	time.Sleep(50 * time.Millisecond)
	ipCmd(t, "-n", tn.nsA, "link", "set", tn.vA, "down")
	select {
	case err := <-errc:
		if !errors.Is(err, unix.ENETDOWN) || !strings.Contains(err.Error(), tn.vA) {
			t.Fatalf("Next: %v, want ENETDOWN naming %s", err, tn.vA)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("interface down not reported")
	}
	go func() { time.Sleep(50 * time.Millisecond); src.Close() }()
	var rec capture.Record
	if err := src.Next(&rec); err != io.EOF {
		t.Fatalf("Next after the error: %v, want io.EOF at Close", err)
	}
}
