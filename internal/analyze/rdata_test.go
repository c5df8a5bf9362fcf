package analyze

import (
	"bytes"
	"cmp"
	"hash/fnv"
	"slices"
	"strings"
	"testing"

	"github.com/dnsieve/dnsieve/internal/engine"
	"github.com/dnsieve/dnsieve/internal/testcap"
)

// txt encodes character-strings as TXT RDATA.
func txt(ss ...string) []byte {
	var b []byte
	for _, s := range ss {
		b = append(append(b, byte(len(s))), s...)
	}
	return b
}

func fnv64a(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
	}
	return h.Sum64()
}

func TestTXTData(t *testing.T) {
	for _, c := range []struct {
		s    []string
		want bool
	}{
		// Payloads.
		{[]string{"QmFzZTY0IGVuY29kZWQgcGF5bG9hZCBmb3IgdGhlIHRlc3Q="}, true},
		{[]string{"QmFzZTY0IGVuY29kZWQgcGF5bG9hZCBmb3IgdGhlIHRlc3Q=="}, true}, // padding is not a tag
		{[]string{"a3f09c1e5b7d22480e6f9a1c3b5d7e9f"}, true},                  // hex
		{[]string{"mfrggzdfmztwq2lknnwg23tpobyxe43u"}, true},                  // base32 (lower case, digits)
		{[]string{"x+/Ab3kQz9Lm2Np0Rs7Tu8Vw1Xy4Za5B"}, true},
		{[]string{"\x00\x01\x02\x03\x04\x05\x06\x07"}, true},                     // binary
		{[]string{"hello \xff\xfe world"}, true},                                 // not UTF-8
		{[]string{"QmFzZTY0IGVuY29", "kZWQgcGF5bG9hZ", "CBmb3IgdGhlIHRl"}, true}, // a payload cut into short strings
		// Ordinary text records.
		{[]string{"v=spf1 include:_spf.google.com ~all"}, false},
		{[]string{"v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu5G3"}, false},
		{[]string{"v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA", "QmFzZTY0IGVuY29kZWQgcGF5bG9hZCBmb3IgdGhlIHRlc3Q"}, false},
		{[]string{" v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDwIRP"}, false},      // pasted with a space
		{[]string{"( v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDwIRP"}, false},     // with a zone file's parenthesis
		{[]string{"\ufeffv=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDwIRP"}, false}, // with a byte order mark
		{[]string{"\"v=DKIM1; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDwIRP\""}, false},          // pasted with quotes
		{[]string{"k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDwIRP"}, false},
		{[]string{"p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDwIRP/Xyz"}, false},
		{[]string{"google-site-verification=rXOxyZounnZasA8Z7oaD3c14JdjS9aKSWvsR1EbUSIQ"}, false},
		{[]string{"MS=ms47291538"}, false},
		{[]string{"_globalsign-domain-verification=Zx1Kq7Jm3Pn9Rt5Vw2Yb8Ce4Gh6Lk0Mp"}, false},
		{[]string{"dnsaddr=/ip4/147.75.83.83/tcp/4001/p2p/QmbLHAnMoJPWSCR5Zhtx6BHJX9KiKNN6tpvbUcqanj75Nb"}, false},
		{[]string{"enr:-HW4QOFzoVLaFJnNhbgMoDXPnOvcdVuj7pDpqRvh6BRDO68aVi5ZcjB3vzQRZH2IcLBGHzo8uUN3snqmgTiE56CH3AMBgmlkgnY0iXNlY3AyNTZrMaECC2_24YYkYHEgdzxlSNKQEnHhuNAbNlMlWJxrJxbAFvA"}, false},
		{[]string{"enrtree-branch:2XS2367YHAXJFGLZHVAWLQD4ZY,H4FHT4B454P6UXFD7JCYQ5PWDY,MHTDO6TMUBRIA2XWG5LUDACK24"}, false},
		{[]string{"brevo-code:8f2a1c9d3e7b6a5f4c2d1e0f9a8b7c6d"}, false},
		{[]string{"ahrefs-site-verification_5f3a8e2c9d1b7a6e4c0f2d8b9a3e1c7f5d2b8a4e6c0f9d3b1a7e5c2f8d4b6a0e"}, false},
		{[]string{"ZOOM_verify_a8Kq3Zp0Lm7Xw2Tr9Vb4Nc6Yd1"}, false},
		{[]string{"Listed by CBL, see https://www.abuseat.org/lookup.cgi?ip=192.0.2.1"}, false},
		{[]string{"Serveur de messagerie de l'équipe — réservé aux employés, voir https://example.fr/aide"}, false}, // UTF-8 prose
		{[]string{"Serveur de messagerie de l'\xc3", "\xa9quipe — réservé aux employés"}, false},                    // a character cut in two
		{[]string{"short"}, false},
		{[]string{"thisisonelongconcatenatedwordwithoutanydigits"}, false},
		{[]string{"1234"}, false},
		{[]string{"version 2.4.1 released on 2024-05-01"}, false},
		{[]string{"ab=QmFzZTY0IGVuY29kZWQgcGF5bG9hZCBmb3IgdGhlIHRlc3Q"}, false}, // a tag, even a made-up one
		// JSON answers (CIRCL hashlookup), cut into 255-byte strings.
		{[]string{`{"FileName": "./usr/bin/ls", "FileSize": "138208", "MD5": "a5d2b5e3f0c1d4e7b8a9c0d1e2f3a4b5", "SHA-1": "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c",`, ` "SHA-256": "9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0"}`}, false},
		{[]string{` [ {"hash":"a5d2b5e3f0c1d4e7b8a9c0d1e2f3a4b5a5d2b5e3f0c1d4e7"}]`}, false},
		// Not JSON: no key, an empty key, a key cut by a control byte.
		{[]string{`{QmFzZTY0IGVuY29kZWQgcGF5bG9hZCBmb3IgdGhlIHRlc3Q}`}, true},
		{[]string{`{"":"QmFzZTY0IGVuY29kZWQgcGF5bG9hZCBmb3IgdGhlIHRlc3Q"}`}, true},
		{[]string{"{\"a\x01b\":\"QmFzZTY0IGVuY29kZWQgcGF5bG9hZCBmb3IgdGhlIHRlc3Q\"}"}, true},
		{[]string{`["QmFzZTY0IGVuY29kZWQgcGF5bG9hZCBmb3IgdGhlIHRlc3Q"]`}, true},
	} {
		n, h := DataAnswer(testcap.TypeTXT, txt(c.s...))
		if got := n > 0; got != c.want || (n == 0) != (h == 0) {
			t.Errorf("%q: %d bytes, hash %#x; data %v, want %v", c.s, n, h, got, c.want)
		}
	}
}

func TestDataAnswer(t *testing.T) {
	payload := "QmFzZTY0IGVuY29kZWQgcGF5bG9hZCBmb3IgdGhlIHRlc3Q="
	aaaa := "H\x83\xe4\xf0\xe8\xc0\x00\x00\x00AQAPRQV"
	for _, c := range []struct {
		name  string
		typ   uint16
		rdata []byte
		n     int
		hash  uint64
	}{
		{"one payload string", testcap.TypeTXT, txt(payload), len(payload), fnv64a(payload)},
		{"payload and prose: the record counts whole", testcap.TypeTXT, txt("hello world", payload, payload), 11 + 2*len(payload), fnv64a("hello world", payload, payload)},
		{"spf", testcap.TypeTXT, txt("v=spf1 -all"), 0, 0},
		{"truncated string", testcap.TypeTXT, append([]byte{200}, payload...), len(payload), fnv64a(payload)},
		{"null", testcap.TypeNULL, []byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08"), 9, fnv64a("\x00\x01\x02\x03\x04\x05\x06\x07\x08")},
		{"short null", testcap.TypeNULL, []byte{1, 2, 3}, 0, 0},
		{"key", 25, []byte("\x01\x01\x03\x05AwEAAbDx0123456789"), 22, fnv64a("\x01\x01\x03\x05AwEAAbDx0123456789")},
		{"private type", 65399, []byte("0123456789"), 10, fnv64a("0123456789")},
		{"address", testcap.TypeA, []byte{192, 0, 2, 1}, 0, 0},
		{"empty txt", testcap.TypeTXT, nil, 0, 0},
		{"aaaa payload bytes", testcap.TypeAAAA, []byte(aaaa), 16, fnv64a(aaaa)},
		{"aaaa global unicast", testcap.TypeAAAA, []byte{0x26, 0x06, 0x47, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x68, 0x10, 0x84, 0xe5}, 0, 0},
		{"aaaa 2001:db8::1", testcap.TypeAAAA, []byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 0, 0},
		{"aaaa unique local", testcap.TypeAAAA, []byte{0xfd, 0x12, 0x34, 0x56, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 0, 0},
		{"aaaa link-local", testcap.TypeAAAA, []byte{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 0, 0},
		{"aaaa sinkhole ::", testcap.TypeAAAA, make([]byte, 16), 0, 0},
		{"aaaa nat64", testcap.TypeAAAA, []byte{0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 1}, 0, 0},
		{"aaaa truncated", testcap.TypeAAAA, []byte("H\x83\xe4\xf0"), 0, 0},
	} {
		if n, h := DataAnswer(c.typ, c.rdata); n != c.n || h != c.hash {
			t.Errorf("%s: %d bytes, hash %#x; want %d, %#x", c.name, n, h, c.n, c.hash)
		}
	}
}

// observeMsg runs Message on msg and returns the observation (its
// DataRecords copied out of the analyzer's scratch).
func observeMsg(t *testing.T, a *Analyzer, msg []byte) engine.Observation {
	t.Helper()
	var c Counts
	var o engine.Observation
	var allowed bool
	if _, ok := a.Message(msg, &c, &o, &allowed); !ok {
		t.Fatal("message rejected")
	}
	o.DataRecords = append([]engine.DataRecord(nil), o.DataRecords...)
	return o
}

// TestMessageDataAnswers: a response's data-carrying records reach the
// engine's observation one by one, identical contents hash alike and
// different ones apart; DKIM keys, queries and answers under an
// underscore label are not data.
func TestMessageDataAnswers(t *testing.T) {
	a := newAnalyzer(t, "")
	payload := strings.Repeat("Zm9vYmFyMTIz", 20) // 240 bytes of base64
	other := payload[:200] + "AAAA"
	o1 := observeMsg(t, a, testcap.Response(1, "p1.stage.example.net", testcap.TypeTXT, 0, testcap.AnswerTXT(payload)))
	o2 := observeMsg(t, a, testcap.Response(2, "p2.stage.example.net", testcap.TypeTXT, 0, testcap.AnswerTXT(payload), testcap.AnswerTXT(other)))
	o3 := observeMsg(t, a, testcap.Response(3, "p3.stage.example.net", testcap.TypeTXT, 0, testcap.AnswerTXT(other), testcap.AnswerTXT(payload)))
	want1 := []engine.DataRecord{{Hash: fnv64a(payload), Bytes: 240}}
	want2 := []engine.DataRecord{{Hash: fnv64a(payload), Bytes: 240}, {Hash: fnv64a(other), Bytes: 204}}
	want3 := []engine.DataRecord{want2[1], want2[0]}
	if !slices.Equal(o1.DataRecords, want1) || !slices.Equal(o2.DataRecords, want2) || !slices.Equal(o3.DataRecords, want3) || o1.AnswerData != 241 {
		t.Fatalf("observations %v, %v, %v (answer data %d)", o1.DataRecords, o2.DataRecords, o3.DataRecords, o1.AnswerData)
	}
	for _, msg := range [][]byte{
		testcap.Response(4, "s1._domainkey.example.com", testcap.TypeTXT, 0,
			testcap.AnswerTXT("v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"+payload[:100])),
		testcap.Query(5, "p1.stage.example.net", testcap.TypeTXT),
		testcap.Response(6, "_acme-challenge.www.example.net", testcap.TypeTXT, 0, testcap.AnswerTXT(payload)),
		// A zone transfer's records, and records under an underscore
		// owner in an ordinary answer.
		testcap.Response(7, "example.net", 252, 0, testcap.AnswerTXT(payload), testcap.AnswerTXT(other)),
		testcap.Response(8, "example.net", testcap.TypeTXT, 0,
			testcap.Answer{Name: "_acme-challenge.h1.example.net", Type: testcap.TypeTXT, TTL: 5, TXT: []string{payload}}),
	} {
		if o := observeMsg(t, a, msg); o.DataRecords != nil {
			t.Fatalf("%q: %v", o.Name, o.DataRecords)
		}
	}
	// The same record under an ordinary owner other than the question
	// counts.
	if o := observeMsg(t, a, testcap.Response(9, "example.net", testcap.TypeTXT, 0,
		testcap.Answer{Name: "c1.example.net", Type: testcap.TypeTXT, TTL: 5, TXT: []string{payload}})); !slices.Equal(o.DataRecords, want1) {
		t.Fatalf("other owner: %v", o.DataRecords)
	}
	// More records than an observation lists: the smallest hashes are
	// kept, the others fold into the last entry.
	var answers []testcap.Answer
	var recs []engine.DataRecord
	for i := range 20 {
		answers = append(answers, testcap.AnswerTXT(payload[i:]))
		recs = append(recs, engine.DataRecord{Hash: fnv64a(payload[i:]), Bytes: 240 - i})
	}
	byHash := func(a, b engine.DataRecord) int { return cmp.Compare(a.Hash, b.Hash) }
	slices.SortFunc(recs, byHash)
	want := slices.Clone(recs[:engine.MaxDataRecords-1])
	var fold engine.DataRecord
	for _, r := range recs[engine.MaxDataRecords-1:] {
		fold.Hash += r.Hash
		fold.Bytes += r.Bytes
	}
	want = append(want, fold)
	o := observeMsg(t, a, testcap.Response(10, "p4.stage.example.net", testcap.TypeTXT, 0, answers...))
	got := o.DataRecords
	slices.SortFunc(got[:len(got)-1], byHash)
	if !slices.Equal(got, want) {
		t.Fatalf("records\n got %v\nwant %v", got, want)
	}
}

// FuzzDataAnswer: never more data than RDATA, a hash exactly when there
// is data, and the input left alone.
func FuzzDataAnswer(f *testing.F) {
	f.Add(uint16(testcap.TypeTXT), []byte("\x30QmFzZTY0IGVuY29kZWQgcGF5bG9hZCBmb3IgdGhlIHRlc3Q="))
	f.Add(uint16(testcap.TypeNULL), []byte("\x00\x01\x02\x03\x04\x05\x06\x07"))
	f.Add(uint16(testcap.TypeTXT), []byte("\x05ab=cd\x00"))
	f.Add(uint16(testcap.TypeAAAA), []byte("H\x83\xe4\xf0\xe8\xc0\x00\x00\x00AQAPRQV"))
	f.Fuzz(func(t *testing.T, typ uint16, rdata []byte) {
		orig := bytes.Clone(rdata)
		n, h := DataAnswer(typ, rdata)
		if n < 0 || n > len(rdata) || (n == 0) != (h == 0) {
			t.Fatalf("%d data bytes of %d, hash %#x", n, len(rdata), h)
		}
		// Oracles: a TXT record counts whole (the bytes of its strings)
		// or not at all; other types their whole RDATA or nothing.
		whole := len(rdata)
		if typ == testcap.TypeTXT {
			whole = 0
			for i := 0; i < len(rdata); {
				l := min(int(rdata[i]), len(rdata)-i-1)
				whole += l
				i += 1 + l
			}
		}
		if n != 0 && n != whole {
			t.Fatalf("type %d: %d data bytes, want 0 or %d", typ, n, whole)
		}
		if !bytes.Equal(rdata, orig) {
			t.Fatal("rdata modified")
		}
	})
}

func TestUnderscored(t *testing.T) {
	for name, want := range map[string]bool{
		"_acme-challenge.example.com": true, "s1._domainkey.example.com": true, "a._esni.example.com": true,
		"www.example.com": false, "my_host.example.com": false, "": false, "x_.example.com": false,
	} {
		if got := underscored([]byte(name)); got != want {
			t.Errorf("underscored(%q) = %v, want %v", name, got, want)
		}
	}
}
