package fingerprint

import (
	"bytes"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"math/big"
	"math/rand"
	"strconv"
	"strings"
	"testing"
)

type tcase struct {
	desc     string
	labels   []string
	qtype    uint16
	response bool
	answers  []answer
	tool     Tool
	strength Strength
	evidence Evidence
}

func (c tcase) msg() []byte { return wireMsg(c.labels, c.qtype, c.response, c.answers...) }

func classifyWire(t testing.TB, payload []byte) Match {
	t.Helper()
	var m Message
	if !newBuilder().message(payload, &m) {
		t.Fatalf("not a DNS message: % x", payload)
	}
	return Classify(&m)
}

func toolCases() []tcase {
	rng := rand.New(rand.NewSource(1))
	random := func(n int) []byte {
		b := make([]byte, n)
		rng.Read(b)
		return b
	}
	var hash [16]byte
	copy(hash[:], random(16))
	var clientID [8]byte
	copy(clientID[:], random(8))
	const (
		typeA, typeNULL, typeCNAME, typeMX, typeTXT, typeKEY, typeAAAA = 1, 10, 5, 15, 16, 25, 28
	)
	var cs []tcase
	add := func(c tcase) { cs = append(cs, c) }

	// iodine.
	add(tcase{"iodine v 0x502", name([]string{iodineVersionLabel(0x502, 0x1234)}, "t1.example.com"), typeNULL, false, nil, Iodine, Strong, EvIodineVersion})
	add(tcase{"iodine v 0x502 upper case, A query", name([]string{strings.ToUpper(iodineVersionLabel(0x502, 7))}, "pirate.sea"), typeA, false, nil, Iodine, Strong, EvIodineVersion})
	add(tcase{"iodine v answer", name([]string{iodineVersionLabel(0x502, 9)}, "pirate.sea"), typeCNAME, true,
		[]answer{{typeCNAME, nameRdata(name([]string{"hfhbuc"}, "pirate.sea"))}}, Iodine, Strong, EvIodineVersion})
	add(tcase{"iodine z pattern", name([]string{"zbcdaA-Aaahhh-Drink-mal-ein-J\344germeister-"}, "t1.example.com"), typeA, false, nil, Iodine, Strong, EvIodineCaseCheck})
	add(tcase{"iodine z base128 pattern", name([]string{"zbceaA\320\321\322\323\324\325\326\327\330\331\332\333\334\335\336\337\340\341\342\343\344\345\346\347\350\351\352\353\354\355\356\357\360\361\362\363\364\365\366\367\370\371\372\373\374\375"}, "example.com"), typeTXT, false, nil, Iodine, Strong, EvIodineCaseCheck})
	add(tcase{"iodine y TXT", name([]string{"yrbq01"}, "t1.example.com"), typeTXT, false, nil, Iodine, Weak, EvIodineDownCodec})
	add(tcase{"iodine y NULL", name([]string{"yrbq01"}, "t1.example.com"), typeNULL, false, nil, Iodine, Strong, EvIodineDownCodec})
	add(tcase{"iodine y A", name([]string{"ytbq01"}, "t1.example.com"), typeA, false, nil, Unknown, None, EvNone})
	add(tcase{"iodine s CNAME", name([]string{"sahst2"}, "t1.example.com"), typeNULL, false, nil, Iodine, Strong, EvIodineCodecSwitch})
	add(tcase{"iodine o TXT", name([]string{"oavst5"}, "t1.example.com"), typePrivate, false, nil, Iodine, Strong, EvIodineOptions})
	add(tcase{"iodine i NULL", name([]string{"iagq4"}, "t1.example.com"), typeNULL, false, nil, Iodine, Strong, EvIodineIPRequest})
	add(tcase{"iodine l NULL", name([]string{iodineLoginLabel(3, hash, 77)}, "t1.example.com"), typeNULL, false, nil, Iodine, Strong, EvIodineLogin})
	add(tcase{"iodine l A", name([]string{iodineLoginLabel(3, hash, 77)}, "t1.example.com"), typeA, false, nil, Iodine, Weak, EvIodineLogin})
	add(tcase{"iodine p PRIVATE", name([]string{iodinePingLabel(1, 3, 2, 0xbeef)}, "t1.example.com"), typePrivate, false, nil, Iodine, Strong, EvIodinePing})
	add(tcase{"iodine p CNAME with digit", name([]string{"paarez5i"}, "www.ggy666.tk"), typeCNAME, false, nil, Iodine, Strong, EvIodinePing})
	add(tcase{"iodine p CNAME no digit", name([]string{"paacuyvi"}, "www.ggy666.tk"), typeCNAME, false, nil, Iodine, Weak, EvIodinePing})
	add(tcase{"iodine p A", name([]string{iodinePingLabel(0, 0, 0, 0x0102)}, "example.com"), typeA, false, nil, Iodine, Weak, EvIodinePing})
	add(tcase{"iodine data base128", name(iodineDataLabels(2, [3]byte{1, 2, 3}, 'k', iodB128(random(100))), "pirate.sea"), typeCNAME, false, nil, Iodine, Strong, EvIodineDataBase128})
	add(tcase{"iodine data base128 A", name(iodineDataLabels(2, [3]byte{1, 2, 3}, 'k', iodB128(random(60))), "pirate.sea"), typeA, false, nil, Iodine, Strong, EvIodineDataBase128})
	// godoh: a stream's start, data and end, and its poll replies.
	gReqs := godohRequests([2]byte{0xc0, 0x5e}, 1, random(200)) // 3 data requests: 90, 90, 20 bytes
	gName := func(req []string) []string { return name(append(append([]string{}, req...), "c2"), "cloudsyncer.com") }
	add(tcase{"godoh start", gName(gReqs[0]), typeA, false, nil, Godoh, Strong, EvGodohStream})
	add(tcase{"godoh data", gName(gReqs[1]), typeA, false, nil, Godoh, Strong, EvGodohData})
	add(tcase{"godoh data AAAA", gName(gReqs[1]), typeAAAA, false, nil, Godoh, Strong, EvGodohData})
	add(tcase{"godoh short data", gName(gReqs[3]), typeA, false, nil, Godoh, Strong, EvGodohData})
	add(tcase{"godoh end", gName(gReqs[4]), typeA, true, []answer{{typeA, []byte{1, 1, 1, 1}}}, Godoh, Strong, EvGodohStream})
	gBad := append([]string{}, gReqs[1]...)
	gBad[3] = "deadbeef"
	add(tcase{"godoh data, wrong CRC", gName(gBad), typeA, false, nil, Unknown, None, EvNone})
	gBad = append([]string{}, gReqs[1]...)
	gBad[5] = "2"
	add(tcase{"godoh data, wrong count", gName(gBad), typeA, false, nil, Unknown, None, EvNone})
	gBad = append([]string{}, gReqs[0]...)
	gBad[2] = "3"
	add(tcase{"godoh start with a sequence", gName(gBad), typeA, false, nil, Unknown, None, EvNone})
	gBad = append([]string{}, gReqs[4]...)
	gBad[8] = "00"
	add(tcase{"godoh end, odd label", gName(gBad), typeA, false, nil, Unknown, None, EvNone})
	add(tcase{"godoh poll, no command", name([]string{"6a6b6c6d6e"}, "cloudsyncer.com"), typeTXT, true, []answer{{typeTXT, txtRdata("v=B2B3FE1C")}}, Godoh, Strong, EvGodohAnswer})
	add(tcase{"godoh poll, command", name([]string{"6a6b6c6d6e"}, "cloudsyncer.com"), typeTXT, true, []answer{{typeTXT, txtRdata("v=A9F466E8,p=789c0aab")}}, Godoh, Strong, EvGodohAnswer})
	add(tcase{"godoh poll, other TXT", name([]string{"6a6b6c6d6e"}, "cloudsyncer.com"), typeTXT, true, []answer{{typeTXT, txtRdata("v=spf1 -all")}}, Unknown, None, EvNone})
	add(tcase{"godoh poll query", name([]string{"6a6b6c6d6e"}, "cloudsyncer.com"), typeTXT, false, nil, Unknown, None, EvNone})
	// dnsteal: four chunks of 57 a name, the last name shorter; the
	// file name is the registered domain (sent straight to the server).
	stNames := dnstealNames(random(400), 57, 4, "secret.txt")
	stName := func(labels []string) []string { return append([]string{}, labels...) }
	add(tcase{"dnsteal full name", stName(stNames[0]), typeA, false, nil, Dnsteal, Strong, EvDnstealChunks})
	add(tcase{"dnsteal last name, a full chunk and a short one", stName(stNames[len(stNames)-1]), typeA, false, nil, Dnsteal, Strong, EvDnstealChunks})
	add(tcase{"dnsteal one chunk", stName(dnstealNames(random(30), 57, 4, "secret.txt")[0]), typeA, false, nil, Dnsteal, Strong, EvDnstealChunks})
	for _, tail := range []int{1, 4, 8, 12, 16, 20} {
		// The last name of a file whose base64 ends tail characters
		// after two full chunks.
		text := strings.Repeat("Zm9v", 30)[:2*57] + strings.Repeat("Q", tail)
		labels := []string{text[:57] + "-", text[57:114] + "-", text[114:] + "-", "file", "txt"}
		add(tcase{fmt.Sprintf("dnsteal tail chunk of %d", tail), labels, typeA, false, nil, Dnsteal, Strong, EvDnstealChunks})
	}
	add(tcase{"dnsteal one short chunk", stName(dnstealNames(random(15), 57, 4, "secret.txt")[0]), typeA, false, nil, Dnsteal, Weak, EvDnstealChunks})
	add(tcase{"dnsteal under a zone", name(dnstealNames(random(200), 30, 3, "x")[0][:3], "x.filedrop.org"), typeA, false, nil, Dnsteal, Strong, EvDnstealChunks})
	add(tcase{"dnsteal fork prefix", append([]string{"3x6-", "12-"}, dnstealNames(random(200), 40, 3, "secret.txt")[1]...), typeA, false, nil, Dnsteal, Strong, EvDnstealChunks})
	add(tcase{"dnsteal chunks of two sizes", []string{strings.Repeat("zB3", 10) + "-", strings.Repeat("zB3", 12) + "-", "secret", "txt"}, typeA, false, nil, Unknown, None, EvNone})
	add(tcase{"dnsteal-like, no digit", []string{strings.Repeat("aBc", 10) + "-", strings.Repeat("aBc", 10) + "-", "secret", "txt"}, typeA, false, nil, Unknown, None, EvNone})
	add(tcase{"dash-ended words", []string{"download-", "mirror-", "example", "com"}, typeA, false, nil, Unknown, None, EvNone})
	// chashell: hex of a sealed packet in labels of 63, TXT; its server
	// answers "-" or a sealed packet.
	chName := name(chunk(hex.EncodeToString(random(24+16+30)), 63), "c.nimbuscdn.net")
	add(tcase{"chashell query", chName, typeTXT, false, nil, Chashell, Weak, EvChashellPacket})
	add(tcase{"chashell poll answered -", chName, typeTXT, true, []answer{{typeTXT, txtRdata("-")}}, Chashell, Strong, EvChashellReply})
	add(tcase{"chashell answered with a packet", chName, typeTXT, true, []answer{{typeTXT, txtRdata(hex.EncodeToString(random(24 + 16 + 20)))}}, Chashell, Strong, EvChashellReply})
	add(tcase{"chashell answered with short hex", chName, typeTXT, true, []answer{{typeTXT, txtRdata(hex.EncodeToString(random(30)))}}, Chashell, Weak, EvChashellPacket})
	chFull := chunk(hex.EncodeToString(random(63)), 63) // 126 hex characters: two full labels
	add(tcase{"chashell packet filling its last label, a hex-looking domain label", name(chFull, "abc.example.com"), typeTXT, true, []answer{{typeTXT, txtRdata("-")}}, Chashell, Strong, EvChashellReply})
	add(tcase{"chashell-like in A", chName, typeA, false, nil, Unknown, None, EvNone})
	add(tcase{"hex in labels of 63, too short for a sealed packet", name(chunk(hex.EncodeToString(random(35)), 63), "c.nimbuscdn.net"), typeTXT, true, []answer{{typeTXT, txtRdata("-")}}, Unknown, None, EvNone})
	// DET: the first query of each message starts with the job id, then
	// the job id and "|!|" in hex; later queries of the message do not.
	detMsg := detNames("aZ3kQ9x", "aZ3kQ9x|!|4|!|"+hex.EncodeToString(random(150)), "google.com")
	add(tcase{"DET message start", detMsg[0], typeA, false, nil, DET, Strong, EvDETMessage})
	detCase := append([]string{}, detMsg[0]...)
	detCase[0] = strings.ToUpper(detCase[0][:7]) + detCase[0][7:]
	add(tcase{"DET message start, job id case changed", detCase, typeA, false, nil, DET, Strong, EvDETMessage})
	add(tcase{"DET register", detNames("Pq7Lm2W", "Pq7Lm2W|!|report.docx|!|REGISTER|!|0cc175b9c0f1b6a831c399e269772661", "statsapi.io")[0], typeA, false, nil, DET, Strong, EvDETMessage})
	add(tcase{"DET job id in hex but no separator", name([]string{"zZ3kQ9x" + hex.EncodeToString([]byte("zZ3kQ9x")) + "7c227c" + strings.Repeat("ab", 10)}, "google.com"), typeA, false, nil, Unknown, None, EvNone})
	add(tcase{"DET other job id in hex", name([]string{"zZ3kQ9x" + hex.EncodeToString([]byte("zZ3kQ9y")) + "7c217c" + strings.Repeat("ab", 10)}, "google.com"), typeA, false, nil, Unknown, None, EvNone})
	// dnspot: base36 of the sealed message, a dot every 60 characters, the
	// number of dots, the suffix.
	b36 := func(b []byte) string { return new(big.Int).SetBytes(b).Text(36) }
	dpText := b36(append([]byte{0x02}, random(32+12+20+16)...))
	dpLabels := chunk(dpText, 60)
	add(tcase{"dnspot message", name(append(append([]string{}, dpLabels...), strconv.Itoa(len(dpLabels)-1)), "n.k3x.io"), typeA, false, nil, Dnspot, Strong, EvDnspotMessage})
	dpFull := chunk(strings.Repeat("k3x9", 30), 60) // 120 characters: two full labels
	add(tcase{"dnspot message filling its last label", name(append(append([]string{}, dpFull...), "1"), "n.k3x.io"), typeA, false, nil, Dnspot, Strong, EvDnspotMessage})
	add(tcase{"dnspot message filling its last label, suffix of one label", name(append(append([]string{}, dpFull...), "1", "c2"), "k3x.io"), typeA, false, nil, Dnspot, Strong, EvDnspotMessage})
	add(tcase{"dnspot-like, wrong dot count", name(append(append([]string{}, dpLabels...), strconv.Itoa(len(dpLabels))), "n.k3x.io"), typeA, false, nil, Unknown, None, EvNone})
	add(tcase{"dnspot-like, no dot count", name(append([]string{}, dpLabels...), "n.k3x.io"), typeA, false, nil, Unknown, None, EvNone})
	// TUNS: CNAME only; data "d<base32>", polls "r<n>"; answers "l<n>",
	// "dzero" or "d<data>" under the domain.
	tunsB32 := strings.ReplaceAll(base32.StdEncoding.EncodeToString(random(50)), "=", "0")
	tunsData := append([]string{"d" + tunsB32[:62]}, chunk(tunsB32[62:], 63)...)
	tunsCNAME := func(target ...string) []answer {
		return []answer{{typeCNAME, nameRdata(name(target, "t.tunsnet.org"))}}
	}
	add(tcase{"tuns data acknowledged", name(tunsData, "t.tunsnet.org"), typeCNAME, true, tunsCNAME("l0"), Tuns, Strong, EvTunsReply})
	add(tcase{"tuns poll, nothing", name([]string{"r17"}, "t.tunsnet.org"), typeCNAME, true, tunsCNAME("dzero"), Tuns, Strong, EvTunsReply})
	add(tcase{"tuns poll, a packet", name([]string{"r18"}, "t.tunsnet.org"), typeCNAME, true, tunsCNAME(tunsData...), Tuns, Strong, EvTunsReply})
	add(tcase{"tuns poll query", name([]string{"r19"}, "t.tunsnet.org"), typeCNAME, false, nil, Unknown, None, EvNone})
	add(tcase{"r-label answered by an ordinary CNAME", name([]string{"r2"}, "example.com"), typeCNAME, true, tunsCNAME("edge", "cdn"), Unknown, None, EvNone})
	add(tcase{"CNAME query of a word answered by a word", name([]string{"downloads"}, "example.com"), typeCNAME, true, tunsCNAME("dualstack", "edge"), Unknown, None, EvNone})
	cdnCNAME := func(target ...string) []answer { return []answer{{typeCNAME, nameRdata(target)}} }
	add(tcase{"CNAME query answered by a CDN", name([]string{"download2"}, "example.com"), typeCNAME, true, cdnCNAME("download2", "example", "com", "edgekey", "net"), Unknown, None, EvNone})
	add(tcase{"r-label answered by a CloudFront host", name([]string{"r2"}, "shop.com"), typeCNAME, true, cdnCNAME("d3kf7abcxyz2q", "cloudfront", "net"), Unknown, None, EvNone})
	add(tcase{"r-label answered l<n> elsewhere", name([]string{"r1"}, "example.com"), typeCNAME, true, cdnCNAME("l1", "example-cdn", "net"), Unknown, None, EvNone})
	add(tcase{"tuns poll answered as data is", name([]string{"r20"}, "t.tunsnet.org"), typeCNAME, true, tunsCNAME("l0"), Unknown, None, EvNone})
	// tcp-over-dns: base 63 ('b', the default) or base 37 ('h'), the
	// length, the packet with its checksum.
	const tod63, tod37 = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", "abcdefghijklmnopqrstuvwxyz0123456789-"
	todPkt := todPacket(0x9c41, 7, 1, random(100))
	add(tcase{"tcp-over-dns base63", name(todName(tcpOverDNS63, tod63, 'b', todPkt), "tnl.tcpodns.net"), typeTXT, false, nil, TCPOverDNS, Strong, EvTCPOverDNSPacket})
	add(tcase{"tcp-over-dns base37", name(todName(tcpOverDNS37, tod37, 'h', todPacket(0x0102, 200, 2, random(40))), "tnl.tcpodns.net"), typeCNAME, false, nil, TCPOverDNS, Strong, EvTCPOverDNSPacket})
	// DNS-Shell: polls answered NoCMD, output in CMD<i> chunks of 50 hex.
	shOut := strings.ToUpper(hex.EncodeToString([]byte("nt authority\\system\r\n")))
	add(tcase{"dns-shell poll", name([]string{"1804289383"}, "ns1.updsvc-cdn.com"), typeTXT, true, []answer{{typeTXT, txtRdata("NoCMD")}}, DNSShell, Strong, EvDNSShellPoll})
	add(tcase{"dns-shell chunk count", name([]string{"846930886", "CMDC2"}, "ns1.updsvc-cdn.com"), typeA, false, nil, DNSShell, Strong, EvDNSShellOutput})
	add(tcase{"dns-shell chunk", name([]string{"1681692777", "CMD0", shOut[:min(50, len(shOut))]}, "ns1.updsvc-cdn.com"), typeA, false, nil, DNSShell, Strong, EvDNSShellOutput})
	add(tcase{"dns-shell end", name([]string{"1714636915", "END"}, "ns1.updsvc-cdn.com"), typeA, true, []answer{{typeA, []byte{127, 0, 0, 1}}}, DNSShell, Weak, EvDNSShellOutput})
	// DNSlivery: a stager in TXT, then base64 chunks of 255 characters.
	dlB64 := base64.StdEncoding.EncodeToString(random(400))
	add(tcase{"dnslivery stager", name([]string{"invoke-mimikatz-ps1"}, "dl.cdn-assets.net"), typeTXT, true,
		[]answer{{typeTXT, txtStrings(dnsliveryStagerText("invoke-mimikatz-ps1", "dl.cdn-assets.net", 3))}}, DNSlivery, Strong, EvDNSliveryStager})
	add(tcase{"dnslivery stager, one chunk, case scrambled", name([]string{"NoTeS-TxT"}, "dl.cdn-assets.net"), typeTXT, true,
		[]answer{{typeTXT, txtStrings(dnsliveryStagerText("notes-txt", "dl.cdn-assets.net", 1))}}, DNSlivery, Strong, EvDNSliveryStager})
	add(tcase{"dnslivery stager of another file", name([]string{"notes"}, "dl.cdn-assets.net"), typeTXT, true,
		[]answer{{typeTXT, txtStrings(dnsliveryStagerText("notes-txt", "dl.cdn-assets.net", 1))}}, Unknown, None, EvNone})
	add(tcase{"dnslivery chunk", name([]string{"invoke-mimikatz-ps1", "0"}, "dl.cdn-assets.net"), typeTXT, true,
		[]answer{{typeTXT, txtRdata(dlB64[:255])}}, DNSlivery, Strong, EvDNSliveryChunk})
	add(tcase{"dnslivery last chunk", name([]string{"invoke-mimikatz-ps1", "2"}, "dl.cdn-assets.net"), typeTXT, true,
		[]answer{{typeTXT, txtRdata(dlB64[510:])}}, DNSlivery, Weak, EvDNSliveryChunk})
	add(tcase{"dnslivery chunk query", name([]string{"invoke-mimikatz-ps1", "1"}, "dl.cdn-assets.net"), typeTXT, false, nil, Unknown, None, EvNone})
	dlBig := base64.StdEncoding.EncodeToString(random(750)) // -s 1000
	add(tcase{"dnslivery chunk of 1000 in four strings", name([]string{"beacon-bin", "1"}, "dnsd.example.net"), typeTXT, true,
		[]answer{{typeTXT, txtStrings(dlBig)}}, DNSlivery, Strong, EvDNSliveryChunk})
	add(tcase{"a blocklist's reversed address answered with a word", name([]string{"2", "0", "0", "127"}, "bl.example.net"), typeTXT, true,
		[]answer{{typeTXT, txtRdata("blocklistedhost2024")}}, Unknown, None, EvNone})
	add(tcase{"numbered TXT answered with a short token", name([]string{"x", "1"}, "example.com"), typeTXT, true,
		[]answer{{typeTXT, txtRdata("ZXhhbXBsZQ==")}}, Unknown, None, EvNone})
	add(tcase{"base64 padding inside a chunk", name([]string{"beacon-bin", "1"}, "dnsd.example.net"), typeTXT, true,
		[]answer{{typeTXT, append(txtRdata(dlB64[:253]+"=="), txtRdata(dlB64[:40])...)}}, Unknown, None, EvNone})
	add(tcase{"numbered TXT answered with words", name([]string{"host", "1"}, "example.com"), typeTXT, true,
		[]answer{{typeTXT, txtRdata("v=spf1 include:_spf.example.com ~all")}}, Unknown, None, EvNone})
	add(tcase{"DKIM key is not a chunk", name([]string{"selector1", "2"}, "example.com"), typeTXT, true,
		[]answer{{typeTXT, txtRdata("v=DKIM1; k=rsa; p=" + dlB64[:200])}}, Unknown, None, EvNone})
	// Pupy dnscnc: "[<spi>.]<nonce>.<data>" in translated base32, answered
	// with a reply page in A records.
	pupyNonce2 := pupyLabel(random(17))
	pupyData := pupyLabel(random(23))
	add(tcase{"pupy v2 query", name([]string{pupyNonce2, pupyData}, "c2.dnscnc-update.com"), typeA, false, nil, Pupy, Strong, EvPupyQuery})
	add(tcase{"pupy v2 query with a session", name([]string{pupyLabel(random(4)), pupyNonce2, pupyData}, "dnscnc-update.com"), typeA, false, nil, Pupy, Strong, EvPupyQuery})
	add(tcase{"pupy v2 query, data appended to the nonce", name([]string{pupyLabel(random(20)), pupyLabel(random(35))}, "dnscnc-update.com"), typeA, false, nil, Pupy, Weak, EvPupyQuery})
	add(tcase{"pupy v1 query", name([]string{pupyLabel(random(4)), pupyLabel(random(12))}, "dnscnc-update.com"), typeA, false, nil, Pupy, Weak, EvPupyQuery})
	add(tcase{"pupy v1 query with a session", name([]string{pupyLabel(random(4)), pupyLabel(random(4)), pupyLabel(random(12))}, "dnscnc-update.com"), typeA, false, nil, Pupy, Strong, EvPupyQuery})
	add(tcase{"pupy v1 reply page", name([]string{pupyLabel(random(4)), pupyLabel(random(12))}, "dnscnc-update.com"), typeA, true, pupyAnswers(rng, random(20), false), Pupy, Strong, EvPupyPage})
	add(tcase{"pupy v2 reply page", name([]string{strings.ToUpper(pupyNonce2), pupyData}, "c2.dnscnc-update.com"), typeA, true, pupyAnswers(rng, random(8), false), Pupy, Strong, EvPupyPage})
	// The protocol-1 server's pages: the index in 4 bits, 1 to 6 above it.
	for i := range 8 {
		add(tcase{fmt.Sprintf("pupy v1 server page %d", i), name([]string{pupyLabel(random(4)), pupyLabel(random(12))}, "dnscnc-update.com"), typeA, true, pupyAnswers(rng, random(8+4*i), true), Pupy, Strong, EvPupyPage})
	}
	// A protocol-2 nonce of more than 17 bytes holds data that did not fit
	// a full data label of 35.
	add(tcase{"pupy v2 long nonce, short data", name([]string{pupyLabel(random(22)), pupyLabel(random(12))}, "dnscnc-update.com"), typeA, false, nil, Unknown, None, EvNone})
	add(tcase{"pupy v2 long nonce, full data", name([]string{pupyLabel(random(22)), pupyLabel(random(35))}, "dnscnc-update.com"), typeA, false, nil, Pupy, Strong, EvPupyQuery})
	add(tcase{"32 letters, then a word", name([]string{"thequickbrownfoxjumpsoverthelazy", "services"}, "example.com"), typeA, false, nil, Unknown, None, EvNone})
	cdnAnswers := []answer{{typeA, []byte{104, 16, 132, 229}}, {typeA, []byte{104, 16, 133, 229}}, {typeA, []byte{104, 16, 134, 229}}}
	add(tcase{"pupy v1 query answered by a CDN", name([]string{pupyLabel(random(4)), pupyLabel(random(12))}, "dnscnc-update.com"), typeA, true, cdnAnswers, Pupy, Weak, EvPupyQuery})
	add(tcase{"base32 padding miscounted", name([]string{pupyNonce2[:26] + "aaaa99", pupyData}, "dnscnc-update.com"), typeA, false, nil, Unknown, None, EvNone})
	add(tcase{"eight-letter words", name([]string{"database", "frontend"}, "example.com"), typeA, false, nil, Unknown, None, EvNone})
	add(tcase{"RFC base32 with a 7", name([]string{strings.ToLower(strings.TrimRight(base32.StdEncoding.EncodeToString([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}), "=")) + "9999", pupyData}, "example.com"), typeA, false, nil, Unknown, None, EvNone})
	add(tcase{"decimal TXT lookup answered otherwise", name([]string{"1804289383"}, "example.com"), typeTXT, true, []answer{{typeTXT, txtRdata("v=spf1 -all")}}, Unknown, None, EvNone})
	add(tcase{"decimal host then a word", name([]string{"12", "cmdline"}, "example.com"), typeA, false, nil, Unknown, None, EvNone})
	// iodine's base64 alphabet (src/base64.c: a-z A-Z - 0-9 +): strong
	// with a '+' and an upper-case letter, in its labels of 57; in labels
	// of 63, which iodine never writes, weak.
	iodB64 := base64.NewEncoding("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789+").WithPadding(base64.NoPadding)
	b64Data := iodB64.EncodeToString(append([]byte{0xff, 0xff, 0xff}, random(90)...)) // starts "++++"
	add(tcase{"iodine data base64", name(iodineDataLabels(3, [3]byte{1, 2, 3}, 'k', b64Data), "pirate.sea"), typeTXT, false, nil, Iodine, Strong, EvIodineDataBase64})
	add(tcase{"iodine data base64 in labels of 63", name(chunk(strings.Join(iodineDataLabels(3, [3]byte{1, 2, 3}, 'k', b64Data), ""), 63), "pirate.sea"), typeTXT, false, nil, Iodine, Weak, EvIodineDataBase64})
	add(tcase{"iodine data base32 NULL", name(iodineDataLabels(0, [3]byte{}, 'a', iodB32.EncodeToString(random(60))), "pirate.sea"), typeNULL, false, nil, Iodine, Strong, EvIodineDataBase32})
	add(tcase{"iodine data base32 A", name(iodineDataLabels(0, [3]byte{}, 'a', iodB32.EncodeToString(random(60))), "pirate.sea"), typeA, false, nil, Iodine, Weak, EvIodineDataBase32})

	// dnscat2.
	msg := dc2Msg(0x1111, 0xbeef, 100, 200, []byte("hello world, this is a command shell speaking, long enough to split"))
	add(tcase{"dnscat2 MSG split", name(dc2Labels(msg), "biillpi.com"), typeTXT, false, nil, Dnscat2, Strong, EvDnscat2Split})
	short := dc2Msg(0x2222, 0xbeef, 100, 200, []byte("ls\n"))
	add(tcase{"dnscat2 short MSG query", name(dc2Labels(short), "biillpi.com"), typeMX, false, nil, Dnscat2, Weak, EvDnscat2Packet})
	reply := dc2Msg(0x3333, 0xbeef, 200, 103, nil)
	add(tcase{"dnscat2 short MSG, TXT answer same session", name(dc2Labels(short), "biillpi.com"), typeTXT, true,
		[]answer{{typeTXT, txtRdata(hex.EncodeToString(reply))}}, Dnscat2, Strong, EvDnscat2Answer})
	add(tcase{"dnscat2 short MSG, CNAME answer same session", name(dc2Labels(short), "biillpi.com"), typeCNAME, true,
		[]answer{{typeCNAME, nameRdata(name(dc2Labels(reply), "biillpi.com"))}}, Dnscat2, Strong, EvDnscat2Answer})
	other := dc2Msg(0x3333, 0xcafe, 200, 103, nil)
	add(tcase{"dnscat2 short MSG, answer of another session", name(dc2Labels(short), "biillpi.com"), typeTXT, true,
		[]answer{{typeTXT, txtRdata(hex.EncodeToString(other))}}, Dnscat2, Weak, EvDnscat2Packet})
	add(tcase{"dnscat2 tagged", append([]string{"dnscat"}, dc2Labels(short)...), typeCNAME, false, nil, Dnscat2, Strong, EvDnscat2Tagged})
	syn := append(dc2Header(0x4444, 0x00, 0x1234), 0x12, 0x34, 0x00, 0x21)
	syn = append(syn, "command (ubuntu)\x00"...)
	add(tcase{"dnscat2 SYN with name", name(dc2Labels(syn), "example.org"), typeTXT, false, nil, Dnscat2, Strong, EvDnscat2Handshake})
	enc := append(dc2Header(0x5555, 0x03, 0x1234), 0, 0, 0, 0)
	enc = append(enc, random(64)...)
	add(tcase{"dnscat2 ENC INIT", name(dc2Labels(enc), "example.org"), typeA, false, nil, Dnscat2, Strong, EvDnscat2Handshake})
	fin := append(dc2Header(0x6666, 0x02, 0x1234), "Session closed\x00"...)
	add(tcase{"dnscat2 FIN", name(dc2Labels(fin), "example.org"), typeTXT, false, nil, Dnscat2, Strong, EvDnscat2Handshake})

	// dns2tcp.
	add(tcase{"dns2tcp =auth", name(append(d2tLabels(d2tPacket(0, 0, 0x8648, 0, nil)), "=auth"), "dns2tcp.hsc.fr"), typeTXT, false, nil, Dns2tcp, Strong, EvDns2tcpCommand})
	add(tcase{"dns2tcp =connect", name(append(d2tLabels(d2tPacket(0xa277, 1, 2, 0, []byte("ssh"))), "=connect"), "dns2tcp.hsc.fr"), typeKEY, false, nil, Dns2tcp, Strong, EvDns2tcpCommand})
	add(tcase{"dns2tcp NOP KEY", name(d2tLabels(d2tPacket(0x1c9f, 5, 9, 0x04, nil)), "test000.com"), typeKEY, false, nil, Dns2tcp, Strong, EvDns2tcpPacket})
	add(tcase{"dns2tcp NOP TXT", name(d2tLabels(d2tPacket(0x1c9f, 5, 9, 0x04, nil)), "test000.com"), typeTXT, false, nil, Dns2tcp, Weak, EvDns2tcpPacket})
	// The case lost (Zeek lower-cases names; 0x20 resolvers scramble it):
	// only the command label still names the tool.
	lowAuth := strings.ToLower(strings.Join(d2tLabels(d2tPacket(0, 0, 0x8648, 0, nil)), "."))
	add(tcase{"dns2tcp =auth lower-cased", name([]string{lowAuth, "=auth"}, "dns2tcp.hsc.fr"), typeTXT, false, nil, Dns2tcp, Strong, EvDns2tcpCommand})
	add(tcase{"dns2tcp =connect case scrambled", name([]string{"AaaAAH7WqA", "=CoNNect"}, "dns2tcp.hsc.fr"), typeKEY, false, nil, Dns2tcp, Strong, EvDns2tcpCommand})
	add(tcase{"dns2tcp lower-cased, shorter than a header", name([]string{"aaaah7wqa", "=auth"}, "dns2tcp.hsc.fr"), typeTXT, false, nil, Unknown, None, EvNone})
	add(tcase{"dns2tcp lower-cased, no command", name([]string{lowAuth, "auth"}, "dns2tcp.hsc.fr"), typeTXT, false, nil, Unknown, None, EvNone})
	add(tcase{"dns2tcp lower-cased KEY", name([]string{"aaaaah7wqa"}, "dns2tcp.hsc.fr"), typeKEY, false, nil, Dns2tcp, Weak, EvDns2tcpPacket})
	add(tcase{"dns2tcp lower-cased KEY, short", name([]string{"aaaah7wqa"}, "dns2tcp.hsc.fr"), typeKEY, false, nil, Unknown, None, EvNone})
	add(tcase{"dns2tcp lower-cased data", name(strings.Split(strings.ToLower(strings.Join(d2tLabels(d2tPacket(0x1c9f, 5, 9, 0x08, random(90))), ".")), "."), "test000.com"), typeTXT, false, nil, Unknown, None, EvNone})
	// A data query alone is weak: random base64 decodes to a valid header
	// about one time in three. The server's answer, a packet of the same
	// session after one character, is strong.
	d2tData := name(d2tLabels(d2tPacket(0x1c9f, 5, 9, 0x08, random(90))), "test000.com")
	add(tcase{"dns2tcp DATA TXT 63", d2tData, typeTXT, false, nil, Dns2tcp, Weak, EvDns2tcpPacket})
	d2tReply := func(session uint16, typ byte, data []byte) []answer {
		return []answer{{typeTXT, txtRdata("A" + base64.RawStdEncoding.EncodeToString(d2tPacket(session, 9, 6, typ, data)))}}
	}
	add(tcase{"dns2tcp DATA TXT answered", d2tData, typeTXT, true, d2tReply(0x1c9f, 0x18, random(40)), Dns2tcp, Strong, EvDns2tcpAnswer})
	add(tcase{"dns2tcp DATA TXT answered, header only", d2tData, typeTXT, true, d2tReply(0x1c9f, 0x10, nil), Dns2tcp, Strong, EvDns2tcpAnswer})
	add(tcase{"dns2tcp DATA TXT answered, other session", d2tData, typeTXT, true, d2tReply(0x1ca0, 0x18, random(40)), Dns2tcp, Weak, EvDns2tcpPacket})
	add(tcase{"dns2tcp DATA TXT answered, bad type", d2tData, typeTXT, true, d2tReply(0x1c9f, 0x83, random(40)), Dns2tcp, Weak, EvDns2tcpPacket})
	add(tcase{"dns2tcp DATA TXT answered without the leading character", d2tData, typeTXT, true,
		[]answer{{typeTXT, txtRdata(base64.RawStdEncoding.EncodeToString(d2tPacket(0x1c9f, 9, 6, 0x18, random(40))))}}, Dns2tcp, Weak, EvDns2tcpPacket})
	add(tcase{"dns2tcp DATA TXT answered, short", d2tData, typeTXT, true, []answer{{typeTXT, txtRdata("AHJ8AB")}}, Dns2tcp, Weak, EvDns2tcpPacket})

	// OzymanDNS.
	add(tcase{"ozyman down", name([]string{"16961-63053", "id-64840", "down", "sshdns"}, "ggy666.tk"), typeTXT, false, nil, OzymanDNS, Strong, EvOzymanDown})
	up := strings.ToLower(dnsttB32.EncodeToString(random(70)))
	add(tcase{"ozyman up", name(append(chunk(up, 60), "9328-0", "id-64840", "up", "sshdns"), "ggy666.tk"), typeA, false, nil, OzymanDNS, Strong, EvOzymanUp})

	// DNSExfiltrator.
	init := strings.TrimRight(dnsttB32.EncodeToString([]byte("secret.docx|13")), "=")
	add(tcase{"dnsexfiltrator init", name([]string{"init", init, "base64"}, "hsc.fr"), typeTXT, false, nil, DNSExfiltrator, Strong, EvDNSExfilInit})
	data := strings.NewReplacer("+", "-", "/", "_").Replace(strings.TrimRight(hexToB64(random(150)), "="))
	add(tcase{"dnsexfiltrator chunk", name(append([]string{"4"}, chunk(data, 63)...), "hsc.fr"), typeTXT, false, nil, DNSExfiltrator, Strong, EvDNSExfilChunk})
	// A numbered lookup whose 63-character labels hold 16 symbols is hex,
	// not DNSExfiltrator's base64url or base32 (Sophos's Mac lookups write
	// hex shifted by ROT13); a long label of the attacker's zone does not
	// matter.
	rot := strings.NewReplacer("a", "n", "b", "o", "c", "p", "d", "q", "e", "r", "f", "s").Replace(hex.EncodeToString(random(80)))
	sophos := append(append([]string{"3"}, chunk(rot[:152], 63)...), rot[:40], "i", "00", "mac")
	add(tcase{"numbered lookup of ROT13 hex labels", name(sophos, "sophosxl.net"), typeTXT, false, nil, DNSExfiltrator, Weak, EvDNSExfilChunk})
	longZone := append(append([]string{"7"}, chunk(data[:160], 63)...), "updatecheck-telemetry")
	add(tcase{"dnsexfiltrator chunk, long zone label", name(longZone, "attacker.com"), typeTXT, false, nil, DNSExfiltrator, Strong, EvDNSExfilChunk})
	b32data := strings.ToLower(dnsttB32.EncodeToString(random(120)))
	add(tcase{"dnsexfiltrator chunk in base32", name(append([]string{"12"}, chunk(b32data, 63)...), "attacker.com"), typeTXT, false, nil, DNSExfiltrator, Strong, EvDNSExfilChunk})

	// dnstt.
	add(tcase{"dnstt data", name(dnsttLabels(clientID, random(3), random(100)), "t.example.com"), typeTXT, false, nil, Dnstt, Strong, EvDnsttData})
	add(tcase{"dnstt poll", name(dnsttLabels(clientID, random(8), nil), "t.example.com"), typeTXT, false, nil, Dnstt, Weak, EvDnsttPoll})
	add(tcase{"dnstt data, EDNS fork (no padding)", name(dnsttLabels(clientID, nil, random(100)), "t.example.com"), typeTXT, false, nil, Dnstt, Strong, EvDnsttData})
	// Random names decode to well-formed data after other padding lengths
	// now and then (two of 5,000 Amazon SES DKIM tokens did): no dnstt
	// client writes them.
	add(tcase{"dnstt-like, padding 4", name(dnsttLabels(clientID, random(4), random(6)), "dkim.amazonses.com"), typeTXT, false, nil, Dnstt, Weak, EvDnsttData})
	add(tcase{"dnstt-like, poll padding before data", name(dnsttLabels(clientID, random(8), random(2)), "dkim.amazonses.com"), typeTXT, false, nil, Dnstt, Weak, EvDnsttData})

	// Cobalt Strike.
	add(tcase{"cobalt upload", name([]string{"post", "2" + fmt.Sprintf("%08x%08x%08x", 1, 2, 3), fmt.Sprintf("%08x%08x%08x", 4, 5, 6), "1d3e19997cf2"}, "dns.example.com"), typeA, false, nil, CobaltStrike, Strong, EvCobaltUpload})
	add(tcase{"cobalt upload under the registered domain", name([]string{"post", "2" + fmt.Sprintf("%08x%08x%08x", 1, 2, 3), fmt.Sprintf("%08x%08x%08x", 4, 5, 6), "1d3e19997cf2"}, "example.com"), typeA, false, nil, CobaltStrike, Strong, EvCobaltUpload})
	add(tcase{"cobalt upload, a profile's own prefix", name([]string{"d-1ox", "4" + fmt.Sprintf("%08x%08x", 7, 8), fmt.Sprintf("%08x%08x%08x", 4, 5, 6), fmt.Sprintf("%08x", 9), fmt.Sprintf("%08x%08x", 1, 2), "1d3e19997cf2"}, "ns1.cdn-telemetry.net"), typeA, false, nil, CobaltStrike, Strong, EvCobaltUpload})
	add(tcase{"cobalt-like upload under a hex label", name([]string{"abc1", "2" + fmt.Sprintf("%08x%08x%08x", 1, 2, 3), fmt.Sprintf("%08x%08x%08x", 4, 5, 6), "1d3e19997cf2"}, "dns.example.com"), typeA, false, nil, Unknown, None, EvNone})
	add(tcase{"cobalt-like upload under a long label", name([]string{"averyverylongprefix", "2" + fmt.Sprintf("%08x%08x%08x", 1, 2, 3), fmt.Sprintf("%08x%08x%08x", 4, 5, 6), "1d3e19997cf2"}, "dns.example.com"), typeA, false, nil, Unknown, None, EvNone})
	add(tcase{"cobalt task api", name([]string{"api", "3f2a19997cf2"}, "dns.example.com"), typeTXT, false, nil, CobaltStrike, Weak, EvCobaltTask})
	add(tcase{"cobalt stager", name([]string{"baa", "stage", "123456"}, "dns.example.com"), typeTXT, false, nil, CobaltStrike, Strong, EvCobaltStager})
	add(tcase{"cobalt idle", name([]string{"2341987"}, "dns.example.com"), typeA, true, []answer{{typeA, []byte{0, 0, 0, 0}}}, CobaltStrike, Weak, EvCobaltIdle})

	// Sliver.
	poll := sliverMsg(3, 0x00abcdef, 0, 0, 0, random(8))
	add(tcase{"sliver poll base32", name(chunk(sliverB32.EncodeToString(poll), 63), "c2.example.com"), typeTXT, false, nil, Sliver, Strong, EvSliverMessage})
	data2 := sliverMsg(8, 0x01abcdef, 0, 0, 300, random(100))
	add(tcase{"sliver data base58", name(chunk(sliverB58(data2), 63), "c2.example.com"), typeA, false, nil, Sliver, Strong, EvSliverMessage})
	totp := sliverMsg(1, 12345678, 0, 0, 0, nil)
	add(tcase{"sliver totp", name([]string{sliverB32.EncodeToString(totp)}, "c2.example.com"), typeA, false, nil, Sliver, Strong, EvSliverMessage})
	return cs
}

func hexToB64(b []byte) string {
	const a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	var out []byte
	for i := 0; i+2 < len(b); i += 3 {
		v := uint32(b[i])<<16 | uint32(b[i+1])<<8 | uint32(b[i+2])
		out = append(out, a[v>>18], a[v>>12&63], a[v>>6&63], a[v&63])
	}
	return string(out)
}

func TestTools(t *testing.T) {
	for _, c := range toolCases() {
		got := classifyWire(t, c.msg())
		if got.Tool != c.tool || got.Strength != c.strength || got.Evidence != c.evidence {
			t.Errorf("%s (%q, type %d): got %v, want %v %v %v", c.desc, strings.Join(c.labels, "."), c.qtype, got, c.tool, c.strength, c.evidence)
		}
	}
}

func TestDetails(t *testing.T) {
	m := classifyWire(t, wireMsg(name([]string{iodineVersionLabel(0x502, 1)}, "example.com"), 10, false))
	if m.Detail != 0x502 || m.String() != "iodine strong: iodine version handshake (v query) (protocol 0x502)" {
		t.Errorf("got %+v %q", m, m)
	}
	m = classifyWire(t, wireMsg(name(dc2Labels(dc2Msg(1, 0xbeef, 1, 2, make([]byte, 40))), "example.com"), 16, false))
	if m.Detail != 0xbeef || m.String() != "dnscat2 strong: dnscat2 packet in 60-character hex labels (session 0xbeef)" {
		t.Errorf("got %+v %q", m, m)
	}
	if (Match{}).String() != "unknown" {
		t.Error("zero Match")
	}
}

func TestRaw(t *testing.T) {
	cases := []struct {
		p    []byte
		want Strength
	}{
		{append([]byte{0x10, 0xd1, 0x9e, 0x13}, make([]byte, 16)...), Strong}, // login, user 3
		{[]byte{0x10, 0xd1, 0x9e, 0x20, 0x78, 0xda}, Strong},                  // data
		{[]byte{0x10, 0xd1, 0x9e, 0x30}, Strong},                              // ping
		{[]byte{0x10, 0xd1, 0x9e, 0x30, 1}, None},                             // ping with payload
		{[]byte{0x10, 0xd1, 0x9e, 0x10}, None},                                // login without hash
		{[]byte{0x10, 0xd1, 0x9e, 0x40, 1}, None},                             // unknown command
		{[]byte{0x10, 0xd1, 0x9f, 0x20, 1}, None},
		{[]byte{0x10, 0xd1}, None},
		{nil, None},
	}
	for _, c := range cases {
		if got := ClassifyRaw(c.p); got.Strength != c.want || (c.want == Strong && got.Tool != Iodine) {
			t.Errorf("ClassifyRaw(% x) = %v, want %v", c.p, got, c.want)
		}
		// The same bytes handed to Classify as a "DNS message".
		m := Message{Msg: c.p}
		if got := Classify(&m); got.Strength != c.want {
			t.Errorf("Classify(raw % x) = %v, want %v", c.p, got, c.want)
		}
	}
}

// negativeNames are ordinary names, some of them deliberately odd-looking;
// none may be strong for any query type.
func negativeNames() []string {
	sum := sha256.Sum256([]byte("eicar"))
	h := hex.EncodeToString(sum[:])
	names := []string{
		"www.google.com",
		"e1234.dscb.akamaiedge.net",
		"r3---sn-5hne6nzk.googlevideo.com",
		"d1a2b3c4.cloudfront.net",
		"d3c4b2a1e5f6.cloudfront.net",
		"4.3.2.1.zen.spamhaus.org",
		"b.a.9.8.7.6.5.4.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
		"_ldap._tcp.dc._msdcs.example.com",
		"selector1._domainkey.example.com",
		h[:63] + ".avqs.mcafee.com",
		h[:32] + "." + h[32:] + ".avqs.mcafee.com",
		h[:32] + ".hash.cymru.com",
		h[:40] + ".sha1.example.net",
		"www.google.com.corp.example.com",
		"paraguay.example.com",
		"yubico.example.com",
		"signal.example.com",
		"counter.example.com",
		"api.1a2b3c4d.example.com",
		"cdn.0ff1ce.example.com",
		"www.1deadbeef.cafebabe.example.com",
		"post.1abc.123.example.com",
		"init.example.com",
		"0.pool.ntp.org",
		"1.debian.pool.ntp.org",
		"connectivity-check.ubuntu.com",
		"time-a-g.nist.gov",
		"a23-45-67-89.deploy.static.akamaitechnologies.com",
		"ec2-54-12-34-56.compute-1.amazonaws.com",
		"mail-vk1-f170.google.com",
		"3fa85f64-5717-4562-b3fc-2c963f66afa6.example.com",
		"xn--bcher-kva.example.com",
		"wpad.corp.example.com",
		"_sip._udp.example.com",
		"abcdefghij.example.com",
		"AbCdEfGhIj.example.com",
		"q1w2e3r4t5y6u7i8o9p0.example.com",
		"stage.example.com",
		"id-123.up.example.com",
		"12-34.id-56.sideways.example.com",
	}
	return names
}

func TestNegatives(t *testing.T) {
	for _, n := range negativeNames() {
		// Not NULL (10) or PRIVATE: no ordinary client asks for those, which
		// is itself one of iodine's facts.
		for _, qt := range []uint16{1, 28, 5, 15, 16, 33, 12, 65, 255} {
			for _, resp := range []bool{false, true} {
				got := classifyWire(t, wireMsg(strings.Split(n, "."), qt, resp))
				if got.Strength == Strong {
					t.Errorf("%s type %d response %v: %v", n, qt, resp, got)
				}
			}
		}
	}
}

// TestRandomLabels: random labels in the alphabets tunnels use, with every
// query type, must never be strong; a handful may be weak.
func TestRandomLabels(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	alphabets := []string{
		"0123456789abcdef",
		"abcdefghijklmnopqrstuvwxyz0123456789",
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-",
		"abcdefghijklmnopqrstuvwxyz",
	}
	strong, total := 0, 0
	for i := 0; i < 20000; i++ {
		a := alphabets[i%len(alphabets)]
		n := 3 + rng.Intn(30)
		b := make([]byte, n)
		for j := range b {
			b[j] = a[rng.Intn(len(a))]
		}
		for _, qt := range []uint16{1, 28, 16} {
			total++
			if got := classifyWire(t, wireMsg([]string{string(b), "example", "com"}, qt, false)); got.Strength == Strong {
				strong++
				if strong < 10 {
					t.Logf("strong on random label %q type %d: %v", b, qt, got)
				}
			}
		}
	}
	// One strong hit in 60000 random labels is the most a 1-in-65536
	// structure should produce.
	if strong > 1 {
		t.Errorf("%d strong matches on %d random labels", strong, total)
	}
}

func TestParseTool(t *testing.T) {
	for tool := Tool(1); tool < numTools; tool++ {
		if got, ok := ParseTool(tool.String()); !ok || got != tool {
			t.Errorf("ParseTool(%q) = %v, %v", tool.String(), got, ok)
		}
	}
	if got, ok := ParseTool("iodine-raw"); !ok || got != Iodine {
		t.Errorf("iodine-raw: %v %v", got, ok)
	}
	if _, ok := ParseTool("nope"); ok {
		t.Error("nope parsed")
	}
	if Tool(200).String() != "unknown" || Strength(9).String() != "none" || Evidence(250).String() != "unknown evidence" {
		t.Error("out of range names")
	}
}

// TestMalformedMessage: Sub and SubLabels that disagree give no match.
func TestMalformedMessage(t *testing.T) {
	good := iodineVersionLabel(0x502, 1)
	for _, m := range []Message{
		{Sub: []byte(good), SubLabels: []uint8{5}},
		{Sub: []byte(good), SubLabels: []uint8{20}},
		{Sub: []byte(good + ".x"), SubLabels: []uint8{11, 2}},
		{Sub: []byte(good), SubLabels: nil},
		{Sub: []byte(good), SubLabels: []uint8{0, 11}},
	} {
		if got := Classify(&m); got.Strength != None {
			t.Errorf("%q %v: %v", m.Sub, m.SubLabels, got)
		}
	}
	m := Message{Sub: []byte(good), SubLabels: []uint8{11}, QType: 10}
	if got := Classify(&m); got.Evidence != EvIodineVersion {
		t.Errorf("well-formed: %v", got)
	}
	if got := Classify(nil); got.Strength != None {
		t.Error("nil message")
	}
}

func TestZeroAllocs(t *testing.T) {
	var msgs []Message
	b := newBuilder()
	for _, c := range toolCases() {
		var m Message
		if !b.message(c.msg(), &m) {
			t.Fatal(c.desc)
		}
		// Keep copies: the builder reuses its buffers.
		m.Sub = append([]byte(nil), m.Sub...)
		m.SubLabels = append([]uint8(nil), m.SubLabels...)
		m.Zone = append([]byte(nil), m.Zone...)
		msgs = append(msgs, m)
	}
	for _, n := range negativeNames()[:10] {
		var m Message
		b.message(wireMsg(strings.Split(n, "."), 16, true), &m)
		m.Sub = append([]byte(nil), m.Sub...)
		m.SubLabels = append([]uint8(nil), m.SubLabels...)
		m.Zone = append([]byte(nil), m.Zone...)
		msgs = append(msgs, m)
	}
	for i := range msgs {
		m := &msgs[i]
		if n := testing.AllocsPerRun(50, func() { Classify(m) }); n != 0 {
			t.Errorf("%q: %v allocations", m.Sub, n)
		}
	}
	raw := []byte{0x10, 0xd1, 0x9e, 0x20, 1, 2, 3}
	if n := testing.AllocsPerRun(50, func() { ClassifyRaw(raw) }); n != 0 {
		t.Errorf("ClassifyRaw: %v allocations", n)
	}
}

func BenchmarkClassify(b *testing.B) {
	bl := newBuilder()
	cases := toolCases()
	msgs := make([]Message, 0, len(cases))
	for _, c := range cases {
		var m Message
		bl.message(c.msg(), &m)
		m.Sub = append([]byte(nil), m.Sub...)
		m.SubLabels = append([]uint8(nil), m.SubLabels...)
		m.Zone = append([]byte(nil), m.Zone...)
		msgs = append(msgs, m)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Classify(&msgs[i%len(msgs)])
	}
}

func BenchmarkClassifyOrdinary(b *testing.B) {
	bl := newBuilder()
	var m Message
	bl.message(wireMsg([]string{"r3---sn-5hne6nzk", "googlevideo", "com"}, 1, false), &m)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Classify(&m)
	}
}

// TestDns2tcpBase64IsNotIodine: a dns2tcp data query whose first label
// also has the shape of iodine's base64 upstream (a hex digit, three
// base32 characters, a '+') is no strong iodine match: its labels are 63
// characters long, which iodine's never are (a dot every 57 characters).
// The query alone is weak (either tool's shape); the server's answer
// makes it dns2tcp's.
func TestDns2tcpBase64IsNotIodine(t *testing.T) {
	sub := []byte("6I0AAAACCE4srKWSSwLjE6JtaaRsBTtRpeLAR6HbPPKGIUnQZC9zPtTK1C+T5C2.lRWz+8PGDa6tff2hQVRPYTrA1YAGrT4Ejea8IAjKH4ps4fNItypWJUNw760Im1r.quDb6pDQ1f1rGhmMcZndk4XQmvQ7ogsLYF2veA7bGv.dl")
	m := Message{QType: 16, Sub: sub, SubLabels: []uint8{63, 63, 42, 2}, Zone: []byte("updates-mirror.org")}
	if got := Classify(&m); got.Strength != Weak {
		t.Fatalf("got %v", got)
	}
	labels := strings.Split(string(sub), ".")
	b, err := base64.RawStdEncoding.DecodeString(labels[0][:8])
	if err != nil {
		t.Fatal(err)
	}
	reply := "A" + base64.RawStdEncoding.EncodeToString(append(b[:2:2], 0, 1, 0, 2, 0x18, 'o', 'k'))
	m = Message{Response: true, QType: 16, Sub: sub, SubLabels: []uint8{63, 63, 42, 2}, Zone: []byte("updates-mirror.org"),
		Msg: wireMsg(append(labels, "updates-mirror", "org"), typeTXT, true, answer{typeTXT, txtRdata(reply)})}
	if got := Classify(&m); got.Tool != Dns2tcp || got.Strength != Strong || got.Evidence != EvDns2tcpAnswer {
		t.Fatalf("answered: got %v", got)
	}
}

// TestBase64ExfiltrationIsNoTool: standard base64 of random data in
// 63-character labels of TXT queries (a PowerShell exfiltration script's
// output) names no tool strongly, whatever its characters happen to be.
func TestBase64ExfiltrationIsNoTool(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	strong := 0
	for i := 0; i < 20000; i++ {
		b := make([]byte, 47)
		rng.Read(b)
		label := base64.StdEncoding.EncodeToString(b)[:63]
		m := Message{QType: typeTXT, Sub: []byte(label + ".logs"), SubLabels: []uint8{63, 4}, Zone: []byte("updates-cdn.info")}
		if got := Classify(&m); got.Strength == Strong {
			strong++
			if strong < 4 {
				t.Errorf("%q: %v", label, got)
			}
		}
	}
	if strong > 0 {
		t.Fatalf("%d of 20000 random base64 labels matched strongly", strong)
	}
}

// TestLowerCasedBase64IsWeak: the same name lower-cased (as in a Zeek log)
// could be iodine's base64 or dns2tcp's; iodine's alphabet is then only a
// weak sign, so dns2tcp's command labels in the same domain can name it.
func TestLowerCasedBase64IsWeak(t *testing.T) {
	sub := []byte("6i0aaaacce4srkwsswlje6jtaarsbttrpelar6hbppkgiunqzc9zpttk1c+t5c2.lrwz+8pgda6tff2hqvrpytra1yagrt4ejea8iajkh4ps4fnitypwjunw760im1r.qudb6pdq1f1rghmmczndk4xqmvq7ogslyf2vea7bgv.dl")
	m := Message{QType: 16, Sub: sub, SubLabels: []uint8{63, 63, 42, 2}, Zone: []byte("updates-mirror.org")}
	if got := Classify(&m); got.Tool != Iodine || got.Strength != Weak || got.Evidence != EvIodineDataBase64 {
		t.Fatalf("got %v", got)
	}
}

// TestGodohCRC: the matcher's CRC-32 is the library's.
func TestGodohCRC(t *testing.T) {
	for _, b := range [][]byte{nil, {0}, []byte("123456789"), bytes.Repeat([]byte{0xa5, 0x3c, 0xff}, 30)} {
		if got, want := godohCRC(b), crc32.ChecksumIEEE(b); got != want {
			t.Fatalf("%x: %08x, want %08x", b, got, want)
		}
	}
}

// TestTCPOverDNSStructure: the tcp-over-dns matcher alone (Classify may
// prefer another tool's weak match): a wrong checksum is weak, a symbol
// too few or too many, or padding that is not zero, no match.
func TestTCPOverDNSStructure(t *testing.T) {
	const tod63 = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"
	data := bytes.Repeat([]byte{0x5a, 0xa5, 0x13}, 33)
	pkt := todPacket(0x9c41, 7, 1, data)
	match := func(labels []string) Match {
		sub := strings.Join(labels, ".")
		lens := make([]uint8, len(labels))
		for i, l := range labels {
			lens[i] = uint8(len(l))
		}
		var v view
		m := Message{QType: typeTXT, Sub: []byte(sub), SubLabels: lens, Zone: []byte("tcpodns.net")}
		if !v.init(&m) {
			t.Fatalf("bad labels %q", labels)
		}
		return tcpOverDNSMatch(&v, &m)
	}
	good := append(todName(tcpOverDNS63, tod63, 'b', pkt), "tnl")
	if got := match(good); got.Tool != TCPOverDNS || got.Strength != Strong || got.Detail != 0x9c41 {
		t.Fatalf("good: %v", got)
	}
	zero := append([]byte{}, pkt...)
	zero[5] = 0
	if got := match(append(todName(tcpOverDNS63, tod63, 'b', zero), "tnl")); got.Strength != Strong {
		t.Fatalf("checksum 0: %v", got)
	}
	bad := append([]byte{}, pkt...)
	bad[5]++
	if got := match(append(todName(tcpOverDNS63, tod63, 'b', bad), "tnl")); got.Strength != Weak {
		t.Fatalf("checksum off: %v", got)
	}
	short := todName(tcpOverDNS63, tod63, 'b', pkt)
	last := short[len(short)-1]
	short[len(short)-1] = last[:len(last)-1]
	if got := match(append(short, "tnl")); got.Strength != None {
		t.Fatalf("a symbol short: %v", got)
	}
	long := todName(tcpOverDNS63, tod63, 'b', pkt)
	long[len(long)-1] += "a"
	if got := match(append(long, "tnl")); got.Strength != None {
		t.Fatalf("a symbol more: %v", got)
	}
	if got := match([]string{"bigbrother", "tnl"}); got.Strength != None {
		t.Fatalf("a word: %v", got)
	}
}

// TestBaseCodecExponents: the block sizes BaseConverter's search gives,
// checked by their defining property: 256^bytes <= n^sym, with a waste
// no other pair within 63 bits beats.
func TestBaseCodecExponents(t *testing.T) {
	for _, c := range []*baseCodec{tcpOverDNS63, tcpOverDNS37} {
		src, dst := new(big.Int).Lsh(big.NewInt(1), uint(8*c.bytes)), new(big.Int).Exp(new(big.Int).SetUint64(c.n), big.NewInt(int64(c.sym)), nil)
		if src.Cmp(dst) > 0 || dst.BitLen() > 63 || c.bytes < 1 {
			t.Fatalf("base %d: %d bytes in %d symbols", c.n, c.bytes, c.sym)
		}
		// One fewer symbol cannot hold the block.
		less := new(big.Int).Exp(new(big.Int).SetUint64(c.n), big.NewInt(int64(c.sym-1)), nil)
		if less.Cmp(src) >= 0 {
			t.Fatalf("base %d: %d symbols would do", c.n, c.sym-1)
		}
	}
}

// TestTunsStructure: the TUNS matcher alone (Classify may prefer another
// tool's weak match on a 'd' label): a data query is weak, and so is one
// answered as a poll is; an A query is nothing.
func TestTunsStructure(t *testing.T) {
	data := strings.ReplaceAll(base32.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x45, 0x00, 0x00, 0x54, 0x1c}, 10)), "=", "0")
	labels := append([]string{"d" + data[:62]}, chunk(data[62:], 63)...)
	for _, c := range []struct {
		desc     string
		qtype    uint16
		response bool
		answer   string
		want     Strength
	}{
		{"data query", typeCNAME, false, "", Weak},
		{"data acknowledged", typeCNAME, true, "l3", Strong},
		{"data answered as a poll is", typeCNAME, true, "dzero", Weak},
		{"A query", typeA, true, "l3", None},
	} {
		full := name(labels, "t.tunsnet.org")
		var answers []answer
		if c.answer != "" {
			answers = []answer{{typeCNAME, nameRdata(name([]string{c.answer}, "t.tunsnet.org"))}}
		}
		m := Message{Response: c.response, QType: c.qtype, Sub: []byte(strings.Join(append(append([]string{}, labels...), "t"), ".")),
			Zone: []byte("tunsnet.org"), Msg: wireMsg(full, c.qtype, c.response, answers...)}
		for _, l := range append(append([]string{}, labels...), "t") {
			m.SubLabels = append(m.SubLabels, uint8(len(l)))
		}
		var v view
		if !v.init(&m) {
			t.Fatal("bad labels")
		}
		if got := tunsMatch(&v, &m); got.Strength != c.want || c.want != None && got.Tool != Tuns {
			t.Errorf("%s: %v, want %v", c.desc, got, c.want)
		}
	}
}

// TestTunsPaddingAcrossLabels: dns_split cuts the text at 62 and 63
// without regard to padding, so an IP packet of 76 bytes (an NTP packet)
// has its padding digits start in the label before the last.
func TestTunsPaddingAcrossLabels(t *testing.T) {
	for _, size := range []int{36, 37, 38, 76, 77, 116} {
		data := strings.ReplaceAll(base32.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x45, 0x10, 0x7e}, size)[:size]), "=", "0")
		labels := append([]string{"d" + data[:62]}, chunk(data[62:], 63)...)
		full := name(labels, "t.tunsnet.org")
		sub := append(append([]string{}, labels...), "t")
		m := Message{Response: true, QType: typeCNAME, Sub: []byte(strings.Join(sub, ".")), Zone: []byte("tunsnet.org"),
			Msg: wireMsg(full, typeCNAME, true, answer{typeCNAME, nameRdata(name([]string{"l0"}, "t.tunsnet.org"))})}
		for _, l := range sub {
			m.SubLabels = append(m.SubLabels, uint8(len(l)))
		}
		var v view
		if !v.init(&m) {
			t.Fatal("bad labels")
		}
		if got := tunsMatch(&v, &m); got.Tool != Tuns || got.Strength != Strong {
			t.Errorf("%d bytes (%q): %v", size, labels, got)
		}
	}
}

// TestReviewNegatives: names a review found strong by accident.
func TestReviewNegatives(t *testing.T) {
	for _, c := range []struct {
		labels []string
		zone   string
	}{
		{[]string{"Download2024Mirror-", "eu-"}, "example.com"},                                     // one chunk and a tail: not dnsteal
		{[]string{"Abcdefghijklmnop1-", "x-"}, "example.com"},                                       // the same
		{[]string{strings.Repeat("a1b2c3", 10), strings.Repeat("d4e5f6", 10), "01"}, "example.com"}, // a dot count with a leading zero: not dnspot
	} {
		m := Message{QType: typeA, Sub: []byte(strings.Join(c.labels, ".")), Zone: []byte(c.zone)}
		for _, l := range c.labels {
			m.SubLabels = append(m.SubLabels, uint8(len(l)))
		}
		if got := Classify(&m); got.Strength == Strong {
			t.Errorf("%q: %v", c.labels, got)
		}
	}
}

// dnscapyReply is a response to the name labels (the domain's labels
// last) whose one answer, of type qtype, is owned by the name without its
// first skip labels, as DNScapy's server owns every answer by its domain
// (Core.forge_packet's rrname).
func dnscapyReply(labels []string, qtype uint16, skip int, rdata []byte) []byte {
	b := wireMsg(labels, qtype, true, answer{qtype, rdata})
	off := 12
	for _, l := range labels[:skip] {
		off += 1 + len(l)
	}
	at := 12 + len(nameRdata(labels)) + 4 // the answer's owner pointer
	b[at], b[at+1] = 0xC0|byte(off>>8), byte(off)
	return b
}

// TestDnscapy: DNScapy's queries are weak alone; answered by a record
// owned by the domain itself whose data starts with a type letter, strong.
func TestDnscapy(t *testing.T) {
	const typeCNAME, typeTXT = 5, 16
	zone := []string{"t", "tunnel-lab", "net"}
	q := func(head ...string) []string { return append(head, zone...) }
	payload := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("SSH-2.0-OpenSSH_9.2p1 Debian\r\n"), 4))
	data := append(chunk(payload, 63), "0", "b", "3", "40213")
	for _, c := range []struct {
		desc     string
		msg      []byte
		strength Strength
		evidence Evidence
	}{
		{"poll query", wireMsg(q("c", "3", "40213"), typeCNAME, false), Weak, EvDnscapyQuery},
		{"poll answered e", dnscapyReply(q("c", "3", "40213"), typeCNAME, 3, nameRdata([]string{"e"})), Strong, EvDnscapyReply},
		{"poll answered with a count", dnscapyReply(q("c", "3", "40213"), typeTXT, 3, txtRdata("c.2")), Strong, EvDnscapyReply},
		{"connect answered", dnscapyReply(q("a", "5512"), typeCNAME, 2, nameRdata([]string{"a", "3", "0", "U1NILTIuMC1PcGVuU1NI"})), Strong, EvDnscapyReply},
		{"data answered with its acknowledgement", dnscapyReply(q(data...), typeTXT, len(data), txtRdata("b.0")), Strong, EvDnscapyReply},
		{"done after data", dnscapyReply(q("b", "e", "3", "40213"), typeTXT, 4, txtRdata("e")), Strong, EvDnscapyReply},
		{"connect query under a deeper domain", wireMsg(append([]string{"a", "77", "dns"}, zone...), typeCNAME, false), Weak, EvDnscapyQuery},
		{"answer owned by the question", wireMsg(q("c", "3", "40213"), typeCNAME, true, answer{typeCNAME, nameRdata([]string{"e"})}), Weak, EvDnscapyQuery},
		{"answer owned by the registered domain only", dnscapyReply(q("c", "3", "40213"), typeCNAME, 4, nameRdata([]string{"e"})), Weak, EvDnscapyQuery},
		{"answer of another letter", dnscapyReply(q("c", "3", "40213"), typeCNAME, 3, nameRdata([]string{"edge", "cdn", "net"})), Weak, EvDnscapyQuery},
		{"connection number 0", wireMsg(q("c", "0", "40213"), typeCNAME, false), None, EvNone},
		{"n over 65535", wireMsg(q("c", "3", "65536"), typeCNAME, false), None, EvNone},
		{"poll not first", wireMsg(q("www", "c", "3", "40213"), typeCNAME, false), None, EvNone},
		{"data without its argument", wireMsg(q("b", "3", "40213"), typeTXT, false), None, EvNone},
		{"an A query", wireMsg(q("c", "3", "40213"), 1, false), None, EvNone},
		{"a CDN's numbered host", wireMsg([]string{"img", "d", "2", "443", "example", "com"}, typeCNAME, false), None, EvNone},
		// An IPv6 address reversed for a blocklist: its nibbles make
		// "<digit>.d.<digit>.<digit>" by chance.
		{"IPv6 blocklist lookup", wireMsg(append(strings.Split("0.1.d.8.6.5.5.a.3.e.f.f.f.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2", "."), "zen", "spamhaus", "org"), typeTXT, false), None, EvNone},
		{"nibbles before the header", wireMsg(q("a", "3", "7", "b", "3", "40213"), typeTXT, false), None, EvNone},
	} {
		checkToolMessage(t, c.desc, c.msg, Match{Tool: Dnscapy, Strength: c.strength, Evidence: c.evidence})
	}
}

// checkToolMessage requires Classify to give msg the match want (the zero
// Match when want's strength is None) without allocating, and the gate to
// agree.
func checkToolMessage(t *testing.T, desc string, msg []byte, want Match) {
	t.Helper()
	if want.Strength == None {
		want = Match{}
	}
	if got := classifyWire(t, msg); got != want {
		t.Errorf("%s: %v, want %v", desc, got, want)
	}
	var m Message
	if !newBuilder().message(msg, &m) {
		t.Fatal(desc)
	}
	if n := testing.AllocsPerRun(20, func() { Classify(&m) }); n != 0 {
		t.Errorf("%s: %v allocations", desc, n)
	}
	checkGate(t, &m)
}

// nstxName encodes an NSTX message as its client writes it
// (nstx_encode.c): the padding count as a letter, then base64 over NSTX's
// alphabet of the message padded to whole groups, cut into labels of 63.
func nstxName(msg []byte) []string {
	enc := base64.NewEncoding("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_1234567890").WithPadding(base64.NoPadding)
	cut := (3 - len(msg)%3) % 3
	padded := append(append([]byte(nil), msg...), make([]byte, cut)...)
	return chunk(string("abc"[cut])+enc.EncodeToString(padded), 63)
}

// TestNSTX: NSTX's queries are weak alone, strong when answered with its
// reply (TXT strings starting with the magic byte, ending with an empty
// one).
func TestNSTX(t *testing.T) {
	const typeTXT = 16
	zone := []string{"tun", "nstxdom", "net"}
	idle := nstxName([]byte{0xb4, 0x00, 0x00, 0x00})
	rng := rand.New(rand.NewSource(4))
	data := make([]byte, 169)
	rng.Read(data)
	data[0], data[1] = 0xb4, 0x13
	reply := append([]byte{0xb4, 0x25, 0x01, 0x10}, data[:300%len(data)]...)
	replyRdata := append(txtRdata(string(reply)), 0)
	for _, c := range []struct {
		desc     string
		msg      []byte
		strength Strength
		evidence Evidence
	}{
		{"idle poll", wireMsg(append(idle, zone...), typeTXT, false), Weak, EvNSTXQuery},
		{"idle poll answered", wireMsg(append(idle, zone...), typeTXT, true, answer{typeTXT, []byte{4, 0xb4, 0, 0, 0, 0}}), Strong, EvNSTXReply},
		// 141 bytes fill three labels of 63: the run of labels goes on
		// into the domain's first one.
		{"three full labels answered", wireMsg(append(nstxName(append([]byte{0xb4, 0x11, 0x22, 0x03}, make([]byte, 137)...)), zone...), typeTXT, true, answer{typeTXT, []byte{4, 0xb4, 0, 0, 0, 0}}), Strong, EvNSTXReply},
		// The query alone (iodine's weak base64 comes first in the Tool
		// order, ties to it): checked below without Classify.
		{"data answered with a packet", wireMsg(append(nstxName(data), zone...), typeTXT, true, answer{typeTXT, replyRdata}), Strong, EvNSTXReply},
		{"answered without the empty string", wireMsg(append(idle, zone...), typeTXT, true, answer{typeTXT, []byte{4, 0xb4, 0, 0, 0}}), Weak, EvNSTXQuery},
		{"answered with text", wireMsg(append(idle, zone...), typeTXT, true, answer{typeTXT, txtRdata("v=spf1 -all")}), Weak, EvNSTXQuery},
		{"an A query", wireMsg(append(idle, zone...), 1, false), None, EvNone},
		{"a word in TXT", wireMsg([]string{"aTeleports", "example", "com"}, typeTXT, false), None, EvNone},
		{"lower case", wireMsg(append([]string{strings.ToLower(idle[0])}, zone...), typeTXT, false), None, EvNone},
	} {
		checkToolMessage(t, c.desc, c.msg, Match{Tool: NSTX, Strength: c.strength, Evidence: c.evidence})
	}
	var m Message
	if !newBuilder().message(wireMsg(append(nstxName(data), zone...), typeTXT, false), &m) {
		t.Fatal("data")
	}
	var v view
	if !v.init(&m) {
		t.Fatal("data view")
	}
	if got := nstxMatch(&v, &m); got != (Match{Tool: NSTX, Strength: Weak, Evidence: EvNSTXQuery}) {
		t.Errorf("data query: %v", got)
	}
}

// pyexfilQuery builds a query as PyExfil's dns_exfil does: its fixed
// header, the name, type A, class IN, then trail.
func pyexfilQuery(name string, trail []byte) []byte {
	b := []byte{0x04, 0x06, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}
	b = append(b, nameRdata(strings.Split(name, "."))...)
	b = append(b, 0, 1, 0, 1)
	return append(b, trail...)
}

// TestPyExfil: data after the question of PyExfil's fixed header.
func TestPyExfil(t *testing.T) {
	term := []byte{0xcc, 0xcc, 0xcc, 0xcc, 0xff, 0xff, 0xff, 0xff}
	chunk := append(bytes.Repeat([]byte{0x78, 0x9c, 0x4b}, 40), term...)
	for _, c := range []struct {
		desc     string
		msg      []byte
		strength Strength
	}{
		{"initiation", pyexfilQuery("198.51.100.23", []byte("INIT_445secret.docx::-1234567\x00")), Strong},
		{"data chunk", pyexfilQuery("198.51.100.23", chunk), Strong},
		{"last packet", pyexfilQuery("198.51.100.23", append(append(append([]byte(nil), term...), 0), term...)), Strong},
		{"other trailing bytes", pyexfilQuery("ns1.example.com", []byte("hello")), Weak},
		{"no trailing bytes", pyexfilQuery("www.example.com", nil), None},
		{"another ID", append([]byte{0x04, 0x07}, pyexfilQuery("198.51.100.23", chunk)[2:]...), None},
	} {
		checkToolMessage(t, c.desc, c.msg, Match{Tool: PyExfil, Strength: c.strength, Evidence: EvPyExfilData})
	}
}

// egressTXTQuery builds a query as Egress-Assess's TXT client does
// (scapy's DNS(id=15, aa=1, qr=0)); flags sets other flags.
func egressTXTQuery(name string, flags uint16) []byte {
	b := []byte{0x00, 0x0f, byte(flags >> 8), byte(flags), 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}
	b = append(b, nameRdata(strings.Split(name, "."))...)
	return append(b, 0, 16, 0, 1)
}

// TestEgressAssess: the A client's chunks (its padding as a label "---")
// and the TXT client's queries (ID 15 with AA set).
func TestEgressAssess(t *testing.T) {
	const typeA = 1
	rng := rand.New(rand.NewSource(6))
	chunk := make([]byte, 20)
	rng.Read(chunk)
	full := strings.Replace(base64.StdEncoding.EncodeToString(chunk), "=", ".---", 1)
	last := strings.Replace(base64.StdEncoding.EncodeToString(chunk[:8]), "=", ".---", 1)
	file := base64.StdEncoding.EncodeToString([]byte("passwd.:|:.3/12.:|:.root:x:0:0"))
	for _, c := range []struct {
		desc     string
		msg      []byte
		strength Strength
		evidence Evidence
	}{
		{"full chunk", wireMsg(append(strings.Split(full, "."), "exfil", "assess-lab", "net"), typeA, false), Strong, EvEgressAssessChunk},
		{"last chunk", wireMsg(append(strings.Split(last, "."), "exfil", "assess-lab", "net"), typeA, false), Weak, EvEgressAssessChunk},
		{"hex before the dashes", wireMsg([]string{"0123456789abcdef0123456789A", "---", "example", "com"}, typeA, true), Strong, EvEgressAssessChunk},
		{"a chunk's last character with its low bits set", wireMsg([]string{"0123456789abcdef0123456789b", "---", "example", "com"}, typeA, false), None, EvNone},
		{"a dashed host", wireMsg([]string{"www", "---", "example", "com"}, typeA, false), None, EvNone},
		{"TXT file chunk", egressTXTQuery(file, 0x0500), Strong, EvEgressAssessTXT},
		{"TXT end", egressTXTQuery("ENDTHISFILETRANSMISSIONEGRESSASSESS", 0x0500), Strong, EvEgressAssessTXT},
		{"TXT without AA", egressTXTQuery(file, 0x0100), None, EvNone},
		{"TXT of two labels", egressTXTQuery("www.example.com", 0x0500), None, EvNone},
	} {
		checkToolMessage(t, c.desc, c.msg, Match{Tool: EgressAssess, Strength: c.strength, Evidence: c.evidence})
	}
}

// mythicPacket encodes a DnsPacket as proto.Marshal does (dns.proto: 1
// Action, 2 AgentSessionID, 3 MessageID, 4 Size, 5 Begin, 6 Data; zero
// values left out) and returns its name labels as Poseidon writes them:
// base32, upper case, no padding, labels of 63.
func mythicPacketLabels(action, session, message, size, begin uint32, data string) []string {
	var b []byte
	for i, x := range []uint32{action, session, message, size, begin} {
		if x != 0 {
			b = pbVarint(append(b, byte((i+1)<<3)), uint64(x))
		}
	}
	if data != "" {
		b = append(pbVarint(append(b, 6<<3|2), uint64(len(data))), data...)
	}
	return chunk(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b), 63)
}

// mythicReplyMsg is a response to labels whose answers are rdatas, the
// i-th with TTL ttls[i] (Mythic's server tells its records apart so).
func mythicReplyMsg(labels []string, qtype uint16, ttls []uint32, rdatas ...[]byte) []byte {
	b := wireMsg(labels, qtype, true)
	binary.BigEndian.PutUint16(b[6:], uint16(len(rdatas)))
	for i, r := range rdatas {
		b = append(b, 0xC0, 12)
		b = binary.BigEndian.AppendUint16(b, qtype)
		b = binary.BigEndian.AppendUint16(b, 1)
		b = binary.BigEndian.AppendUint32(b, ttls[i])
		b = binary.BigEndian.AppendUint16(b, uint16(len(r)))
		b = append(b, r...)
	}
	return b
}

// TestMythic: Poseidon's DnsPacket queries and the server's answers.
func TestMythic(t *testing.T) {
	const typeA, typeTXT = 1, 16
	zone := []string{"dns", "mythic-c2lab", "com"}
	le := func(x uint32) []byte { return binary.LittleEndian.AppendUint32(nil, x) }
	upload := append(mythicPacketLabels(0, 0xdeadbeef, 0x1234567, 1400, 112, "eyJhY3Rpb24iOiJjaGVja2luIiwidXVpZCI6IjEyMzQ1Njc4OTAi"), zone...)
	poll := append(mythicPacketLabels(1, 0xdeadbeef, 0x1234567, 0, 0, ""), zone...)
	ack := [][]byte{le(0xdeadbeef), le(0x1234567), le(112), le(0)}
	for _, c := range []struct {
		desc     string
		msg      []byte
		strength Strength
		evidence Evidence
	}{
		{"upload chunk", wireMsg(upload, typeA, false), Strong, EvMythicPacket},
		{"upload acknowledged", mythicReplyMsg(upload, typeA, []uint32{2, 0, 3, 1}, ack[2], ack[0], ack[3], ack[1]), Strong, EvMythicReply},
		{"poll answered", mythicReplyMsg(poll, typeA, []uint32{0, 1, 2, 3}, ack...), Strong, EvMythicReply},
		{"poll answered in TXT", mythicReplyMsg(poll, typeTXT, []uint32{0, 1, 2, 3}, txtRdata("3735928559"), txtRdata("19088743"), txtRdata("0"), txtRdata("ServerToAgent")), Strong, EvMythicReply},
		{"random base32", wireMsg(append([]string{"MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U"}, zone...), typeA, false), None, EvNone},
		{"a word", wireMsg(append([]string{"documentationsite"}, zone...), typeA, false), None, EvNone},
	} {
		checkToolMessage(t, c.desc, c.msg, Match{Tool: Mythic, Strength: c.strength, Evidence: c.evidence})
	}
	// A poll alone is weak, and so is one whose answers are not the
	// server's (iodine's weak base64 comes first in the Tool order, and
	// Classify gives that): the matcher's own verdict.
	for _, c := range []struct {
		desc string
		msg  []byte
	}{
		{"poll", wireMsg(poll, typeA, false)},
		{"poll answered for another session", mythicReplyMsg(poll, typeA, []uint32{0, 1, 2, 3}, le(7), ack[1], ack[2], ack[3])},
		{"poll answered with equal TTLs", mythicReplyMsg(poll, typeA, []uint32{60, 60, 60, 60}, ack...)},
	} {
		var m Message
		var v view
		if !newBuilder().message(c.msg, &m) || !v.init(&m) {
			t.Fatal(c.desc)
		}
		if got := mythicMatch(&v, &m); got != (Match{Tool: Mythic, Strength: Weak, Evidence: EvMythicPacket}) {
			t.Errorf("%s: %v", c.desc, got)
		}
		checkGate(t, &m)
	}
}
