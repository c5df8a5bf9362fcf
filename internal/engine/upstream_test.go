package engine

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestUpstreamFloor: each of the floor's conditions holds it back alone.
func TestUpstreamFloor(t *testing.T) {
	denied := Features{
		Queries: 2000, Responses: 2000, Lookups: 2000, Unique: 2000, UniqueRatio: 1,
		DataNames: 2000, InfoBytes: 20000, PeakDayInfo: 20000, Seconds: 3600,
		Clients: 1, NXShare: 1, PeakWinUnique: 2000,
	}
	addressed := func(f *Features) { f.NXShare, f.AnswerAddresses, f.AnswerBytes = 0, 1, 4 }
	big := func(f *Features) { f.InfoBytes, f.PeakDayInfo = 70000, 70000 }
	for _, c := range []struct {
		name   string
		change func(f *Features)
		want   Severity
	}{
		{"denied", func(*Features) {}, SeverityMedium},
		{"answered with nothing (NODATA)", func(f *Features) { f.NXShare = 0 }, SeverityMedium},
		{"three clients", func(f *Features) { f.Clients = 3 }, SeverityMedium},
		{"four clients", func(f *Features) { f.Clients = 4 }, SeverityNone},
		{"20 KB answered with one address", addressed, SeverityNone},
		{"70 KB answered with one address", func(f *Features) { addressed(f); big(f) }, SeverityMedium},
		{"70 KB answered with three addresses", func(f *Features) { addressed(f); big(f); f.AnswerAddresses = 3 }, SeverityMedium},
		{"70 KB answered with four addresses", func(f *Features) { addressed(f); big(f); f.AnswerAddresses = 4 }, SeverityNone},
		{"70 KB, an AAAA answer each", func(f *Features) { addressed(f); big(f); f.AnswerBytes = 16 }, SeverityMedium},
		{"70 KB, a CNAME and an address each", func(f *Features) { addressed(f); big(f); f.AnswerBytes = 40 }, SeverityNone},
		// Another client's lookup of a name that exists: one CNAME chain
		// among the denials is not the channel's answer.
		{"70 KB denied but one response, a CNAME chain", func(f *Features) {
			big(f)
			f.NXShare, f.AnswerAddresses, f.AnswerBytes = 1999.0/2000, 1, 120.0/2000
		}, SeverityMedium},
		{"20 KB denied but one response, a CNAME chain", func(f *Features) { f.NXShare, f.AnswerAddresses, f.AnswerBytes = 1999.0/2000, 1, 120.0/2000 }, SeverityNone},
		{"70 KB, a CNAME and an address in one response of ten", func(f *Features) {
			big(f)
			f.NXShare, f.AnswerAddresses, f.AnswerBytes = 0.9, 1, 4
		}, SeverityNone},
		{"70 KB answered with one address, 599 new names at most in a window", func(f *Features) { addressed(f); big(f); f.PeakWinUnique = 599 }, SeverityNone},
		{"70 KB answered with one address, 600 new names in a window", func(f *Features) { addressed(f); big(f); f.PeakWinUnique = 600 }, SeverityMedium},
		{"denied, 100 new names at most in a window", func(f *Features) { f.PeakWinUnique = 100 }, SeverityMedium},
		{"70 KB answered with one address, 599 new names in a window of 10 minutes", func(f *Features) { addressed(f); big(f); f.PeakWinUnique, f.WindowSeconds = 599, 600 }, SeverityNone},
		{"70 KB answered with one address, 120 new names in a window of 2 minutes", func(f *Features) { addressed(f); big(f); f.PeakWinUnique, f.WindowSeconds = 120, 120 }, SeverityMedium},
		{"70 KB answered with one address, 3,000 new names in a window of an hour", func(f *Features) { addressed(f); big(f); f.PeakWinUnique, f.WindowSeconds = 3000, 3600 }, SeverityNone},
		{"names asked again and again", func(f *Features) { f.Lookups, f.UniqueRatio = 6000, 0.33 }, SeverityNone},
		{"an A and an AAAA query a name", func(f *Features) { f.Lookups, f.UniqueRatio = 4000, 0.5 }, SeverityMedium},
		{"85% of names data-like", func(f *Features) { f.DataNames = 1700 }, SeverityNone},
		{"half the names addresses, the rest data", func(f *Features) { f.Unique, f.IPShaped = 4000, 2000 }, SeverityMedium},
		{"15% hash-shaped", func(f *Features) { f.DigestNames = 300 }, SeverityNone},
		{"queries only, every name new", func(f *Features) { f.Responses, f.NXShare = 0, 0 }, SeverityNone},
		{"queries only, every name new, 70 KB", func(f *Features) { f.Responses, f.NXShare = 0, 0; big(f) }, SeverityMedium},
		{"queries only, some names again, 70 KB", func(f *Features) { f.Responses, f.NXShare, f.UniqueRatio = 0, 0, 0.8; big(f) }, SeverityNone},
		{"15 KiB in a day", func(f *Features) { f.InfoBytes, f.PeakDayInfo = 15<<10, 15<<10 }, SeverityNone},
		{"60 KB over a week, 9 KB on the busiest day", func(f *Features) { f.InfoBytes, f.PeakDayInfo, f.Seconds = 60000, 9000, 7*86400 }, SeverityNone},
		{"120 KB over a week, 12 KB on the busiest day", func(f *Features) { f.InfoBytes, f.PeakDayInfo, f.Seconds = 120000, 12000, 7*86400 }, SeverityMedium},
		{"no names", func(f *Features) { f.Unique, f.DataNames = 0, 0 }, SeverityNone},
		{"20 KB over a week, 16 KiB on the busiest day", func(f *Features) { f.InfoBytes, f.PeakDayInfo, f.Seconds = 20000, 16<<10, 7*86400 }, SeverityMedium},
		{"0.4 distinct names a lookup", func(f *Features) { f.Lookups, f.UniqueRatio = 5000, 0.4 }, SeverityMedium},
		{"0.39 distinct names a lookup", func(f *Features) { f.UniqueRatio = 0.39 }, SeverityNone},
		{"90% of names data-like", func(f *Features) { f.DataNames = 1800 }, SeverityMedium},
		{"10% hash-shaped", func(f *Features) { f.DigestNames = 200 }, SeverityMedium},
		{"queries only, 70 KB, 0.9 distinct names a lookup", func(f *Features) { f.Responses, f.NXShare, f.UniqueRatio = 0, 0, 0.9; big(f) }, SeverityMedium},
		{"queries only, 70 KB, 0.89 distinct names a lookup", func(f *Features) { f.Responses, f.NXShare, f.UniqueRatio = 0, 0, 0.89; big(f) }, SeverityNone},
		{"responses to a third of the queries: queries only", func(f *Features) { f.Responses = 666 }, SeverityNone},
		{"responses to half the queries", func(f *Features) { f.Responses = 1000 }, SeverityMedium},
		{"SERVFAIL answers", func(f *Features) { f.NXShare, f.ErrorShare = 0, 1 }, SeverityMedium},
		{"a tenth of the names search-path expansions", func(f *Features) { f.SearchExpansions = 200 }, SeverityMedium},
		{"more than a tenth search-path expansions", func(f *Features) { f.SearchExpansions = 201 }, SeverityNone},
		{"70 KB, CNAMEs of 30 bytes to half the names, NXDOMAIN for the rest", func(f *Features) {
			addressed(f)
			big(f)
			f.NXShare, f.AnswerBytes = 0.5, 15
		}, SeverityNone},
	} {
		f := denied
		c.change(&f)
		got, why := UpstreamFloor(&f)
		if got != c.want {
			t.Errorf("%s: %s (%q), want %s", c.name, got, why, c.want)
		}
		if v, _ := VolumeFloor(&f); v != got {
			t.Errorf("%s: VolumeFloor %s, UpstreamFloor %s", c.name, v, got)
		}
	}
	if _, why := UpstreamFloor(&denied); why != "2,000 distinct names, 2,000 of them encoded-looking, carried 19.5 KiB of information after compression (19.5 KiB on the busiest day) from one client, each asked about once, and its answers gave no address (100% NXDOMAIN): an upstream channel's volume" {
		t.Errorf("evidence %q", why)
	}
	one := denied
	addressed(&one)
	big(&one)
	one.Clients = 2
	if _, why := UpstreamFloor(&one); !strings.HasSuffix(why, "from 2 clients, each asked about once, and its answers gave one address: an upstream channel's volume") {
		t.Errorf("evidence %q", why)
	}
	mixed := denied
	mixed.Unique, mixed.IPShaped, mixed.DataNames, mixed.Lookups, mixed.UniqueRatio, mixed.NXShare, mixed.ErrorShare = 4000, 2000, 1900, 8000, 0.5, 0.4, 0.6
	if _, why := UpstreamFloor(&mixed); why != "2,000 distinct names, 1,900 of them encoded-looking, carried 19.5 KiB of information after compression (19.5 KiB on the busiest day) from one client, each asked 2.0 times on average, and its answers gave no address (40% NXDOMAIN): an upstream channel's volume" {
		t.Errorf("evidence %q", why)
	}
}

// TestShortLabelExfiltration: 80 KB leaving in names of one 10-character
// base64url label each (with a sequence number) is a medium tunnel on the
// volume of its names alone, however ordinary its labels' lengths, whether
// its server denies the names or answers one fixed address; the same names
// answered each with its own address (a service's hosts), asked by four
// clients, or answered with a CNAME to a service's edge (Dropbox's
// per-file hosts) are not.
func TestShortLabelExfiltration(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	data := make([]byte, 80000)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	enc := base64.RawURLEncoding.EncodeToString(data)
	f := newFeeder(Config{})
	fixed := netip.MustParseAddr("198.51.100.7")
	n := 0
	for i := 0; i+10 <= len(enc); i += 10 {
		at := t0.Add(time.Duration(n) * 300 * time.Millisecond)
		label := strings.ToLower(enc[i : i+10]) // as the engine sees names
		f.lookup(fmt.Sprintf("%d.%s.denied.example", n, label), at, "10.0.0.6", 1, 3, 0)
		f.aLookup(fmt.Sprintf("%d.%s.fixed.example", n, label), at, "10.0.0.7", fixed)
		f.aLookup(fmt.Sprintf("%s.hosts.example", label), at, "10.0.0.8", netip.AddrFrom4([4]byte{203, 0, byte(n >> 8), byte(n)}))
		f.lookup(fmt.Sprintf("%s.shared.example", label), at, fmt.Sprintf("10.0.1.%d", 1+n%4), 1, 3, 0)
		f.lookup(fmt.Sprintf("uc%s.dl.files.example", label), at, "10.0.0.9", 1, 0, len("edge-block.files-dns.example")+2+4)
		n++
	}
	all := f.e.AllFeatures(0)
	for _, c := range []struct {
		domain string
		want   Severity
	}{
		{"denied.example", SeverityMedium},
		{"fixed.example", SeverityMedium},
		{"hosts.example", SeverityNone},
		{"shared.example", SeverityNone},
		{"files.example", SeverityNone},
	} {
		ft, ok := all[c.domain]
		if !ok {
			t.Fatalf("%s: no features", c.domain)
		}
		if sev, why := UpstreamFloor(&ft); sev != c.want {
			t.Errorf("%s: %s (%q), want %s; %d names, %d data, %d digest, %.0f bytes of information, %d clients, %d addresses",
				c.domain, sev, why, c.want, ft.Unique, ft.DataNames, ft.DigestNames, ft.InfoBytes, ft.Clients, ft.AnswerAddresses)
		}
		if c.want == SeverityNone {
			continue
		}
		fd := f.find(t, c.domain)
		if fd == nil || fd.Severity < SeverityMedium || fd.Verdict != "tunnel" {
			t.Errorf("%s: no medium tunnel finding", c.domain)
			continue
		}
		found := false
		for _, e := range fd.Evidence {
			found = found || strings.HasSuffix(e, "an upstream channel's volume")
		}
		if !found {
			t.Errorf("%s: evidence %q lacks the floor's words", c.domain, fd.Evidence)
		}
	}
}

// TestShortLabelsAreData: data cut into labels of 7 characters is
// data-like once 16 characters of such labels read unlike host names, in
// both tiers (a compact record promotes the domain at its first such
// name); short host-name words are not.
func TestShortLabelsAreData(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const set = "abcdefghijklmnopqrstuvwxyz234567"
	short := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = set[rng.IntN(len(set))]
		}
		return string(b)
	}
	f := newFeeder(Config{})
	words := []string{"mail", "static", "images", "portal", "login", "files"}
	for i := range 300 {
		at := t0.Add(time.Duration(i) * time.Second)
		f.lookup(fmt.Sprintf("%s.%s.%s.%d.seven.example", short(7), short(7), short(7), i), at, "10.0.0.6", 1, 3, 0)
		f.lookup(fmt.Sprintf("%s.%s.two.example", short(7), short(7)), at, "10.0.0.6", 1, 3, 0)
		f.lookup(fmt.Sprintf("%s.%s.%s.eu%d.words.example", words[i%6], words[(i/6)%6], words[(i/36)%6], i), at, "10.0.0.6", 1, 0, 4)
	}
	all := f.e.AllFeatures(0)
	// Random base32 reads like a word now and then: nine names in ten of
	// three such labels are data-like.
	if got := all["seven.example"].DataNames; got < 270 {
		t.Errorf("seven.example: %d data-like names of 300, want 270 or more", got)
	}
	for _, dom := range []string{"two.example", "words.example"} { // 14 strange characters; words
		if got := all[dom].DataNames; got != 0 {
			t.Errorf("%s: %d data-like names, want none", dom, got)
		}
	}
	// Feed labels one by one: (length, score per character); the last
	// result says whether the name is data-like.
	scan := func(labels ...[2]int32) bool {
		var ds dataScan
		data := false
		for _, l := range labels {
			data = ds.label(uint8(l[0]), l[1]*256*l[0], l[0]) || data
		}
		return data
	}
	if !scan([2]int32{7, -6}, [2]int32{7, -6}, [2]int32{3, 0}, [2]int32{4, -6}) {
		t.Error("dataScan: 7 + 7 + 4 strange characters are data")
	}
	if scan([2]int32{7, -6}, [2]int32{7, -6}) {
		t.Error("dataScan: 14 strange characters are not")
	}
	if scan([2]int32{3, -6}, [2]int32{3, -6}, [2]int32{3, -6}, [2]int32{3, -6}, [2]int32{3, -6}, [2]int32{3, -6}) {
		t.Error("dataScan: labels of 3 characters never count")
	}
	if scan([2]int32{7, -4}, [2]int32{7, -4}, [2]int32{7, -4}) {
		t.Error("dataScan: labels that read like host names never count")
	}
}

// TestTextFloor: names of hex that decodes to text earn medium on their
// count; each condition at its line.
func TestTextFloor(t *testing.T) {
	base := Features{
		Queries: 200, Responses: 200, Lookups: 200, Unique: 200, UniqueRatio: 1,
		DataNames: 200, TextNames: 200, InfoBytes: 900, PeakDayInfo: 900, Seconds: 60,
		Clients: 1, NXShare: 1, PeakWinUnique: 200,
	}
	for _, c := range []struct {
		name   string
		change func(f *Features)
		want   Severity
	}{
		{"200 names of hex text, denied", func(*Features) {}, SeverityMedium},
		{"64 names", func(f *Features) { f.TextNames = 64; f.Unique, f.DataNames = 128, 128 }, SeverityMedium},
		{"63 names", func(f *Features) { f.TextNames = 63; f.Unique, f.DataNames = 126, 126 }, SeverityNone},
		{"half the names", func(f *Features) { f.Unique = 400 }, SeverityMedium},
		{"under half", func(f *Features) { f.Unique = 401 }, SeverityNone},
		{"three clients", func(f *Features) { f.Clients = 3 }, SeverityMedium},
		{"four clients", func(f *Features) { f.Clients = 4 }, SeverityNone},
		{"200 answered with one address each", func(f *Features) { f.NXShare, f.AnswerAddresses, f.AnswerBytes = 0, 1, 4 }, SeverityNone},
		{"256 answered with one address each", func(f *Features) {
			f.NXShare, f.AnswerAddresses, f.AnswerBytes = 0, 1, 4
			f.Queries, f.Responses, f.Lookups, f.Unique, f.DataNames, f.TextNames, f.PeakWinUnique = 256, 256, 256, 256, 256, 256, 256
		}, SeverityMedium},
		{"256 with four addresses", func(f *Features) {
			f.NXShare, f.AnswerAddresses, f.AnswerBytes = 0, 4, 16
			f.Queries, f.Responses, f.Lookups, f.Unique, f.DataNames, f.TextNames, f.PeakWinUnique = 256, 256, 256, 256, 256, 256, 256
		}, SeverityNone},
		{"256, a CNAME and an address each", func(f *Features) {
			f.NXShare, f.AnswerAddresses, f.AnswerBytes = 0, 1, 40
			f.Queries, f.Responses, f.Lookups, f.Unique, f.DataNames, f.TextNames, f.PeakWinUnique = 256, 256, 256, 256, 256, 256, 256
		}, SeverityNone},
		{"queries only", func(f *Features) { f.Responses, f.NXShare = 0, 0 }, SeverityNone},
		{"64 in one window", func(f *Features) { f.PeakWinUnique = 64 }, SeverityMedium},
		{"63 at most in a window: a trickle", func(f *Features) { f.PeakWinUnique = 63 }, SeverityNone},
		{"names asked again and again", func(f *Features) { f.Lookups, f.UniqueRatio = 600, 0.33 }, SeverityNone},
	} {
		f := base
		c.change(&f)
		sev, why := TextFloor(&f)
		if sev != c.want || (sev == SeverityNone) != (why == "") {
			t.Errorf("%s: %v %q", c.name, sev, why)
		}
		if floor, _ := VolumeFloor(&f); floor < sev {
			t.Errorf("%s: VolumeFloor %v under TextFloor %v", c.name, floor, sev)
		}
	}
	f := base
	if _, why := TextFloor(&f); why != "200 of its 200 distinct names hold a label of hex that decodes to prose (letters, spaces and punctuation), from one client, 200 new names in its busiest rate window: text leaving as hex" {
		t.Errorf("words: %q", why)
	}
}

// TestHexTextName: a label of 16 hex digits or more that decodes to text
// marks a name; random hex, odd lengths, short labels and labels skipped
// as repeated do not.
func TestHexTextName(t *testing.T) {
	name := func(labels ...string) ([]byte, []uint8) {
		var ls []uint8
		for _, l := range labels {
			ls = append(ls, uint8(len(l)))
		}
		return []byte(strings.Join(labels, ".")), ls
	}
	for _, c := range []struct {
		labels []string
		skip   uint64
		want   bool
	}{
		{[]string{"726f6f743a783a30", "x"}, 0, true},                            // "root:x:0"
		{[]string{"a", "2c4a6f686e20536d69746820"}, 0, true},                    // ",John Smith "
		{[]string{"9f3ac07be1d2554e"}, 0, false},                                // random bytes
		{[]string{"726f6f743a783a"}, 0, false},                                  // 14 digits
		{[]string{"726f6f743a783a3"}, 0, false},                                 // odd
		{[]string{"726f6f743a783a30"}, 1, false},                                // skipped
		{[]string{"node", "726f6f743a783a30"}, 1, true},                         // another label skipped
		{[]string{"726f6f743a783a30726f6f743a783a30726f6f743a783a30"}, 0, true}, // 48 digits
		{[]string{"3132333435363738"}, 0, false},                                // "12345678": no prose
		{[]string{"9f3ac07be1d2554e", "726f6f743a783a30"}, 0, false},            // another long label
		{[]string{"q7", "726f6f743a783a30"}, 0, true},                           // a short one beside it
	} {
		sub, labels := name(c.labels...)
		if got := hexTextName(sub, labels, c.skip); got != c.want {
			t.Errorf("%q skip %b: %v", sub, c.skip, got)
		}
	}
}

// TestTextNamesSnapshot: the count of hex-text names survives a snapshot
// and an export, and a domain merged into itself keeps it.
func TestTextNamesSnapshot(t *testing.T) {
	f := newFeeder(Config{})
	text := strings.Repeat("root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n", 20)
	for i := 0; 8*i+8 <= len(text); i++ {
		name := fmt.Sprintf("%x.%d.x.exfil-text.net", text[8*i:8*i+8], i)
		f.lookup(name, t0.Add(time.Duration(i)*100*time.Millisecond), "10.0.0.7", 1, 3, 0)
	}
	want := f.e.features(f.e.domains["exfil-text.net"]).TextNames
	if want < 64 {
		t.Fatalf("%d text names", want)
	}
	g := restore(t, Config{}, snapshotBytes(t, f.e))
	if got := g.features(g.domains["exfil-text.net"]).TextNames; got != want {
		t.Fatalf("restored %d text names, want %d", got, want)
	}
	x, ok := g.ExportDomain("exfil-text.net")
	if !ok {
		t.Fatal("no export")
	}
	if err := g.ImportDomain(x); err != nil {
		t.Fatal(err)
	}
	if got := g.features(g.domains["exfil-text.net"]).TextNames; got != want {
		t.Fatalf("merged into itself: %d text names, want %d", got, want)
	}
}
