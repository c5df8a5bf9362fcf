package train

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// The synthetic set: DNS messages built by code, deterministic for a
// seed, run through the same analysis as captures. Positives are tunnels
// of several encodings and shapes beyond the recorded tools; negatives
// are the benign traffic that looks most like tunnels (CDN host names,
// DNSBL and reverse lookups, hash reputation lookups, Windows suffix
// appends, telemetry identifiers) plus ordinary browsing.

// rng is SplitMix64: tiny, fast and fully specified, so that the
// synthetic set never changes with the Go release.
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// intn returns a number in [0, n).
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// between returns a number in [lo, hi].
func (r *rng) between(lo, hi int) int { return lo + r.intn(hi-lo+1) }

func (r *rng) pick(xs []string) string { return xs[r.intn(len(xs))] }

func (r *rng) chars(set string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = set[r.intn(len(set))]
	}
	return string(b)
}

const (
	b64StdSet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b32Set    = "abcdefghijklmnopqrstuvwxyz234567"
	hexSet    = "0123456789abcdef"
	b64Set    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	alnumSet  = "abcdefghijklmnopqrstuvwxyz0123456789"
)

var words = []string{
	"alpha", "apex", "arc", "atlas", "beam", "blue", "bolt", "bright", "cargo", "cloud", "core", "crest",
	"delta", "drift", "echo", "edge", "ember", "fable", "flow", "forge", "frost", "gale", "grid", "harbor",
	"helix", "iris", "jade", "keen", "lumen", "maple", "mesa", "metro", "nova", "oak", "orbit", "pixel",
	"prime", "pulse", "quill", "rapid", "relay", "ridge", "river", "sage", "scout", "shift", "signal", "solar",
	"spark", "stack", "stone", "swift", "sync", "terra", "tide", "trail", "union", "vault", "vector", "wave",
}

var tlds = []string{"com", "net", "org", "io", "info", "biz", "xyz", "de"}

// chunk splits s into labels of at most n bytes.
func chunk(s string, n int) string {
	var b strings.Builder
	for len(s) > n {
		b.WriteString(s[:n])
		b.WriteByte('.')
		s = s[n:]
	}
	b.WriteString(s)
	return b.String()
}

// DNS wire format (RFC 1035 section 4.1).
const (
	typeA     = 1
	typeNS    = 2
	typeCNAME = 5
	typeNULL  = 10
	typePTR   = 12
	typeMX    = 15
	typeTXT   = 16
	typeAAAA  = 28
	typeSRV   = 33
	typeHTTPS = 65
)

func appendName(b []byte, name string) []byte {
	for _, l := range strings.Split(name, ".") {
		if l == "" {
			continue
		}
		if len(l) > 63 {
			l = l[:63]
		}
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	return append(b, 0)
}

// rr is one answer: its type and RDATA.
type rr struct {
	typ  uint16
	data []byte
}

func aRR(r *rng) rr {
	return rr{typeA, []byte{192, 0, 2, byte(1 + r.intn(250))}}
}

func nameRR(typ uint16, pre []byte, name string) rr {
	return rr{typ, appendName(pre, name)}
}

func txtRR(s string) rr {
	var b []byte
	for len(s) > 255 {
		b = append(append(b, 255), s[:255]...)
		s = s[255:]
	}
	return rr{typeTXT, append(append(b, byte(len(s))), s...)}
}

// message builds a query (answers nil, response false) or a response.
func message(id uint16, response bool, rcode int, name string, qtype uint16, answers []rr) []byte {
	b := make([]byte, 12, 12+len(name)+2+4+len(answers)*32)
	binary.BigEndian.PutUint16(b, id)
	flags := uint16(0x0100) // RD
	if response {
		flags |= 0x8080 | uint16(rcode&0xF) // QR, RA
	}
	binary.BigEndian.PutUint16(b[2:], flags)
	binary.BigEndian.PutUint16(b[4:], 1)
	binary.BigEndian.PutUint16(b[6:], uint16(len(answers)))
	b = appendName(b, name)
	b = binary.BigEndian.AppendUint16(b, qtype)
	b = binary.BigEndian.AppendUint16(b, 1)
	for _, a := range answers {
		b = append(b, 0xC0, 12) // the question name
		b = binary.BigEndian.AppendUint16(b, a.typ)
		b = binary.BigEndian.AppendUint16(b, 1)
		b = binary.BigEndian.AppendUint32(b, 60)
		b = binary.BigEndian.AppendUint16(b, uint16(len(a.data)))
		b = append(b, a.data...)
	}
	return b
}

// scenario generates one synthetic source.
type scenario struct {
	f      *feeder
	r      *rng
	t      int64
	id     uint16
	server netip.Addr
}

var synthEpoch = time.Date(2024, 3, 4, 5, 6, 7, 0, time.UTC).UnixNano()

// exchange sends a query from client i and its response.
func (s *scenario) exchange(client int, name string, qtype uint16, rcode int, answers ...rr) {
	s.id++
	c := netip.AddrFrom4([4]byte{10, 20, byte(client >> 8), byte(client)})
	s.f.message(s.t, c, s.server, message(s.id, false, 0, name, qtype, nil))
	s.t += int64(2+s.r.intn(40)) * int64(time.Millisecond)
	s.f.message(s.t, c, s.server, message(s.id, true, rcode, name, qtype, answers))
}

// wait advances time by between lo and hi milliseconds.
func (s *scenario) wait(lo, hi int) { s.t += int64(s.r.between(lo, hi)) * int64(time.Millisecond) }

// domainName makes a random registered domain.
func (s *scenario) domainName() string {
	return s.r.pick(words) + s.r.pick(words) + "." + s.r.pick(tlds)
}

// family is one kind of synthetic traffic.
type family struct {
	name   string
	tunnel bool
	runs   int
	gen    func(s *scenario, size int)
}

// families lists the synthetic set. Tunnel families are leave-one-tool-out
// groups, benign ones leave-one-network-out groups.
var families = []family{
	{"synthetic-base32", true, 6, genBase32},
	{"synthetic-hex", true, 6, genHex},
	{"synthetic-base64", true, 6, genBase64},
	{"synthetic-slow-exfil", true, 6, genSlowExfil},
	{"synthetic-cdn", false, 4, genCDN},
	{"synthetic-dnsbl", false, 4, genDNSBL},
	{"synthetic-reverse", false, 4, genReverse},
	{"synthetic-hash-lookups", false, 4, genHash},
	{"synthetic-suffix-appends", false, 4, genSuffix},
	{"synthetic-telemetry", false, 4, genTelemetry},
	{"synthetic-browsing", false, 4, genBrowsing},
	{"synthetic-mail-auth", false, 4, genMailAuth},
	{"synthetic-txt-records", false, 4, genTXTRecords},
}

// Synthetic generates the synthetic set for a seed.
func Synthetic(seed int64) *Dataset {
	d := &Dataset{}
	for fi, fam := range families {
		for run := 0; run < fam.runs; run++ {
			r := &rng{s: uint64(seed)*0x100000001b3 + uint64(fi)<<32 + uint64(run)}
			s := &scenario{f: nil, r: r, t: synthEpoch, server: netip.AddrFrom4([4]byte{10, 20, 0, 53})}
			name := fmt.Sprintf("%s-%d", fam.name, run+1)
			src := Source{Name: name, Network: fam.name, Synthetic: true}
			if fam.tunnel {
				src.Tool = fam.name
			}
			s.f = newFeeder(labeler{})
			// Sizes grow with the run: small, slow tunnels first.
			size := []int{25, 60, 150, 400, 900, 2000}[run%6]
			fam.gen(s, size)
			// Every source carries some ordinary browsing, so that tunnel
			// sources have benign domains too.
			if fam.name != "synthetic-browsing" {
				genBrowsing(s, 30)
			}
			samples, tr := s.f.samples(src)
			d.add(src, samples, tr)
		}
	}
	return d
}

// tunnelDomain marks a registered domain as tunnel in a synthetic source.
func (s *scenario) tunnelDomain() string {
	dom := s.domainName()
	if s.f.synthTunnel == nil {
		s.f.synthTunnel = map[string]bool{}
	}
	s.f.synthTunnel[dom] = true
	return dom
}

// genBase32: iodine/dnscat-like upstream in base32 labels up to 63 bytes,
// downstream in TXT, NULL or CNAME answers, with short polls.
func genBase32(s *scenario, size int) {
	zone := "t." + s.tunnelDomain()
	qtypes := []uint16{typeTXT, typeNULL, typeCNAME, typeTXT}
	qt := qtypes[s.r.intn(len(qtypes))]
	lab := s.r.between(50, 63)
	for i := 0; i < size; i++ {
		var name string
		if s.r.intn(4) == 0 { // poll
			name = "p" + s.r.chars(b32Set, 6)
		} else {
			name = string(b32Set[i%32]) + chunk(s.r.chars(b32Set, s.r.between(40, 180)), lab)
		}
		var ans rr
		switch qt {
		case typeTXT:
			ans = txtRR(s.r.chars(b32Set, s.r.between(20, 220)))
		case typeNULL:
			ans = rr{typeNULL, []byte(s.r.chars(b64Set, s.r.between(20, 200)))}
		default:
			ans = nameRR(typeCNAME, nil, chunk(s.r.chars(b32Set, s.r.between(20, 110)), 63)+"."+zone)
		}
		s.exchange(1, name+"."+zone, qt, 0, ans)
		s.wait(20, 800)
	}
}

// genHex: dnscat2-like hex upstream (labels of 30 to 63), TXT, CNAME and
// MX answers carrying hex too.
func genHex(s *scenario, size int) {
	zone := s.tunnelDomain()
	lab := s.r.between(30, 63)
	for i := 0; i < size; i++ {
		name := chunk(s.r.chars(hexSet, s.r.between(18, 200)), lab) + "." + zone
		switch i % 3 {
		case 0:
			s.exchange(1, name, typeTXT, 0, txtRR(s.r.chars(hexSet, s.r.between(18, 200))))
		case 1:
			s.exchange(1, name, typeCNAME, 0, nameRR(typeCNAME, nil, chunk(s.r.chars(hexSet, s.r.between(18, 120)), lab)+"."+zone))
		default:
			s.exchange(1, name, typeMX, 0, nameRR(typeMX, []byte{0, 10}, chunk(s.r.chars(hexSet, s.r.between(18, 120)), lab)+"."+zone))
		}
		s.wait(50, 1500)
	}
}

// genBase64: case-sensitive base64 names over A queries, answered with an
// address or NXDOMAIN (exfiltration scripts).
func genBase64(s *scenario, size int) {
	zone := s.tunnelDomain()
	lab := s.r.between(32, 63)
	for i := 0; i < size; i++ {
		name := chunk(s.r.chars(b64Set, s.r.between(24, 120)), lab) + "." + zone
		if s.r.intn(2) == 0 {
			s.exchange(1, name, typeA, 3)
		} else {
			s.exchange(1, name, typeA, 0, aRR(s.r))
		}
		s.wait(100, 3000)
	}
}

// genSlowExfil: a sequence number and a 32-hex-digit chunk per name, A
// queries at a slow pace, NXDOMAIN (DNSExfiltrator-like).
func genSlowExfil(s *scenario, size int) {
	zone := s.tunnelDomain()
	id := s.r.chars(alnumSet, 4)
	n := size/2 + 12
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("%s-%d.%s.%s", id, i, s.r.chars(hexSet, s.r.between(30, 60)), zone)
		s.exchange(1+s.r.intn(2), name, typeA, 3)
		s.wait(2000, 60000)
	}
}

// genCDN: CDN edge host names, numbered and random-looking, from many
// clients, with repeats and CNAME chains.
func genCDN(s *scenario, size int) {
	hosts := []func() string{
		func() string { return fmt.Sprintf("e%d.a.akamaiedge.net", s.r.between(1, 9999)) },
		func() string { return fmt.Sprintf("a%d.dscg.akamai.net", s.r.between(1, 2000)) },
		func() string {
			return fmt.Sprintf("rr%d---sn-%s%s.googlevideo.com", s.r.between(1, 9), s.r.chars("abcdefghknrsuvz", 4), s.r.chars("0123456789abcdefghknrsuvz", 4))
		},
		func() string { return "d" + s.r.chars("0123456789abcdefghijklmnopqrstuvwxyz", 13) + ".cloudfront.net" },
		func() string {
			return fmt.Sprintf("scontent-%s%d-%d.xx.fbcdn.net", s.r.chars("abcdefghijklmnopqrstuvwxyz", 3), s.r.between(1, 3), s.r.between(1, 9))
		},
	}
	var seen []string
	for i := 0; i < 3*size; i++ {
		var name string
		if len(seen) > 0 && s.r.intn(3) == 0 {
			name = seen[s.r.intn(len(seen))]
		} else {
			name = hosts[s.r.intn(len(hosts))]()
			seen = append(seen, name)
		}
		qt := uint16(typeA)
		if s.r.intn(3) == 0 {
			qt = typeAAAA
		}
		s.exchange(s.r.between(1, 60), name, qt, 0, aRR(s.r))
		s.wait(5, 400)
	}
}

// genDNSBL: mail servers asking DNS blocklists about reversed IPv4
// addresses and domains, mostly NXDOMAIN, some TXT.
func genDNSBL(s *scenario, size int) {
	lists := []string{"zen.spamhaus.org", "bl.spamcop.net", "b.barracudacentral.org", "dnsbl.sorbs.net"}
	for i := 0; i < size; i++ {
		ip := fmt.Sprintf("%d.%d.%d.%d", s.r.between(1, 254), s.r.between(0, 255), s.r.between(0, 255), s.r.between(1, 223))
		for _, l := range lists[:1+s.r.intn(len(lists))] {
			if s.r.intn(10) == 0 {
				s.exchange(1, ip+"."+l, typeA, 0, rr{typeA, []byte{127, 0, 0, byte(2 + s.r.intn(9))}})
				s.exchange(1, ip+"."+l, typeTXT, 0, txtRR("Listed; see https://www.example.org/query/ip/"+ip))
			} else {
				s.exchange(1, ip+"."+l, typeA, 3)
			}
		}
		if s.r.intn(3) == 0 {
			s.exchange(1, s.domainName()+".dbl.spamhaus.org", typeA, 3)
		}
		s.wait(10, 2000)
	}
}

// genReverse: PTR lookups of IPv4 and IPv6 addresses.
func genReverse(s *scenario, size int) {
	for i := 0; i < size; i++ {
		if s.r.intn(3) == 0 {
			var b strings.Builder
			for j := 0; j < 32; j++ {
				if j < 16 {
					b.WriteByte(hexSet[s.r.intn(16)])
				} else {
					b.WriteByte("0123456789abcdef"[[]int{0, 0, 0, 0, 8, 1, 13, 11, 0, 0, 1, 0, 2, 0, 0, 2}[j-16]])
				}
				b.WriteByte('.')
			}
			s.exchange(s.r.between(1, 20), b.String()+"ip6.arpa", typePTR, 3)
		} else {
			name := fmt.Sprintf("%d.%d.%d.%d.in-addr.arpa", s.r.between(1, 254), s.r.between(0, 255), s.r.between(0, 255), []int{10, 172, 192, 93, 151}[s.r.intn(5)])
			if s.r.intn(2) == 0 {
				s.exchange(s.r.between(1, 20), name, typePTR, 0, nameRR(typePTR, nil, fmt.Sprintf("host-%d.%s", s.r.between(1, 999), s.domainName())))
			} else {
				s.exchange(s.r.between(1, 20), name, typePTR, 3)
			}
		}
		s.wait(10, 3000)
	}
}

// genHash: file-reputation lookups: one hash per name in hex or base32.
func genHash(s *scenario, size int) {
	for i := 0; i < size; i++ {
		switch s.r.intn(4) {
		case 0:
			s.exchange(1, s.r.chars(hexSet, 40)+".hash.cymru.com", typeTXT, 3)
		case 1:
			s.exchange(s.r.between(1, 30), s.r.chars(hexSet, 32)+".avqs.mcafee.com", typeA, 0, rr{typeA, []byte{127, 0, 0, 1}})
		case 2:
			s.exchange(1, s.r.chars(b32Set, 32)+"._file.hbl.dq.spamhaus.net", typeA, 3)
		default:
			s.exchange(s.r.between(1, 30), fmt.Sprintf("%s.%d.sophosxl.net", s.r.chars(hexSet, 32), s.r.between(1, 4)), typeA, 0, rr{typeA, []byte{127, 0, 0, 0}})
		}
		s.wait(10, 5000)
	}
}

// genSuffix: Windows search-suffix appends (names tried under the local
// domains), AD service records and WPAD, mostly NXDOMAIN.
func genSuffix(s *scenario, size int) {
	corp := s.domainName()
	suffixes := []string{corp, "corp." + corp, "ad." + corp}
	hosts := []string{}
	for i := 0; i < size/3+10; i++ {
		hosts = append(hosts, fmt.Sprintf("%s-%s%02d", s.r.pick([]string{"ws", "srv", "lt", "pc", "print", "nas"}), s.r.pick(words), s.r.intn(100)))
	}
	ext := []string{"google.com", "office365.com", "github.com", "slack.com", "zoom.us", "windowsupdate.com"}
	for i := 0; i < size; i++ {
		c := s.r.between(1, 40)
		switch s.r.intn(5) {
		case 0:
			s.exchange(c, s.r.pick(hosts)+"."+s.r.pick(suffixes), typeA, 0, aRR(s.r))
		case 1:
			s.exchange(c, "www."+s.r.pick(ext)+"."+s.r.pick(suffixes), typeA, 3)
		case 2:
			s.exchange(c, s.r.pick(hosts)+"."+s.r.pick(hosts)+"."+s.r.pick(suffixes), typeAAAA, 3)
		case 3:
			s.exchange(c, s.r.pick([]string{"_ldap._tcp.dc._msdcs.", "_kerberos._udp.", "_ldap._tcp.default-first-site-name._sites.dc._msdcs.", "_gc._tcp."})+corp,
				typeSRV, 0, nameRR(typeSRV, []byte{0, 0, 0, 100, 1, 133}, "dc1."+corp))
		default:
			s.exchange(c, "wpad."+s.r.pick(suffixes), typeA, 3)
		}
		s.wait(5, 1000)
	}
}

// genTelemetry: identifiers in names (UUIDs, numbered couriers, region
// codes), DKIM and NTP pools.
func genTelemetry(s *scenario, size int) {
	for i := 0; i < size; i++ {
		c := s.r.between(1, 50)
		switch s.r.intn(5) {
		case 0:
			u := s.r.chars(hexSet, 8) + "-" + s.r.chars(hexSet, 4) + "-" + s.r.chars(hexSet, 4) + "-" + s.r.chars(hexSet, 4) + "-" + s.r.chars(hexSet, 12)
			s.exchange(c, u+".events.telemetry-example.net", typeA, 0, aRR(s.r))
		case 1:
			s.exchange(c, fmt.Sprintf("%d-courier.push.apple.com", s.r.between(1, 50)), typeA, 0,
				nameRR(typeCNAME, nil, fmt.Sprintf("%d-courier.push-apple.com.akadns.net", s.r.between(1, 50))), aRR(s.r))
		case 2:
			s.exchange(c, fmt.Sprintf("%s._domainkey.%s", s.r.pick([]string{"selector1", "selector2", "google", "s1", "k1", "mail"}), s.domainName()), typeTXT, 0,
				txtRR("v=DKIM1; k=rsa; p="+s.r.chars(b64Set, 200)))
		case 3:
			s.exchange(c, fmt.Sprintf("%d.%s.pool.ntp.org", s.r.intn(4), s.r.pick([]string{"debian", "centos", "ubuntu", "android", "europe", "north-america"})), typeA, 0, aRR(s.r), aRR(s.r))
		default:
			s.exchange(c, fmt.Sprintf("%s-%s-%d.%s.example-saas.com", s.r.pick([]string{"eu", "us", "ap"}), s.r.pick([]string{"west", "east", "central"}), s.r.between(1, 40), s.r.pick([]string{"api", "edge", "gw"})), typeA, 0, aRR(s.r))
		}
		s.wait(5, 1500)
	}
}

// genBrowsing: ordinary host names under big sites, many repeats, A, AAAA
// and HTTPS queries with CNAME chains.
func genBrowsing(s *scenario, size int) {
	sites := []string{"google.com", "youtube.com", "microsoft.com", "amazon.com", "wikipedia.org", "github.com", "bbc.co.uk", "office.net"}
	subs := []string{"www", "mail", "api", "login", "static", "img", "images", "cdn", "news", "docs", "drive", "accounts", "play",
		"maps", "store", "support", "status", "assets", "media", "video", "auth", "search", "ads", "clients1", "clients2", "update"}
	for i := 0; i < 4*size; i++ {
		site := sites[s.r.intn(len(sites))]
		name := s.r.pick(subs) + "." + site
		if s.r.intn(4) == 0 {
			name = s.r.pick(subs) + "-" + s.r.pick([]string{"eu", "us", "prod", "edge"}) + fmt.Sprint(s.r.intn(20)) + "." + site
		}
		qt := []uint16{typeA, typeA, typeAAAA, typeHTTPS}[s.r.intn(4)]
		s.exchange(s.r.between(1, 80), name, qt, 0, nameRR(typeCNAME, nil, "edge."+site+".cdn.example.net"), aRR(s.r))
		s.wait(5, 600)
	}
}

// b64Blob is n characters of standard base64 with its padding.
func (r *rng) b64Blob(n int) string {
	s := r.chars(b64StdSet, n)
	switch n % 4 {
	case 2:
		s += "=="
	case 3:
		s += "="
	}
	return s
}

// genMailAuth: a mail server checking SPF, DKIM and DMARC of the domains
// that send to it (each fetched again and again, 2048-bit DKIM keys split
// over two strings, the second without a tag), and DKIM keys of an email
// service's customers under one domain (a token name each).
func genMailAuth(s *scenario, size int) {
	type sender struct{ dom, selector, key string }
	var senders []sender
	for i := 0; i < size/4+5; i++ {
		senders = append(senders, sender{s.domainName(), s.r.pick([]string{"selector1", "google", "s1", "k1", "mail", "dkim"}),
			"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" + s.r.chars(b64StdSet, 348) + "IDAQAB"})
	}
	tokens := make([]string, size/3+10)
	for i := range tokens {
		tokens[i] = s.r.chars(alnumSet, 32)
	}
	for i := 0; i < size; i++ {
		c := s.r.between(1, 3)
		snd := senders[s.r.intn(len(senders))]
		s.exchange(c, snd.dom, typeTXT, 0, txtRR("v=spf1 include:_spf."+s.r.pick(words)+".com ip4:192.0.2.0/24 ~all"))
		key := "v=DKIM1; k=rsa; p=" + snd.key
		s.exchange(c, snd.selector+"._domainkey."+snd.dom, typeTXT, 0, rr{typeTXT, append(txtRR(key[:250]).data, txtRR(key[250:]).data...)})
		s.exchange(c, "_dmarc."+snd.dom, typeTXT, 0, txtRR("v=DMARC1; p=quarantine; rua=mailto:dmarc@"+snd.dom))
		if s.r.intn(3) == 0 {
			tok := tokens[s.r.intn(len(tokens))]
			s.exchange(c, tok+".dkim.amazonses.com", typeTXT, 0, txtRR("p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQ"+s.r.chars(b64StdSet, 180)+"IDAQAB"))
		}
		s.wait(50, 5000)
	}
}

// genTXTRecords: other text records with tokens and keys: ACME DNS-01
// challenges for many host names of one company (a token each), an ESNI
// key that rotates, verification tokens, and IP-to-ASN lookups answered
// in prose.
func genTXTRecords(s *scenario, size int) {
	corp := s.domainName()
	hosts := make([]string, size/20+3)
	tokens := make([]string, len(hosts))
	for i := range hosts {
		hosts[i] = fmt.Sprintf("%s%d", s.r.pick(words), s.r.intn(50))
		tokens[i] = s.r.chars(b64Set, 43)
	}
	esni := s.r.b64Blob(98)
	verification := "google-site-verification=" + s.r.chars(b64Set, 43)
	for i := 0; i < size; i++ {
		c := s.r.between(1, 40)
		switch s.r.intn(4) {
		case 0:
			// Each validation asks a few times; a renewal gets a new token.
			h := s.r.intn(len(hosts))
			if s.r.intn(8) == 0 {
				tokens[h] = s.r.chars(b64Set, 43)
			}
			s.exchange(c, "_acme-challenge."+hosts[h]+"."+corp, typeTXT, 0, txtRR(tokens[h]))
		case 1:
			if i%200 == 199 {
				esni = s.r.b64Blob(98)
			}
			s.exchange(c, "_esni.www."+corp, typeTXT, 0, txtRR(esni))
		case 2:
			s.exchange(c, corp, typeTXT, 0, txtRR(verification), txtRR("MS=ms"+fmt.Sprint(s.r.between(10000000, 99999999))))
		default:
			ip := fmt.Sprintf("%d.%d.%d.%d", s.r.between(1, 254), s.r.between(0, 255), s.r.between(0, 255), s.r.between(1, 223))
			s.exchange(c, ip+".origin.asn.cymru.com", typeTXT, 0, txtRR(fmt.Sprintf("%d | %s.0/24 | US | arin | 2009-0%d-1%d", s.r.between(1000, 65000), ip, s.r.between(1, 9), s.r.between(0, 9))))
		}
		s.wait(5, 3000)
	}
}
