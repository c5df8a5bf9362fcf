package testcap

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"
)

// MixStart is the timestamp of the first exchange of a Mix.
var MixStart = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// MixInfo describes the DNS message carried by one frame of a Mix.
type MixInfo struct {
	// Name is the question name without the final dot; empty for frames
	// that carry no DNS message (TCP handshake and teardown).
	Name     string
	QType    uint16
	ID       uint16
	Response bool
	Rcode    int
	TCP      bool
	// Src and Dst are the frame's transport endpoints.
	Src, Dst netip.AddrPort
}

// mixWords and mixTLDs make the 300 benign registered domains of a Mix.
var mixWords = []string{
	"acorn", "amber", "anchor", "apple", "aspen", "atlas", "beacon", "birch", "bloom", "breeze",
	"brook", "canyon", "cedar", "cherry", "cloud", "comet", "coral", "cotton", "crystal", "daisy",
	"delta", "ember", "falcon", "fern", "forest", "garden", "glacier", "harbor", "hazel", "horizon",
	"island", "jasmine", "juniper", "lagoon", "lantern", "maple", "meadow", "mesa", "orchid", "pebble",
	"pine", "prairie", "quartz", "river", "sage", "summit", "thistle", "tulip", "valley", "willow",
}

var mixTLDs = []string{"com", "org", "net", "io", "de", "co.uk"}

var mixPrefixes = []string{"", "", "", "www.", "www.", "api.", "mail.", "cdn.", "static.", "login.", "img.", "news."}

// MixDomains returns the registered domains a Mix draws names from
// (len(mixWords) × len(mixTLDs) = 300 of them), in a fixed order.
func MixDomains() []string {
	out := make([]string, 0, len(mixWords)*len(mixTLDs))
	for _, tld := range mixTLDs {
		for _, w := range mixWords {
			out = append(out, w+"."+tld)
		}
	}
	return out
}

var (
	mixClients4  = addrRange(netip.MustParseAddr("192.168.1.10"), 12)
	mixClients6  = addrRange(netip.MustParseAddr("2001:db8:1::10"), 6)
	mixResolver4 = []netip.Addr{netip.MustParseAddr("192.0.2.53"), netip.MustParseAddr("192.0.2.54")}
	mixResolver6 = []netip.Addr{netip.MustParseAddr("2001:db8:53::53")}
)

func addrRange(first netip.Addr, n int) []netip.Addr {
	out := make([]netip.Addr, n)
	for i := range out {
		out[i] = first
		first = first.Next()
	}
	return out
}

// Mix returns n frames of benign-looking DNS traffic, the same for the same
// seed, n and links: queries from a dozen IPv4 and a few IPv6 clients to
// two or three resolvers for names under 300 domains (A, AAAA, MX, TXT,
// HTTPS; some with EDNS), with their responses (mostly NOERROR, some
// NXDOMAIN and SERVFAIL) interleaved in time, and a few exchanges over TCP
// with handshake and teardown. Each exchange uses one link picked at random
// from links (Ethernet if empty); mixing links only makes sense for pcapng.
// The last exchanges may be cut short to return exactly n frames.
func Mix(seed int64, n int, links ...Link) []Frame {
	frames, _ := MixDetailed(seed, n, links...)
	return frames
}

// MixDetailed is Mix that also describes the DNS message of each frame,
// for golden tests: info[i] belongs to frames[i].
func MixDetailed(seed int64, n int, links ...Link) ([]Frame, []MixInfo) {
	if len(links) == 0 {
		links = []Link{Ethernet}
	}
	for _, l := range links {
		_ = l.HeaderLen() // panics on an unsupported Link
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x646e73696576652e)) // "dnsieve."
	domains := MixDomains()
	type item struct {
		f    Frame
		info MixInfo
	}
	var items []item
	t := MixStart
	for len(items) < n {
		t = t.Add(time.Duration(rng.ExpFloat64() * float64(40*time.Millisecond)))
		link := links[rng.IntN(len(links))]
		v6 := rng.IntN(5) == 0
		if link == RawIPv4 {
			v6 = false
		} else if link == RawIPv6 {
			v6 = true
		}
		var client, server netip.Addr
		if v6 {
			client, server = mixClients6[rng.IntN(len(mixClients6))], mixResolver6[rng.IntN(len(mixResolver6))]
		} else {
			client, server = mixClients4[rng.IntN(len(mixClients4))], mixResolver4[rng.IntN(len(mixResolver4))]
		}
		cport := netip.AddrPortFrom(client, uint16(1024+rng.IntN(64512)))
		sport := netip.AddrPortFrom(server, 53)
		domain := domains[rng.IntN(len(domains))]
		name := mixPrefixes[rng.IntN(len(mixPrefixes))] + domain
		qtype := mixQType(rng)
		id := uint16(rng.Uint32())
		rcode := RcodeSuccess
		switch r := rng.IntN(100); {
		case r < 5:
			rcode = RcodeNXDomain
		case r < 6:
			rcode = RcodeServFail
		}
		var q []byte
		if rng.IntN(2) == 0 {
			q = QueryEDNS(id, name, qtype, 1232)
		} else {
			q = Query(id, name, qtype)
		}
		r := Response(id, name, qtype, rcode, mixAnswers(rng, name, domain, qtype, rcode)...)
		rtt := time.Duration(1+rng.IntN(60)) * time.Millisecond
		qi := MixInfo{Name: name, QType: qtype, ID: id, Src: cport, Dst: sport}
		ri := MixInfo{Name: name, QType: qtype, ID: id, Response: true, Rcode: rcode, Src: sport, Dst: cport}
		if rng.IntN(30) != 0 {
			items = append(items,
				item{Frame{Time: t, Link: link, Data: UDP(link, cport, sport, q)}, qi},
				item{Frame{Time: t.Add(rtt), Link: link, Data: UDP(link, sport, cport, r)}, ri})
			continue
		}
		// DNS over TCP (RFC 7766): handshake, query, response, teardown.
		qi.TCP, ri.TCP = true, true
		cisn, sisn := rng.Uint32(), rng.Uint32()
		hs := TCPHandshake(link, cport, sport, cisn, sisn)
		step := rtt / 4
		at := func(k int) time.Time { return t.Add(time.Duration(k) * step) }
		cInfo := MixInfo{TCP: true, Src: cport, Dst: sport}
		sInfo := MixInfo{TCP: true, Src: sport, Dst: cport}
		cseq, sseq := cisn+1, sisn+1
		qseg := TCPDNSSegments(link, cport, sport, cseq, [][]byte{q}, nil, WithAck(sseq))[0]
		cseq += uint32(len(q) + 2)
		rseg := TCPDNSSegments(link, sport, cport, sseq, [][]byte{r}, nil, WithAck(cseq))[0]
		sseq += uint32(len(r) + 2)
		items = append(items,
			item{Frame{Time: at(0), Link: link, Data: hs[0]}, cInfo},
			item{Frame{Time: at(1), Link: link, Data: hs[1]}, sInfo},
			item{Frame{Time: at(2), Link: link, Data: hs[2]}, cInfo},
			item{Frame{Time: at(2).Add(time.Microsecond), Link: link, Data: qseg}, qi},
			item{Frame{Time: at(4), Link: link, Data: rseg}, ri},
			item{Frame{Time: at(5), Link: link, Data: TCP(link, cport, sport, cseq, TCPFin|TCPAck, nil, WithAck(sseq))}, cInfo},
			item{Frame{Time: at(6), Link: link, Data: TCP(link, sport, cport, sseq, TCPFin|TCPAck, nil, WithAck(cseq+1))}, sInfo},
		)
	}
	slices.SortStableFunc(items, func(a, b item) int { return a.f.Time.Compare(b.f.Time) })
	items = items[:n]
	frames := make([]Frame, n)
	info := make([]MixInfo, n)
	for i, it := range items {
		frames[i], info[i] = it.f, it.info
	}
	return frames, info
}

func mixQType(rng *rand.Rand) uint16 {
	switch r := rng.IntN(100); {
	case r < 55:
		return TypeA
	case r < 80:
		return TypeAAAA
	case r < 90:
		return TypeHTTPS
	case r < 95:
		return TypeMX
	default:
		return TypeTXT
	}
}

// mixAnswers returns plausible answers; addresses depend only on the name so
// a name resolves the same way throughout a Mix.
func mixAnswers(rng *rand.Rand, name, domain string, qtype uint16, rcode int) []Answer {
	if rcode != RcodeSuccess {
		return nil
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	sum := h.Sum32()
	var out []Answer
	owner := name
	if rng.IntN(8) == 0 && (qtype == TypeA || qtype == TypeAAAA) {
		owner = "edge" + fmt.Sprint(sum%7) + ".cdn." + domain
		out = append(out, AnswerCNAME(owner))
	}
	withOwner := func(a Answer) Answer {
		if owner != name {
			a.Name = owner
		}
		return a
	}
	switch qtype {
	case TypeA:
		for i := range 1 + int(sum%3) {
			a := netip.AddrFrom4([4]byte{198, 51, 100, byte(sum>>8) + byte(i)})
			out = append(out, withOwner(AnswerAddr(a)))
		}
	case TypeAAAA:
		b := netip.MustParseAddr("2001:db8:a::").As16()
		b[14], b[15] = byte(sum>>16), byte(sum)
		out = append(out, withOwner(AnswerAddr(netip.AddrFrom16(b))))
	case TypeMX:
		out = append(out, AnswerMX(10, "mx1."+domain), AnswerMX(20, "mx2."+domain))
	case TypeTXT:
		out = append(out, AnswerTXT("v=spf1 include:_spf."+domain+" ~all"))
	}
	return out
}
