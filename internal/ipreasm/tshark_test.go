package ipreasm

import (
	"bytes"
	"fmt"
	"math/rand"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/dnsieve/dnsieve/internal/packet"
	"github.com/dnsieve/dnsieve/internal/testcap"
)

// oracleMessage returns a large response of one of the types tunnels use
// for downstream data: TXT, NULL or MX.
func oracleMessage(rng *rand.Rand, id uint16, name string) []byte {
	size := 1500 + rng.Intn(6000)
	switch id % 3 {
	case 0:
		return bigResponse(id, name, size)
	case 1:
		data := make([]byte, min(size, 65000))
		rng.Read(data)
		return testcap.Response(id, name, testcap.TypeNULL, testcap.RcodeSuccess, testcap.AnswerNULL(data))
	}
	var mx []testcap.Answer
	for i := 0; i < size/60; i++ {
		mx = append(mx, testcap.AnswerMX(uint16(i), fmt.Sprintf("mx%03d.%x.mail-exchanger-with-a-long-name.example.net", i, rng.Uint32())))
	}
	return testcap.Response(id, name, testcap.TypeMX, testcap.RcodeSuccess, mx...)
}

// oracleFrames builds a capture of n query/response exchanges over IPv4
// and IPv6 whose responses are fragmented, each response's fragments in
// shuffled order (some repeated before the datagram completes), the
// exchanges interleaved.
func oracleFrames(t testing.TB, seed int64, n int) [][]byte {
	rng := rand.New(rand.NewSource(seed))
	var streams [][][]byte
	for i := range n {
		name := fmt.Sprintf("q%d.%x.tunnel.example.com", i, rng.Uint32())
		id := uint16(i)
		cli, srv := cli4, srv4
		if i%2 == 1 {
			cli, srv = cli6, srv6
		}
		cli = netip.AddrPortFrom(cli.Addr(), uint16(20000+i))
		query := testcap.UDP(testcap.Ethernet, cli, srv, testcap.QueryEDNS(id, name, testcap.TypeTXT, 4096))
		resp := oracleMessage(rng, id, name)
		var frags [][]byte
		size := 512 + 8*rng.Intn(150)
		if i%2 == 0 {
			frags = testcap.IPv4Fragments(testcap.Ethernet, srv, cli, resp, size, testcap.WithIPID(uint16(0x100+i)))
		} else {
			frags = testcap.IPv6Fragments(testcap.Ethernet, srv, cli, resp, size, testcap.WithFragmentID(uint32(0x10000+i)))
		}
		rng.Shuffle(len(frags), func(a, b int) { frags[a], frags[b] = frags[b], frags[a] })
		if i%5 == 0 && len(frags) > 2 {
			frags = append(frags[:2], append([][]byte{frags[0]}, frags[2:]...)...) // a duplicate before completion
		}
		streams = append(streams, append([][]byte{query}, frags...))
	}
	var out [][]byte
	for len(streams) > 0 {
		k := rng.Intn(len(streams))
		out = append(out, streams[k][0])
		if streams[k] = streams[k][1:]; len(streams[k]) == 0 {
			streams = append(streams[:k], streams[k+1:]...)
		}
	}
	return out
}

// ourDNSFrames runs frames through Decode and a Reassembler and returns
// "frame<TAB>qname" for every frame where a DNS message (port 53) is
// analysed: whole UDP datagrams and completed fragmented ones.
func ourDNSFrames(t testing.TB, frames [][]byte) []string {
	r := New(Config{})
	var p, out packet.Packet
	var lines []string
	for i, f := range frames {
		frame := uint64(i + 1)
		err := packet.Decode(testcap.Ethernet.LinkType(), f, &p)
		msg := []byte(nil)
		switch {
		case p.Frag.IsFragment:
			if r.Add(frame, int64(i)*1e6, &p, &out) && out.Proto == packet.ProtoUDP && (out.SrcPort == 53 || out.DstPort == 53) {
				msg = out.Payload
			}
		case err == nil && p.Proto == packet.ProtoUDP && (p.SrcPort == 53 || p.DstPort == 53):
			msg = p.Payload
		}
		if msg == nil {
			continue
		}
		var parser dnsmessage.Parser
		if _, err := parser.Start(msg); err != nil {
			t.Fatalf("frame %d: %v", frame, err)
		}
		q, err := parser.Question()
		if err != nil {
			t.Fatalf("frame %d: %v", frame, err)
		}
		lines = append(lines, fmt.Sprintf("%d\t%s", frame, strings.TrimSuffix(q.Name.String(), ".")))
	}
	if st := r.Stats(); st.Active != 0 || st.Datagrams == 0 {
		t.Fatalf("stats %+v", st)
	}
	return lines
}

// TestTSharkOracle checks that a DNS message is analysed exactly at the
// frames where Wireshark shows one: every whole datagram and, for a
// fragmented one, the fragment that completes it.
func TestTSharkOracle(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed")
	}
	frames := oracleFrames(t, 7, 40)
	path := filepath.Join(t.TempDir(), "frag.pcap")
	var buf bytes.Buffer
	start := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	if err := testcap.WritePCAP(&buf, testcap.Frames(testcap.Ethernet, start, time.Millisecond, frames...), false); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(tshark, "-n", "-r", path, "-Y", "dns", "-T", "fields", "-e", "frame.number", "-e", "dns.qry.name")
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir()) // no user profile
	outb, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	want := strings.Split(strings.TrimSpace(string(outb)), "\n")
	got := ourDNSFrames(t, frames)
	if len(want) != 80 {
		t.Fatalf("tshark shows %d DNS frames, want 80", len(want))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		for i := range max(len(got), len(want)) {
			var g, w string
			if i < len(got) {
				g = got[i]
			}
			if i < len(want) {
				w = want[i]
			}
			if g != w {
				t.Errorf("line %d: ours %q, tshark %q", i, g, w)
			}
		}
	}
}
