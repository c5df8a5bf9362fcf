//go:build linux

package afpacket

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

// The live tests build their own network namespaces: two namespaces, A and
// B, joined by a veth pair (vA in A with 10.77.N.1/24 and fd77:N::1/64, vB
// in B with .2 and ::2). Sockets are created inside a namespace by locking
// the goroutine to its OS thread, switching that thread with setns(2), and
// switching back; a socket keeps the namespace it was created in, so it can
// then be used from any goroutine. Everything is deleted on cleanup.

// testNet is a pair of namespaces joined by a veth pair.
type testNet struct {
	nsA, nsB string // namespace names
	vA, vB   string // veth names
	n        int    // subnet number: 10.77.n.0/24, fd77:n::/64
}

func (tn *testNet) ipA() string  { return fmt.Sprintf("10.77.%d.1", tn.n) }
func (tn *testNet) ipB() string  { return fmt.Sprintf("10.77.%d.2", tn.n) }
func (tn *testNet) ip6A() string { return fmt.Sprintf("fd77:%d::1", tn.n) }

var netSeq atomic.Int32

// requireRoot skips the test unless it runs as root with the ip tool.
func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("live capture tests need root (CAP_NET_RAW and CAP_SYS_ADMIN for network namespaces); skipping")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("live capture tests need the ip tool (iproute2); skipping")
	}
}

func ipCmd(t testing.TB, args ...string) {
	t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// newTestNet creates the namespaces and the veth pair, or skips the test
// when namespaces cannot be created here.
func newTestNet(t testing.TB) *testNet {
	t.Helper()
	requireRoot(t)
	seq := int(netSeq.Add(1))
	pid := os.Getpid() % 100000
	tn := &testNet{
		nsA: fmt.Sprintf("afpkt-%d-%d-a", pid, seq),
		nsB: fmt.Sprintf("afpkt-%d-%d-b", pid, seq),
		vA:  fmt.Sprintf("afa%d-%d", pid, seq),
		vB:  fmt.Sprintf("afb%d-%d", pid, seq),
		n:   (pid*7 + seq) % 250,
	}
	if out, err := exec.Command("ip", "netns", "add", tn.nsA).CombinedOutput(); err != nil {
		t.Skipf("network namespaces unavailable (ip netns add: %v: %s); skipping", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", tn.nsA).Run() })
	ipCmd(t, "netns", "add", tn.nsB)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", tn.nsB).Run() })
	ipCmd(t, "link", "add", tn.vA, "netns", tn.nsA, "type", "veth", "peer", "name", tn.vB, "netns", tn.nsB)
	for _, c := range [][]string{
		{"-n", tn.nsA, "addr", "add", tn.ipA() + "/24", "dev", tn.vA},
		{"-n", tn.nsB, "addr", "add", tn.ipB() + "/24", "dev", tn.vB},
		{"-n", tn.nsA, "addr", "add", tn.ip6A() + "/64", "dev", tn.vA, "nodad"},
		{"-n", tn.nsB, "addr", "add", fmt.Sprintf("fd77:%d::2/64", tn.n), "dev", tn.vB, "nodad"},
		{"-n", tn.nsA, "link", "set", "lo", "up"},
		{"-n", tn.nsB, "link", "set", "lo", "up"},
		{"-n", tn.nsA, "link", "set", tn.vA, "up"},
		{"-n", tn.nsB, "link", "set", tn.vB, "up"},
	} {
		ipCmd(t, c...)
	}
	return tn
}

// inNetns runs f on a thread switched into the named namespace.
func inNetns(t testing.TB, ns string, f func()) {
	t.Helper()
	runtime.LockOSThread()
	orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	defer unix.Close(orig)
	target, err := unix.Open("/var/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	defer unix.Close(target)
	if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		t.Fatalf("setns %s: %v", ns, err)
	}
	defer func() {
		if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
			// Leave the thread locked: the runtime then terminates it
			// with the goroutine instead of reusing it in the wrong
			// namespace.
			t.Errorf("setns back: %v", err)
			return
		}
		runtime.UnlockOSThread()
	}()
	f()
}
