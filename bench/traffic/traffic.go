package traffic

import (
	"container/heap"
	"encoding/hex"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"time"
)

// Config describes the traffic to generate.
type Config struct {
	// Domains is the size of the registered-domain population (default
	// 1,000,000). About 30% of ordinary lookups sweep through it in a
	// fixed order, so a capture of 10 million packets asks about every
	// one; the rest follow a Zipf law over the same population.
	Domains int
	// Seed selects the traffic; the same seed and Domains give the same
	// frames.
	Seed uint64
	// Rate is the average number of packets per second of capture time
	// (default 20,000).
	Rate float64
	// Start is the time of the first packet (default 2024-03-04 09:00 UTC).
	Start time.Time
}

// Stats counts what a Generator produced.
type Stats struct {
	Packets, Queries, Responses uint64
	// Tunnel counts the frames (queries and responses) of the three
	// tunnels.
	Tunnel uint64
}

// Tunnel domains: the registered domains the three tunnels use.
const (
	IodineDomain  = "cdn-sync.net"     // queries under t1.cdn-sync.net
	Dnscat2Domain = "update-check.org" // hex TXT queries
	ExfilDomain   = "img-static.info"  // slow base32 A queries
)

// Generator produces frames one at a time, in capture-time order.
type Generator struct {
	cfg       Config
	seed      uint64
	rng       *rand.Rand
	domZipf   *rand.Zipf
	hostZipf  *rand.Zipf
	cliZipf   *rand.Zipf
	nameCache map[int]string

	clients           []host
	res4              [2]host
	res6              host
	iodine, dnscat    host
	exfil             host
	next              int64 // time of the next query
	meanGap           float64
	pending           respHeap
	seq               uint64
	sweep, stride     int
	ipID              uint16
	mb                msgBuilder
	query, last       []byte
	free              [][]byte
	dnscatSeq         uint16
	exfilSeq          int
	stats             Stats
	scratch, scratch2 []byte
}

// pendingResp is a response frame waiting for its time.
type pendingResp struct {
	t      int64
	seq    uint64
	frame  []byte
	tunnel bool
}

type respHeap []pendingResp

func (h respHeap) Len() int { return len(h) }
func (h respHeap) Less(i, j int) bool {
	return h[i].t < h[j].t || h[i].t == h[j].t && h[i].seq < h[j].seq
}
func (h respHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *respHeap) Push(x any)   { *h = append(*h, x.(pendingResp)) }
func (h *respHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// New returns a generator for cfg.
func New(cfg Config) *Generator {
	if cfg.Domains <= 0 {
		cfg.Domains = 1_000_000
	}
	if cfg.Domains < len(popular)+10 {
		cfg.Domains = len(popular) + 10
	}
	if cfg.Rate <= 0 {
		cfg.Rate = 20_000
	}
	if cfg.Start.IsZero() {
		cfg.Start = time.Date(2024, 3, 4, 9, 0, 0, 0, time.UTC)
	}
	g := &Generator{cfg: cfg, seed: cfg.Seed, nameCache: map[int]string{}}
	g.rng = rand.New(rand.NewPCG(cfg.Seed, 0x646e73696576))
	g.domZipf = rand.NewZipf(g.rng, 1.07, 2, uint64(cfg.Domains-1))
	g.hostZipf = rand.NewZipf(g.rng, 1.3, 1, uint64(len(hostPrefixes)-1))
	const nClients = 300
	g.cliZipf = rand.NewZipf(g.rng, 1.2, 4, nClients-1)
	for i := 0; i < nClients; i++ {
		h := host{mac: [6]byte{0x02, 0, 0, 0, byte(i >> 8), byte(i)}}
		if i%10 == 9 {
			h.addr = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, 14: byte(i >> 8), 15: byte(i)})
		} else {
			h.addr = netip.AddrFrom4([4]byte{10, 0, byte(1 + i/250), byte(1 + i%250)})
		}
		g.clients = append(g.clients, h)
	}
	g.res4[0] = host{addr: netip.AddrFrom4([4]byte{10, 0, 0, 53}), mac: [6]byte{0x02, 0x53, 0, 0, 0, 1}}
	g.res4[1] = host{addr: netip.AddrFrom4([4]byte{10, 0, 0, 54}), mac: [6]byte{0x02, 0x53, 0, 0, 0, 2}}
	g.res6 = host{addr: netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 0x53}), mac: [6]byte{0x02, 0x53, 0, 0, 0, 3}}
	g.iodine = host{addr: netip.AddrFrom4([4]byte{10, 1, 0, 66}), mac: [6]byte{0x02, 0x66, 0, 0, 0, 1}}
	g.dnscat = host{addr: netip.AddrFrom4([4]byte{10, 1, 0, 77}), mac: [6]byte{0x02, 0x77, 0, 0, 0, 1}}
	g.exfil = host{addr: netip.AddrFrom4([4]byte{10, 1, 0, 88}), mac: [6]byte{0x02, 0x88, 0, 0, 0, 1}}
	g.next = cfg.Start.UnixNano()
	g.meanGap = 2e9 / cfg.Rate // two packets per exchange
	g.stride = coprimeStride(cfg.Domains)
	return g
}

// coprimeStride returns a step near 0.618*n that is coprime with n, so
// that i*stride mod n visits every index once per n steps.
func coprimeStride(n int) int {
	s := int(float64(n)*0.6180339887) | 1
	for gcd(s, n) != 1 {
		s += 2
	}
	return s
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// Stats returns what was generated so far.
func (g *Generator) Stats() Stats { return g.stats }

// Next returns the next frame (Ethernet) and its time in Unix
// nanoseconds. The frame is valid until the next call.
func (g *Generator) Next() (int64, []byte) {
	if g.last != nil {
		g.free = append(g.free, g.last[:0])
		g.last = nil
	}
	g.stats.Packets++
	for {
		if len(g.pending) > 0 && g.pending[0].t <= g.next {
			p := heap.Pop(&g.pending).(pendingResp)
			g.last = p.frame
			g.stats.Responses++
			if p.tunnel {
				g.stats.Tunnel++
			}
			return p.t, p.frame
		}
		if t, f := g.exchange(); f != nil {
			return t, f
		}
	}
}

func (g *Generator) buffer() []byte {
	if n := len(g.free); n > 0 {
		b := g.free[n-1]
		g.free = g.free[:n-1]
		return b
	}
	return make([]byte, 0, 1600)
}

// exchange makes one query (returned) and schedules its response.
func (g *Generator) exchange() (int64, []byte) {
	r := g.rng
	t := g.next
	g.next += int64(r.ExpFloat64()*g.meanGap) + 1
	id := uint16(r.Uint32())
	sport := uint16(1024 + r.IntN(64511))
	g.seq++

	var cli, srv *host
	kind := r.IntN(100000)
	tunnel := kind < 500
	switch {
	case kind < 250:
		cli, srv = &g.iodine, &g.res4[0]
	case kind < 400:
		cli, srv = &g.dnscat, &g.res4[1]
	case kind < 500:
		cli, srv = &g.exfil, &g.res4[0]
	default:
		ci := int(g.cliZipf.Uint64())
		cli = &g.clients[ci]
		if cli.addr.Is4() {
			srv = &g.res4[ci%2]
		} else {
			srv = &g.res6
		}
	}
	edns := tunnel || r.IntN(10) < 7
	m := &g.mb

	// The query and its answer are decided together.
	var qname string
	var qtype uint16
	var answer func(m *msgBuilder) uint8 // writes answers, returns the RCODE
	latency := int64(100e3 + r.IntN(1400e3))
	if r.IntN(100) < 35 {
		latency = int64(3e6 + r.IntN(117e6))
	}
	answered := r.IntN(1000) >= 5
	switch {
	case kind < 250:
		qname, qtype, answer = g.iodineQuery()
		latency = int64(20e6 + r.IntN(180e6))
		answered = true
	case kind < 400:
		qname, qtype, answer = g.dnscatQuery()
		latency = int64(20e6 + r.IntN(180e6))
		answered = true
	case kind < 500:
		qname, qtype, answer = g.exfilQuery()
		latency = int64(20e6 + r.IntN(180e6))
		answered = true
	case kind < 6500:
		qname, qtype, answer = g.ptr4Query()
	case kind < 8500:
		qname, qtype, answer = g.ptr6Query()
	case kind < 10500:
		qname, qtype, answer = g.dnsblQuery()
	case kind < 18500:
		qname, qtype, answer = g.cdnQuery()
	case kind < 19500:
		qname, qtype, answer = g.miscQuery()
	default:
		qname, qtype, answer = g.ordinaryQuery()
	}

	// Query.
	m.start(g.query, id, 0x0100)
	m.question(qname, qtype)
	if edns {
		m.opt()
	}
	g.query = m.finish()
	g.ipID++
	qf := udpFrame(g.buffer(), cli, srv, sport, 53, g.ipID, g.query)
	g.last = qf
	g.stats.Queries++
	if tunnel {
		g.stats.Tunnel++
	}

	if answered {
		m.start(g.scratch, id, 0x8180)
		m.question(qname, qtype)
		rcode := answer(m)
		m.b[3] |= rcode
		if edns {
			m.opt()
		}
		g.scratch = m.finish()
		g.ipID++
		rf := udpFrame(g.buffer(), srv, cli, 53, sport, g.ipID, g.scratch)
		heap.Push(&g.pending, pendingResp{t: t + latency, seq: g.seq, frame: rf, tunnel: tunnel})
	}
	return t, qf
}

func (g *Generator) ttl() uint32 {
	return [...]uint32{20, 60, 60, 300, 300, 300, 600, 3600, 3600, 86400}[g.rng.IntN(10)]
}

func (g *Generator) a(m *msgBuilder, name string) {
	s := m.rr(name, typeA, g.ttl())
	x := g.rng.Uint32()
	m.b = append(m.b, byte(23+x%180), byte(x>>8), byte(x>>16), byte(1+x>>24%254))
	m.end(s)
}

func (g *Generator) aaaa(m *msgBuilder, name string) {
	s := m.rr(name, typeAAAA, g.ttl())
	x, y := g.rng.Uint64(), g.rng.Uint64()
	m.b = append(m.b, 0x26, 0x00|byte(x%16), byte(x>>8), byte(x>>16))
	for k := 0; k < 12; k++ {
		m.b = append(m.b, byte(y>>(8*(k%8))))
	}
	m.end(s)
}

func (g *Generator) cname(m *msgBuilder, name, target string) {
	s := m.rr(name, typeCNAME, g.ttl())
	m.name(target)
	m.end(s)
}

func (g *Generator) addrs(m *msgBuilder, name string, qtype uint16, n int) {
	for k := 0; k < n; k++ {
		if qtype == typeAAAA {
			g.aaaa(m, name)
		} else {
			g.a(m, name)
		}
	}
}

// ordinaryQuery is a lookup of a host of a registered domain.
func (g *Generator) ordinaryQuery() (string, uint16, func(*msgBuilder) uint8) {
	r := g.rng
	var di int
	if r.IntN(100) < 30 {
		di = int(uint64(g.sweep) * uint64(g.stride) % uint64(g.cfg.Domains))
		g.sweep++
	} else {
		di = int(g.domZipf.Uint64())
	}
	d := g.domainName(di)
	name := g.hostName(di, d)
	var qtype uint16
	switch x := r.IntN(100); {
	case x < 55:
		qtype = typeA
	case x < 85:
		qtype = typeAAAA
	case x < 92:
		qtype = typeHTTPS
	case x < 95:
		qtype = typeMX
		name = d
	case x < 98:
		qtype = typeTXT
		name = d
	default:
		qtype = typeNS
		name = d
	}
	rc := r.IntN(1000)
	return name, qtype, func(m *msgBuilder) uint8 {
		switch {
		case rc < 30:
			return rcodeNXDomain
		case rc < 33:
			return rcodeServFail
		}
		switch qtype {
		case typeA, typeAAAA:
			if g.rng.IntN(100) < 35 {
				target, kind := cdnName(di, g.seed)
				if kind == 0 {
					// Akamai: host -> host.edgekey.net -> e1234.dscb.akamaiedge.net
					mid := name + ".edgekey.net"
					g.cname(m, name, mid)
					g.cname(m, mid, target)
				} else {
					g.cname(m, name, target)
				}
				g.addrs(m, target, qtype, 1+g.rng.IntN(4))
			} else {
				g.addrs(m, name, qtype, 1+g.rng.IntN(3))
			}
		case typeHTTPS:
			if g.rng.IntN(2) == 0 {
				s := m.rr(name, typeHTTPS, g.ttl())
				// SvcPriority 1, TargetName ".", alpn="h2,h3" (RFC 9460).
				m.b = append(m.b, 0, 1, 0, 0, 1, 0, 6, 2, 'h', '2', 2, 'h', '3')
				m.end(s)
			}
		case typeMX:
			for k := 0; k < 1+g.rng.IntN(3); k++ {
				s := m.rr(name, typeMX, g.ttl())
				m.u16(uint16(10 * (k + 1)))
				m.name("mx" + strconv.Itoa(k+1) + "." + d)
				m.end(s)
			}
		case typeTXT:
			g.txt(m, name, "v=spf1 include:_spf."+d+" ip4:192.0.2.0/24 ~all")
			if g.rng.IntN(2) == 0 {
				g.txt(m, name, "google-site-verification="+g.token(43))
			}
		case typeNS:
			g.ns(m, name, "ns1."+d)
			g.ns(m, name, "ns2."+d)
		}
		return rcodeNoError
	}
}

func (g *Generator) ns(m *msgBuilder, name, target string) {
	s := m.rr(name, typeNS, 172800)
	m.name(target)
	m.end(s)
}

// txt writes a TXT record of one or more character-strings.
func (g *Generator) txt(m *msgBuilder, name, text string) {
	s := m.rr(name, typeTXT, g.ttl())
	for len(text) > 0 {
		n := min(len(text), 255)
		m.b = append(m.b, byte(n))
		m.b = append(m.b, text[:n]...)
		text = text[n:]
	}
	m.end(s)
}

const b64url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func (g *Generator) token(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = b64url[g.rng.IntN(64)]
	}
	return string(b)
}

// cdnQuery asks directly for a CDN host (browsers follow links to them).
func (g *Generator) cdnQuery() (string, uint16, func(*msgBuilder) uint8) {
	r := g.rng
	var name string
	switch x := r.IntN(10); {
	case x < 4:
		name = g.googleVideo()
	default:
		name, _ = cdnName(int(g.domZipf.Uint64()), g.seed)
	}
	qtype := uint16(typeA)
	if r.IntN(3) == 0 {
		qtype = typeAAAA
	}
	return name, qtype, func(m *msgBuilder) uint8 {
		g.addrs(m, name, qtype, 1+g.rng.IntN(4))
		return rcodeNoError
	}
}

// ptr4Query is a reverse lookup of an IPv4 address (RFC 1035 section 3.5).
func (g *Generator) ptr4Query() (string, uint16, func(*msgBuilder) uint8) {
	x := g.rng.Uint32()
	a, b, c, d := byte(x>>24), byte(x>>16), byte(x>>8), byte(x)
	if a < 16 {
		a, b = 10, b%4 // internal addresses
	}
	name := strconv.Itoa(int(d)) + "." + strconv.Itoa(int(c)) + "." + strconv.Itoa(int(b)) + "." + strconv.Itoa(int(a)) + ".in-addr.arpa"
	nx := g.rng.IntN(100) < 30
	return name, typePTR, func(m *msgBuilder) uint8 {
		if nx {
			return rcodeNXDomain
		}
		s := m.rr(name, typePTR, g.ttl())
		ip := strconv.Itoa(int(a)) + "-" + strconv.Itoa(int(b)) + "-" + strconv.Itoa(int(c)) + "-" + strconv.Itoa(int(d))
		switch x % 3 {
		case 0:
			m.name("ec2-" + ip + ".eu-central-1.compute.amazonaws.com")
		case 1:
			m.name("host-" + ip + ".dsl." + g.domainName(int(x%5000)+len(popular)))
		default:
			m.name(ip + ".static." + g.domainName(int(x%20000)+len(popular)))
		}
		m.end(s)
		return rcodeNoError
	}
}

// ptr6Query is a reverse lookup of an IPv6 address (RFC 3596 section 2.5):
// 32 nibble labels.
func (g *Generator) ptr6Query() (string, uint16, func(*msgBuilder) uint8) {
	const hexd = "0123456789abcdef"
	x, y := g.rng.Uint64(), g.rng.Uint64()
	if x%2 == 0 {
		y &= 0xFFFF // a host with a short interface identifier
	}
	prefix := uint64(0x2a00145000000000) | x>>36<<8
	b := make([]byte, 0, 73+8)
	for _, w := range [2]uint64{y, prefix} {
		for k := 0; k < 16; k++ {
			b = append(b, hexd[w>>(4*k)&15], '.')
		}
	}
	name := string(b) + "ip6.arpa"
	nx := g.rng.IntN(100) < 50
	return name, typePTR, func(m *msgBuilder) uint8 {
		if nx {
			return rcodeNXDomain
		}
		s := m.rr(name, typePTR, g.ttl())
		m.name("host" + strconv.Itoa(int(y%9000)) + ".v6." + g.domainName(int(x%20000)+len(popular)))
		m.end(s)
		return rcodeNoError
	}
}

var dnsbls = [...]string{"zen.spamhaus.org", "bl.spamcop.net", "b.barracudacentral.org", "dnsbl.sorbs.net", "bl.mailspike.net"}

// dnsblQuery is a mail server's DNSBL lookup (RFC 5782): a reversed IPv4
// address under a list's zone.
func (g *Generator) dnsblQuery() (string, uint16, func(*msgBuilder) uint8) {
	x := g.rng.Uint32()
	name := strconv.Itoa(int(byte(x))) + "." + strconv.Itoa(int(byte(x>>8))) + "." + strconv.Itoa(int(byte(x>>16))) + "." +
		strconv.Itoa(int(byte(x>>24))) + "." + dnsbls[g.rng.IntN(len(dnsbls))]
	listed := g.rng.IntN(100) < 15
	return name, typeA, func(m *msgBuilder) uint8 {
		if !listed {
			return rcodeNXDomain
		}
		s := m.rr(name, typeA, 300)
		m.b = append(m.b, 127, 0, 0, byte(2+g.rng.IntN(10)))
		m.end(s)
		return rcodeNoError
	}
}

// miscQuery is SRV service discovery or a mail-policy TXT lookup.
func (g *Generator) miscQuery() (string, uint16, func(*msgBuilder) uint8) {
	d := g.domainName(int(g.domZipf.Uint64()))
	switch g.rng.IntN(3) {
	case 0:
		name := "_ldap._tcp.dc._msdcs.corp.example.com"
		return name, typeSRV, func(m *msgBuilder) uint8 {
			for k := 1; k <= 2; k++ {
				s := m.rr(name, typeSRV, 600)
				m.u16(0)
				m.u16(100)
				m.u16(389)
				m.name("dc" + strconv.Itoa(k) + ".corp.example.com")
				m.end(s)
			}
			return rcodeNoError
		}
	case 1:
		name := "_dmarc." + d
		return name, typeTXT, func(m *msgBuilder) uint8 {
			g.txt(m, name, "v=DMARC1; p=quarantine; rua=mailto:dmarc@"+d)
			return rcodeNoError
		}
	default:
		name := "selector1._domainkey." + d
		return name, typeTXT, func(m *msgBuilder) uint8 {
			g.txt(m, name, "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"+g.token(300))
			return rcodeNoError
		}
	}
}

const (
	iodineB32 = "abcdefghijklmnopqrstuvwxyz012345" // iodine's base32 alphabet
	stdB32    = "abcdefghijklmnopqrstuvwxyz234567" // RFC 4648 base32, lowercased
)

// labels appends s to b split into labels of at most n bytes.
func labels(b []byte, s []byte, n int) []byte {
	for len(s) > 0 {
		k := min(len(s), n)
		b = append(b, s[:k]...)
		b = append(b, '.')
		s = s[k:]
	}
	return b
}

func (g *Generator) randText(n int, alphabet string) []byte {
	g.scratch2 = g.scratch2[:0]
	for i := 0; i < n; i++ {
		g.scratch2 = append(g.scratch2, alphabet[g.rng.IntN(len(alphabet))])
	}
	return g.scratch2
}

// iodineQuery is an iodine-like upstream packet: user 0's data ("0", a
// 3-character base32 header, a cache-miss counter, base32 data) or a ping
// ("p" and base32), under t1.<IodineDomain>, asking for NULL records
// that carry raw downstream data.
func (g *Generator) iodineQuery() (string, uint16, func(*msgBuilder) uint8) {
	r := g.rng
	var b []byte
	if r.IntN(100) < 25 {
		b = append([]byte{'p'}, g.randText(7, iodineB32)...)
		b = append(b, '.')
	} else {
		data := append([]byte{'0'}, g.randText(3+1+40+r.IntN(140), iodineB32)...)
		b = labels(nil, data, 57)
	}
	name := string(b) + "t1." + IodineDomain
	return name, typeNULL, func(m *msgBuilder) uint8 {
		s := m.rr(name, typeNULL, 0)
		n := 40 + g.rng.IntN(900)
		for k := 0; k < n; k += 8 {
			x := g.rng.Uint64()
			for j := 0; j < 8 && k+j < n; j++ {
				m.b = append(m.b, byte(x>>(8*j)))
			}
		}
		m.end(s)
		return rcodeNoError
	}
}

// dnscat2Packet returns a dnscat2-like MSG packet: packet id, type 0x01,
// session id, sequence and acknowledgement numbers, then data.
func (g *Generator) dnscat2Packet(n int) []byte {
	g.dnscatSeq++
	p := []byte{byte(g.rng.Uint32()), byte(g.rng.Uint32()), 0x01, 0x4e, 0x21,
		byte(g.dnscatSeq >> 8), byte(g.dnscatSeq), byte(g.dnscatSeq >> 9), byte(g.dnscatSeq << 1)}
	for k := 0; k < n; k++ {
		p = append(p, byte(g.rng.Uint32()))
	}
	return p
}

// dnscatQuery is a dnscat2-like TXT exchange: the hex-encoded packet in
// labels of 60 characters before the domain, and a hex TXT answer.
func (g *Generator) dnscatQuery() (string, uint16, func(*msgBuilder) uint8) {
	up := hex.EncodeToString(g.dnscat2Packet(g.rng.IntN(80)))
	name := string(labels(nil, []byte(up), 60)) + Dnscat2Domain
	return name, typeTXT, func(m *msgBuilder) uint8 {
		g.txt(m, name, hex.EncodeToString(g.dnscat2Packet(g.rng.IntN(100))))
		return rcodeNoError
	}
}

// exfilQuery is a slow exfiltration: base32 file data with a sequence
// label, A queries, answered 127.0.0.1 or NXDOMAIN.
func (g *Generator) exfilQuery() (string, uint16, func(*msgBuilder) uint8) {
	g.exfilSeq++
	data := g.randText(30+g.rng.IntN(60), stdB32)
	name := string(labels(nil, data, 52)) + strconv.Itoa(g.exfilSeq) + "." + ExfilDomain
	nx := g.rng.IntN(2) == 0
	return name, typeA, func(m *msgBuilder) uint8 {
		if nx {
			return rcodeNXDomain
		}
		s := m.rr(name, typeA, 0)
		m.b = append(m.b, 127, 0, 0, 1)
		m.end(s)
		return rcodeNoError
	}
}

// DomainOf returns the registered domain of popularity index i, for tests.
func (g *Generator) DomainOf(i int) string { return g.domainName(i) }
