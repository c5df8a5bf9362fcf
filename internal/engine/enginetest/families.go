// Package enginetest holds benign traffic families that look like DNS
// tunnels to a naive detector (random-looking CDN labels, DNSBL and PTR
// lookups, reputation-service hashes, browser probes under the search
// domain). The engine's tests and the learned model's tests feed each
// family and require that no domain is judged medium or high.
//
// It imports nothing from the engine, so that the engine's own tests can
// use it: a family calls a Lookup that the test turns into observations.
package enginetest

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Lookup feeds one query and its response: the name asked, when, by
// which client, its type, the response code and the bytes of answer data.
type Lookup func(name string, at time.Time, client string, qtype uint16, rcode uint8, answerBytes int)

// Family is one kind of benign traffic: Feed sends it through lookup,
// drawing its randomness from rng so that a seed fixes it.
type Family struct {
	Name string
	Feed func(lookup Lookup, rng *rand.Rand)
}

// DNS record types the families ask for.
const (
	typeA   = 1
	typePTR = 12
	typeTXT = 16
	typeSRV = 33

	typeSMIMEA     = 53
	typeOPENPGPKEY = 61
)

// start is when every family's traffic begins.
var start = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// client is one of a thousand office hosts.
func client(rng *rand.Rand) string { return fmt.Sprintf("10.0.%d.%d", rng.IntN(4), 1+rng.IntN(250)) }

// at is the time of the i-th lookup: one every 700 ms.
func at(i int) time.Time { return start.Add(time.Duration(i) * 700 * time.Millisecond) }

// randomLetters returns n random lowercase letters.
func randomLetters(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for j := range b {
		b[j] = byte('a' + rng.IntN(26))
	}
	return string(b)
}

// HardNegatives are the benign families, each a few thousand lookups.
var HardNegatives = []Family{
	{Name: "akamai edge names", Feed: func(lookup Lookup, rng *rand.Rand) {
		for i := 0; i < 5000; i++ {
			lookup(fmt.Sprintf("e%d.%s.akamaiedge.net", 1000+rng.IntN(9000), []string{"dscb", "dscx", "b", "a", "g"}[rng.IntN(5)]), at(i), client(rng), typeA, 0, 16)
		}
	}},
	{Name: "googlevideo", Feed: func(lookup Lookup, rng *rand.Rand) {
		const alnum = "abcdefghijklmnopqrstuvwxyz0123456789"
		for i := 0; i < 5000; i++ {
			var b strings.Builder
			for j := 0; j < 8; j++ {
				b.WriteByte(alnum[rng.IntN(len(alnum))])
			}
			lookup(fmt.Sprintf("r%d---sn-%s.googlevideo.com", 1+rng.IntN(20), b.String()), at(i), client(rng), typeA, 0, 16)
		}
	}},
	{Name: "cloudfront", Feed: func(lookup Lookup, rng *rand.Rand) {
		for i := 0; i < 5000; i++ {
			lookup(fmt.Sprintf("d%013x.cloudfront.net", rng.Uint64()&0xfffffffffffff), at(i), client(rng), typeA, 0, 64)
		}
	}},
	{Name: "DNSBL from a busy mail server", Feed: func(lookup Lookup, rng *rand.Rand) {
		for i := 0; i < 20000; i++ {
			lookup(fmt.Sprintf("%d.%d.%d.%d.zen.spamhaus.org", rng.IntN(256), rng.IntN(256), rng.IntN(256), 1+rng.IntN(254)), at(i), "10.0.0.25", typeA, 3, 0)
		}
	}},
	{Name: "Team Cymru ASN lookups", Feed: func(lookup Lookup, rng *rand.Rand) {
		for i := 0; i < 5000; i++ {
			lookup(fmt.Sprintf("%d.%d.%d.%d.origin.asn.cymru.com", rng.IntN(256), rng.IntN(256), rng.IntN(256), rng.IntN(256)), at(i), "10.0.0.26", typeTXT, 0, 60)
		}
	}},
	{Name: "ip6.arpa PTR", Feed: func(lookup Lookup, rng *rand.Rand) {
		for i := 0; i < 5000; i++ {
			var nib []string
			for j := 0; j < 32; j++ {
				nib = append(nib, fmt.Sprintf("%x", rng.IntN(16)))
			}
			lookup(strings.Join(nib, ".")+".ip6.arpa", at(i), client(rng), typePTR, 0, 40)
		}
	}},
	{Name: "antivirus hash lookups", Feed: func(lookup Lookup, rng *rand.Rand) {
		for i := 0; i < 6000; i++ {
			sum := sha1.Sum([]byte(fmt.Sprint(rng.Uint64())))
			lookup(hex.EncodeToString(sum[:])+".v2.avqs.example-av.com", at(i), client(rng), typeA, 0, 4)
			md5ish := hex.EncodeToString(sum[:16])
			lookup("0."+md5ish+".1.fs.sophosxl.example", at(i), client(rng), typeA, 3, 0)
		}
	}},
	{Name: "DKIM and SRV", Feed: func(lookup Lookup, rng *rand.Rand) {
		for i := 0; i < 3000; i++ {
			lookup(fmt.Sprintf("selector%d._domainkey.example%d.com", 1+rng.IntN(2), rng.IntN(50)), at(i), "10.0.0.25", typeTXT, 0, 400)
			lookup("_ldap._tcp.dc._msdcs.corp.example.org", at(i), client(rng), typeSRV, 0, 60)
			lookup("_kerberos._udp.corp.example.org", at(i), client(rng), typeSRV, 0, 60)
		}
	}},
	{Name: "Windows search-suffix appends", Feed: func(lookup Lookup, rng *rand.Rand) {
		hosts := []string{"www.google.com", "login.microsoftonline.com", "teams.microsoft.com", "outlook.office365.com", "github.com", "slack.com", "zoom.us", "wpad", "isatap", "fileserver", "printer3", "intranet", "api.weather.gov"}
		for i := 0; i < 5000; i++ {
			h := hosts[rng.IntN(len(hosts))]
			if rng.IntN(2) == 0 {
				h = fmt.Sprintf("%s%d", []string{"pc", "laptop", "desktop", "srv"}[rng.IntN(4)], rng.IntN(400))
			}
			lookup(h+".corp.example.com", at(i), client(rng), typeA, 3, 0)
		}
	}},
	// Chromium probes for DNS hijacking at start-up and on every network
	// change: three random names of 7 to 15 lowercase letters, which a
	// Windows or search-list resolver suffixes with the local domain, so
	// that a busy office sends thousands of unique random NXDOMAIN names
	// under its own zone (Chromium's intranet redirect detector,
	// chrome/browser/intranet_redirect_detector.cc).
	{Name: "Chromium hijack probes under the search domain", Feed: func(lookup Lookup, rng *rand.Rand) {
		for i := 0; i < 6000; i++ {
			lookup(randomLetters(rng, 7+rng.IntN(9))+".corp.example.com", at(i), client(rng), typeA, 3, 0)
			if i%3 == 0 {
				lookup(fmt.Sprintf("pc%d.corp.example.com", rng.IntN(300)), at(i), client(rng), typeA, 0, 16)
			}
		}
	}},
	{Name: "Chromium hijack probes from one host over a day", Feed: func(lookup Lookup, rng *rand.Rand) {
		// One laptop changing networks all day: probes in bursts of three.
		for i := 0; i < 600; i++ {
			lookup(randomLetters(rng, 7+rng.IntN(9))+".home.example.net", start.Add(time.Duration(i/3)*2*time.Minute), "10.0.9.9", typeA, 3, 0)
		}
	}},
	// Pods resolve with ndots:5 and a search path of three cluster zones,
	// so every outside name is first asked, and denied, under each of
	// them: the cluster's own zone then holds every name the cluster
	// looks up, CDN hashes and reputation digests included (Kubernetes
	// "DNS for Services and Pods", the default resolv.conf of a pod).
	// Judged on its names alone it looks like a channel: the hand-set
	// points judged it medium, and the learned model crossed its medium
	// line past 100,000 outside names. Each pod then asks the name on its
	// own, which credits the zone's names as search-path expansions
	// (engine/expand.go): neither judge calls it more than suspicious.
	{Name: "Kubernetes search-path expansion", Feed: func(lookup Lookup, rng *rand.Rand) {
		sum := sha1.Sum([]byte("seed"))
		for i := 0; i < 3000; i++ {
			var name string
			switch rng.IntN(4) {
			case 0:
				name = fmt.Sprintf("d%013x.cloudfront.net", rng.Uint64()&0xfffffffffffff)
			case 1:
				sum = sha1.Sum(sum[:])
				name = hex.EncodeToString(sum[:]) + ".v2.avqs.example-av.com"
			case 2:
				name = fmt.Sprintf("r%d---sn-%s.googlevideo.com", 1+rng.IntN(20), randomLetters(rng, 8))
			default:
				name = []string{"api.github.com", "registry-1.docker.io", "sts.amazonaws.com", "pypi.org"}[rng.IntN(4)]
			}
			pod := fmt.Sprintf("10.244.%d.%d", rng.IntN(8), 2+rng.IntN(200))
			ns := []string{"default", "payments", "monitoring"}[rng.IntN(3)]
			for _, search := range []string{ns + ".svc.cluster.local", "svc.cluster.local", "cluster.local"} {
				lookup(name+"."+search, at(i), pod, typeA, 3, 0)
			}
			lookup(name, at(i), pod, typeA, 0, 16)
		}
	}},
	{Name: "Spamhaus DQS hash lookups with an account key", Feed: func(lookup Lookup, rng *rand.Rand) {
		// Spamhaus's Data Query Service puts the subscriber's 26-character
		// key between the hash list's name and the hash: mailbox hashes
		// are base32 of SHA-1 (32 characters), file hashes base32 of
		// SHA-256 (52).
		const key = "k3y9x7mq2pw8z4rt6v0b1n5c8d"
		b32 := base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)
		for i := 0; i < 400; i++ {
			sum := sha1.Sum([]byte(fmt.Sprintf("user%d@example%d.com", rng.IntN(10000), rng.IntN(300))))
			lookup(b32.EncodeToString(sum[:])+"._email."+key+".hbl.dq.spamhaus.net", at(i), "10.0.0.25", typeA, 3, 0)
			file := sha256.Sum256([]byte(fmt.Sprint(rng.Uint64())))
			lookup(b32.EncodeToString(file[:])+"._file."+key+".hbl.dq.spamhaus.net", at(i), "10.0.0.25", typeA, 3, 0)
		}
	}},
	{Name: "OPENPGPKEY and SMIMEA discovery from a mail gateway", Feed: func(lookup Lookup, rng *rand.Rand) {
		// RFC 7929 and RFC 8162: the SHA-256 of the mailbox's local part,
		// cut to 28 bytes (56 hex characters), under _openpgpkey or
		// _smimecert of the recipient's domain.
		for i := 0; i < 300; i++ {
			sum := sha256.Sum256([]byte(fmt.Sprintf("user%d", rng.IntN(5000))))
			domain := fmt.Sprintf("partner%d.example", rng.IntN(5))
			lookup(hex.EncodeToString(sum[:28])+"._openpgpkey."+domain, at(i), "10.0.0.25", typeOPENPGPKEY, 3, 0)
			lookup(hex.EncodeToString(sum[:28])+"._smimecert."+domain, at(i), "10.0.0.25", typeSMIMEA, 3, 0)
		}
	}},
	{Name: "addresses written with dashes (plex.direct, EC2 host names)", Feed: func(lookup Lookup, rng *rand.Rand) {
		// Plex media servers answer for <address with dashes>.<server
		// key>.plex.direct; EC2 names its hosts ip-10-0-1-2 and
		// ec2-54-1-2-3.
		keys := []string{"7f8c2d4e1a3b5c6d9e0f1a2b3c4d5e6f", "0a1b2c3d4e5f60718293a4b5c6d7e8f9"}
		for i := 0; i < 1500; i++ {
			ip := fmt.Sprintf("%d-%d-%d-%d", []int{10, 192, 172, 84}[rng.IntN(4)], rng.IntN(256), rng.IntN(256), 1+rng.IntN(254))
			lookup(ip+"."+keys[rng.IntN(len(keys))]+".plex.direct", at(i), client(rng), typeA, 0, 16)
			lookup(fmt.Sprintf("ip-10-0-%d-%d.ec2.example-cloud.com", rng.IntN(256), 1+rng.IntN(254)), at(i), client(rng), typeA, 0, 16)
		}
	}},
	{Name: "telemetry endpoints", Feed: func(lookup Lookup, rng *rand.Rand) {
		for i := 0; i < 5000; i++ {
			lookup([]string{"v10.events.data.microsoft.com", "settings-win.data.microsoft.com", "self.events.data.microsoft.com", "watson.telemetry.microsoft.com"}[rng.IntN(4)], at(i), client(rng), typeA, 0, 60)
		}
	}},
}
