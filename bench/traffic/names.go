package traffic

import (
	"strconv"
)

// popular are the first ranks of the popularity order: real, very busy
// registered domains, so that the head of the distribution looks like a
// resolver's.
var popular = [...]string{
	"google.com", "googleapis.com", "gstatic.com", "facebook.com", "microsoft.com", "apple.com",
	"amazon.com", "icloud.com", "youtube.com", "doubleclick.net", "windows.com", "akamaihd.net",
	"cloudflare.com", "instagram.com", "office.com", "live.com", "msn.com", "bing.com",
	"whatsapp.net", "netflix.com", "amazonaws.com", "googlevideo.com", "github.com", "twitter.com",
	"linkedin.com", "wikipedia.org", "yahoo.com", "zoom.us", "spotify.com", "adobe.com",
	"tiktokcdn.com", "sentry.io", "slack.com", "dropbox.com", "ubuntu.com", "debian.org",
	"mozilla.org", "office365.com", "skype.com", "googlesyndication.com",
}

// syllables spell the synthetic domain words: every word is a sequence of
// consonant-vowel pairs, so distinct indexes give distinct words.
var syllables = func() []string {
	var s []string
	for _, c := range "bcdfghjklmnprstvwz" {
		for _, v := range "aeiou" {
			s = append(s, string(c)+string(v))
		}
	}
	return s
}()

// wordSuffixes are appended to some words; none can be spelled by
// syllables, so uniqueness is kept.
var wordSuffixes = [...]string{"-shop", "-online", "24", "-group", "365", "-tech", "-media", "-news", "-app", "-cloud", "-bank", "-hotel"}

// tlds are public suffixes with rough weights (per mille).
var tlds = [...]struct {
	s string
	w int
}{
	{"com", 450}, {"net", 80}, {"org", 60}, {"de", 60}, {"co.uk", 40}, {"ru", 30}, {"fr", 30},
	{"jp", 20}, {"nl", 20}, {"io", 20}, {"info", 20}, {"com.br", 20}, {"it", 20}, {"pl", 20},
	{"es", 20}, {"com.au", 15}, {"in", 10}, {"ca", 10}, {"xyz", 10}, {"online", 10}, {"cn", 10},
	{"ch", 10}, {"se", 5},
}

// hostPrefixes are the host names most sites have, most common first
// ("" is the domain apex).
var hostPrefixes = [...]string{
	"www", "", "mail", "api", "m", "static", "cdn", "img", "login", "app", "auth", "assets", "media",
	"smtp", "autodiscover", "ns1", "ns2", "blog", "shop", "support", "news", "video", "images", "accounts",
	"portal", "webmail", "vpn", "secure", "docs", "status", "analytics", "metrics", "gateway", "files",
	"download", "update", "s3", "edge", "cdn2", "mx", "imap", "pop", "ftp", "dev", "test", "stage",
}

// hostWords make numbered hosts ("srv12", "web3").
var hostWords = [...]string{"srv", "web", "node", "host", "db", "cache", "proxy", "lb", "app", "mx", "edge", "ws"}

// mix64 is the splitmix64 finaliser: a fixed bijection used to derive
// per-domain properties from an index.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// domainName returns the registered domain of popularity index i.
func (g *Generator) domainName(i int) string {
	if i < len(popular) {
		return popular[i]
	}
	if s, ok := g.nameCache[i]; ok {
		return s
	}
	h := mix64(uint64(i) ^ g.seed)
	b := make([]byte, 0, 32)
	x := uint64(i)
	for k := 0; k < 2 || x > 0; k++ {
		b = append(b, syllables[x%uint64(len(syllables))]...)
		x /= uint64(len(syllables))
	}
	if h%5 == 0 {
		b = append(b, wordSuffixes[(h>>8)%uint64(len(wordSuffixes))]...)
	}
	b = append(b, '.')
	w := int((h >> 16) % 1000)
	tld := "com"
	for _, t := range tlds {
		if w < t.w {
			tld = t.s
			break
		}
		w -= t.w
	}
	b = append(b, tld...)
	s := string(b)
	if i < hotCache {
		g.nameCache[i] = s
	}
	return s
}

// hotCache is how many domain names are remembered (the head of the
// popularity order is asked for again and again).
const hotCache = 1 << 14

// hostName picks a host of domain d (index i).
func (g *Generator) hostName(i int, d string) string {
	r := g.rng
	if r.IntN(100) < 12 {
		// A numbered host: many per domain.
		h := mix64(uint64(i) + g.seed)
		return hostWords[(h+uint64(r.IntN(3)))%uint64(len(hostWords))] + strconv.Itoa(1+r.IntN(1+int(h%40))) + "." + d
	}
	p := hostPrefixes[g.hostZipf.Uint64()]
	if p == "" {
		return d
	}
	return p + "." + d
}

const alnum = "abcdefghijklmnopqrstuvwxyz0123456789"

// cdnName returns the content-delivery host of domain i, of the kind
// chosen by the domain's hash: Akamai, CloudFront or Fastly.
func cdnName(i int, seed uint64) (name string, kind int) {
	h := mix64(uint64(i)*31 + seed)
	switch kind = int(h % 3); kind {
	case 0:
		return "e" + strconv.Itoa(int(h>>8%20000)) + ".dscb.akamaiedge.net", kind
	case 1:
		b := []byte("d")
		x := h >> 8
		for k := 0; k < 13; k++ {
			b = append(b, alnum[x%36])
			x = x/36 ^ mix64(x)
		}
		return string(b) + ".cloudfront.net", kind
	default:
		return "dualstack." + string(alnum[h>>8%26]) + ".sni.global.fastly.net", kind
	}
}

// googleVideo returns a googlevideo cache host name, one of a few
// thousand.
func (g *Generator) googleVideo() string {
	x := mix64(uint64(g.rng.IntN(4000)) + g.seed)
	b := []byte{'r', byte('1' + x%9), '-', '-', '-', 's', 'n', '-'}
	x >>= 4
	for k := 0; k < 8; k++ {
		b = append(b, alnum[x%36])
		x /= 36
	}
	return string(b) + ".googlevideo.com"
}
