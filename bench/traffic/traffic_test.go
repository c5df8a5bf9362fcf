package traffic

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"golang.org/x/net/dns/dnsmessage"
	"golang.org/x/net/publicsuffix"
)

func capture(t testing.TB, seed uint64, n int, format, comp string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, New(Config{Seed: seed, Domains: 1_000_000}), n, format, comp); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// The generator is deterministic: these hashes change only when the
// traffic model changes (then update them, and the cached captures of
// bench/compare.sh are keyed by a version to bump).
func TestStableHash(t *testing.T) {
	golden := map[string]string{
		"pcap":   "c807388e65c1d472c1bb5cab4dc6f44e668fd11f06029a3b34fb5797d6725b62",
		"pcapng": "7cca14fdbc4625fa3bbf0c8d9d180083414a7fd1b89c4c57130225ab107de50e",
	}
	for format, want := range golden {
		got := sum(capture(t, 1, 5000, format, "none"))
		if got != want {
			t.Errorf("%s: sha256 of 5000 packets, seed 1 = %s, want %s", format, got, want)
		}
		if again := sum(capture(t, 1, 5000, format, "none")); again != got {
			t.Errorf("%s: two runs differ", format)
		}
	}
	for _, comp := range []string{"gzip", "zstd"} {
		a, b := capture(t, 1, 3000, "pcap", comp), capture(t, 1, 3000, "pcap", comp)
		if !bytes.Equal(a, b) {
			t.Errorf("%s output is not deterministic", comp)
		}
	}
	if sum(capture(t, 2, 1000, "pcap", "none")) == sum(capture(t, 1, 1000, "pcap", "none")) {
		t.Error("seeds 1 and 2 give the same capture")
	}
}

// A short capture is a prefix of a long one with the same seed.
func TestPrefix(t *testing.T) {
	short, long := capture(t, 7, 3000, "pcap", "none"), capture(t, 7, 9000, "pcap", "none")
	if !bytes.HasPrefix(long, short) {
		t.Fatal("3000-packet capture is not a prefix of the 9000-packet one")
	}
}

// Every frame decodes with gopacket and dnsmessage (the oracles), times
// never go back, every response answers an earlier query, and the mix
// has the intended shares.
func TestFramesDecode(t *testing.T) {
	const n = 60000
	data := capture(t, 3, n, "pcap", "none")
	r, err := pcapgo.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	type key struct {
		id   uint16
		port uint16
	}
	open := map[key]string{}
	var last int64
	var frames, v6, tunnel, answered, noAnswer, ptr, nx int
	regs := map[string]bool{}
	for {
		d, ci, err := r.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		frames++
		if ts := ci.Timestamp.UnixNano(); ts < last {
			t.Fatalf("frame %d: time goes back", frames)
		} else {
			last = ts
		}
		p := gopacket.NewPacket(d, layers.LayerTypeEthernet, gopacket.Default)
		// gopacket guesses the layer above UDP from the ports (an
		// ephemeral port may look like RADIUS): only the layers up to UDP
		// must decode.
		udp, _ := p.Layer(layers.LayerTypeUDP).(*layers.UDP)
		if udp == nil {
			t.Fatalf("frame %d: no UDP: %v", frames, p.ErrorLayer())
		}
		if int(udp.Length) != len(udp.Contents)+len(udp.Payload) {
			t.Fatalf("frame %d: UDP length %d, datagram %d", frames, udp.Length, len(udp.Contents)+len(udp.Payload))
		}
		if p.Layer(layers.LayerTypeIPv6) != nil {
			v6++
		}
		var m dnsmessage.Message
		if err := m.Unpack(udp.Payload); err != nil {
			t.Fatalf("frame %d: dnsmessage: %v", frames, err)
		}
		if len(m.Questions) != 1 {
			t.Fatalf("frame %d: %d questions", frames, len(m.Questions))
		}
		q := m.Questions[0].Name.String()
		if isTunnelName(q) {
			tunnel++
		}
		if !m.Header.Response {
			if udp.DstPort != 53 {
				t.Fatalf("frame %d: query to port %d", frames, udp.DstPort)
			}
			open[key{m.Header.ID, uint16(udp.SrcPort)}] = q
			name := strings.TrimSuffix(q, ".")
			if !strings.HasSuffix(name, ".arpa") {
				if reg, err := publicsuffix.EffectiveTLDPlusOne(name); err == nil {
					regs[reg] = true
				}
			} else {
				ptr++
			}
			continue
		}
		k := key{m.Header.ID, uint16(udp.DstPort)}
		if open[k] != q {
			t.Fatalf("frame %d: response to %q (ID %d) without its query", frames, q, k.id)
		}
		delete(open, k)
		switch {
		case m.Header.RCode == dnsmessage.RCodeNameError:
			nx++
		case len(m.Answers) > 0:
			answered++
		default:
			noAnswer++
		}
	}
	if frames != n {
		t.Fatalf("%d frames, want %d", frames, n)
	}
	check := func(what string, got, lo, hi float64) {
		t.Helper()
		if got < lo || got > hi {
			t.Errorf("%s = %.4f, want %.4f..%.4f", what, got, lo, hi)
		}
	}
	check("tunnel share", float64(tunnel)/n, 0.003, 0.008)
	check("IPv6 share", float64(v6)/n, 0.03, 0.3)
	check("PTR share of queries", float64(ptr)/(n/2), 0.05, 0.12)
	resp := float64(answered + noAnswer + nx)
	check("responses with answers", float64(answered)/resp, 0.80, 0.97)
	check("NXDOMAIN share", float64(nx)/resp, 0.02, 0.12)
	// 30k queries: the Zipf head repeats, the sweep adds ~6k new domains.
	check("distinct registered domains per query", float64(len(regs))/(n/2), 0.2, 0.6)
}

// isTunnelName reports whether name belongs to one of the tunnels.
func isTunnelName(name string) bool {
	name = strings.TrimSuffix(name, ".")
	return strings.HasSuffix(name, "."+IodineDomain) || strings.HasSuffix(name, "."+Dnscat2Domain) ||
		strings.HasSuffix(name, "."+ExfilDomain)
}

// The generator keeps bounded state however long it runs.
func TestBoundedState(t *testing.T) {
	g := New(Config{Seed: 1})
	for i := 0; i < 300000; i++ {
		g.Next()
	}
	if len(g.pending) > 5000 || len(g.nameCache) > hotCache || len(g.free) > 5000 {
		t.Fatalf("state grew: %d pending, %d cached names, %d free buffers", len(g.pending), len(g.nameCache), len(g.free))
	}
}

func BenchmarkNext(b *testing.B) {
	g := New(Config{Seed: 1})
	b.ReportAllocs()
	for b.Loop() {
		g.Next()
	}
}
