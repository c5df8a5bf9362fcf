package analyze

import (
	"bytes"
	"hash/fnv"
	"strings"
	"testing"

	"github.com/dnsieve/dnsieve/internal/engine"
	"github.com/dnsieve/dnsieve/internal/testcap"
)

func TestDataString(t *testing.T) {
	for _, c := range []struct {
		s    string
		want bool
	}{
		// Payloads.
		{"QmFzZTY0IGVuY29kZWQgcGF5bG9hZCBmb3IgdGhlIHRlc3Q=", true},
		{"QmFzZTY0IGVuY29kZWQgcGF5bG9hZCBmb3IgdGhlIHRlc3Q==", true}, // padding is not a tag
		{"a3f09c1e5b7d22480e6f9a1c3b5d7e9f", true},                  // hex
		{"mfrggzdfmztwq2lknnwg23tpobyxe43u", true},                  // base32 (lower case, digits)
		{"x+/Ab3kQz9Lm2Np0Rs7Tu8Vw1Xy4Za5B", true},
		{"\x00\x01\x02\x03\x04\x05\x06\x07", true}, // binary
		{"hello \xff\xfe world", true},
		// Ordinary text records.
		{"v=spf1 include:_spf.google.com ~all", false},
		{"v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu5G3", false},
		{"k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDwIRP", false},
		{"p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDwIRP/Xyz", false},
		{"google-site-verification=rXOxyZounnZasA8Z7oaD3c14JdjS9aKSWvsR1EbUSIQ", false},
		{"MS=ms47291538", false},
		{"_globalsign-domain-verification=Zx1Kq7Jm3Pn9Rt5Vw2Yb8Ce4Gh6Lk0Mp", false},
		{"dnsaddr=/ip4/147.75.83.83/tcp/4001/p2p/QmbLHAnMoJPWSCR5Zhtx6BHJX9KiKNN6tpvbUcqanj75Nb", false},
		{"Listed by CBL, see https://www.abuseat.org/lookup.cgi?ip=192.0.2.1", false},
		{"short", false},
		{"thisisonelongconcatenatedwordwithoutanydigits", false},
		{"1234", false},
		{"version 2.4.1 released on 2024-05-01", false},
		{"ab=QmFzZTY0IGVuY29kZWQgcGF5bG9hZCBmb3IgdGhlIHRlc3Q", false}, // a tag, even a made-up one
	} {
		if got := dataString([]byte(c.s)); got != c.want {
			t.Errorf("dataString(%q) = %v, want %v", c.s, got, c.want)
		}
	}
}

func fnv64a(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
	}
	return h.Sum64()
}

func TestDataAnswer(t *testing.T) {
	payload := "QmFzZTY0IGVuY29kZWQgcGF5bG9hZCBmb3IgdGhlIHRlc3Q="
	txt := func(ss ...string) []byte {
		var b []byte
		for _, s := range ss {
			b = append(append(b, byte(len(s))), s...)
		}
		return b
	}
	for _, c := range []struct {
		name  string
		typ   uint16
		rdata []byte
		n     int
		hash  uint64
	}{
		{"one payload string", testcap.TypeTXT, txt(payload), len(payload), fnv64a(payload)},
		{"payload and prose", testcap.TypeTXT, txt("hello world", payload, payload), 2 * len(payload), fnv64a(payload, payload)},
		{"spf", testcap.TypeTXT, txt("v=spf1 -all"), 0, 0},
		{"dkim key split over two strings", testcap.TypeTXT, txt("v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA", payload), 0, 0},
		{"truncated string", testcap.TypeTXT, append([]byte{200}, payload...), len(payload), fnv64a(payload)},
		{"null", testcap.TypeNULL, []byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08"), 9, fnv64a("\x00\x01\x02\x03\x04\x05\x06\x07\x08")},
		{"short null", testcap.TypeNULL, []byte{1, 2, 3}, 0, 0},
		{"private type", 65399, []byte("0123456789"), 10, fnv64a("0123456789")},
		{"address", testcap.TypeA, []byte{192, 0, 2, 1}, 0, 0},
		{"aaaa payload bytes", testcap.TypeAAAA, []byte("H\x83\xe4\xf0\xe8\xc0\x00\x00\x00AQAPRQV"), 16, fnv64a("H\x83\xe4\xf0\xe8\xc0\x00\x00\x00AQAPRQV")},
		{"aaaa global unicast", testcap.TypeAAAA, []byte{0x26, 0x06, 0x47, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x68, 0x10, 0x84, 0xe5}, 0, 0},
		{"aaaa 2001:db8::1", testcap.TypeAAAA, []byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 0, 0},
		{"aaaa unique local", testcap.TypeAAAA, []byte{0xfd, 0x12, 0x34, 0x56, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 0, 0},
		{"aaaa link-local", testcap.TypeAAAA, []byte{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 0, 0},
		{"aaaa sinkhole ::", testcap.TypeAAAA, make([]byte, 16), 0, 0},
		{"aaaa nat64", testcap.TypeAAAA, []byte{0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 1}, 0, 0},
		{"aaaa truncated", testcap.TypeAAAA, []byte("H\x83\xe4\xf0"), 0, 0},
		{"empty txt", testcap.TypeTXT, nil, 0, 0},
	} {
		var h uint64
		if n := DataAnswer(c.typ, c.rdata, &h); n != c.n || h != c.hash {
			t.Errorf("%s: %d bytes, hash %#x; want %d, %#x", c.name, n, h, c.n, c.hash)
		}
	}
}

// TestMessageDataAnswers: a response's data-carrying answers reach the
// engine's observation, identical contents hash alike and different ones
// apart, and DKIM keys are not data.
func TestMessageDataAnswers(t *testing.T) {
	a := newAnalyzer(t, "")
	payload := strings.Repeat("Zm9vYmFyMTIz", 20) // 240 bytes of base64
	observe := func(msg []byte) engine.Observation {
		var c Counts
		var o engine.Observation
		var allowed bool
		if _, ok := a.Message(msg, &c, &o, &allowed); !ok {
			t.Fatal("message rejected")
		}
		return o
	}
	o1 := observe(testcap.Response(1, "p1.stage.example.net", testcap.TypeTXT, 0, testcap.AnswerTXT(payload)))
	o2 := observe(testcap.Response(2, "p2.stage.example.net", testcap.TypeTXT, 0, testcap.AnswerTXT(payload)))
	o3 := observe(testcap.Response(3, "p3.stage.example.net", testcap.TypeTXT, 0, testcap.AnswerTXT(payload[:200]+"AAAA")))
	if o1.DataAnswer != 240 || o1.DataAnswerHash != fnv64a(payload) || o2.DataAnswerHash != o1.DataAnswerHash || o3.DataAnswer != 204 ||
		o3.DataAnswerHash == o1.DataAnswerHash || o1.AnswerData != 241 {
		t.Fatalf("observations %d/%#x, %d/%#x, %d/%#x (answer data %d)", o1.DataAnswer, o1.DataAnswerHash,
			o2.DataAnswer, o2.DataAnswerHash, o3.DataAnswer, o3.DataAnswerHash, o1.AnswerData)
	}
	dkim := observe(testcap.Response(4, "s1._domainkey.example.com", testcap.TypeTXT, 0,
		testcap.AnswerTXT("v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"+payload[:100])))
	q := observe(testcap.Query(5, "p1.stage.example.net", testcap.TypeTXT))
	if dkim.DataAnswer != 0 || dkim.DataAnswerHash != 0 || q.DataAnswer != 0 {
		t.Fatalf("dkim %d/%#x, query %d", dkim.DataAnswer, dkim.DataAnswerHash, q.DataAnswer)
	}
}

// FuzzDataAnswer: never more data than RDATA, and no hash without data.
func FuzzDataAnswer(f *testing.F) {
	f.Add(uint16(testcap.TypeTXT), []byte("\x30QmFzZTY0IGVuY29kZWQgcGF5bG9hZCBmb3IgdGhlIHRlc3Q="))
	f.Add(uint16(testcap.TypeNULL), []byte("\x00\x01\x02\x03\x04\x05\x06\x07"))
	f.Add(uint16(testcap.TypeTXT), []byte("\x05ab=cd\x00"))
	f.Fuzz(func(t *testing.T, typ uint16, rdata []byte) {
		orig := bytes.Clone(rdata)
		var h uint64
		n := DataAnswer(typ, rdata, &h)
		if n < 0 || n > len(rdata) || n == 0 && h != 0 {
			t.Fatalf("%d data bytes of %d, hash %#x", n, len(rdata), h)
		}
		if !bytes.Equal(rdata, orig) {
			t.Fatal("rdata modified")
		}
	})
}
