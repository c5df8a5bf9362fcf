package fingerprint

import (
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"math/rand"
	"strconv"
	"strings"
)

// This file holds small encoders that produce names the way each tool
// does, written from the protocol facts cited in the matcher files.

// wireMsg builds a DNS message: one question and optional answers, each
// answer given as (type, rdata); the answer owner is a pointer to the
// question name.
func wireMsg(labels []string, qtype uint16, response bool, answers ...answer) []byte {
	b := make([]byte, 12)
	binary.BigEndian.PutUint16(b[0:], 0x1234)
	flags := uint16(0x0100)
	if response {
		flags |= 0x8000
	}
	binary.BigEndian.PutUint16(b[2:], flags)
	binary.BigEndian.PutUint16(b[4:], 1)
	binary.BigEndian.PutUint16(b[6:], uint16(len(answers)))
	for _, l := range labels {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	b = append(b, 0)
	b = binary.BigEndian.AppendUint16(b, qtype)
	b = binary.BigEndian.AppendUint16(b, 1)
	for _, a := range answers {
		b = append(b, 0xC0, 12)
		b = binary.BigEndian.AppendUint16(b, a.typ)
		b = binary.BigEndian.AppendUint16(b, 1)
		b = binary.BigEndian.AppendUint32(b, 60)
		b = binary.BigEndian.AppendUint16(b, uint16(len(a.rdata)))
		b = append(b, a.rdata...)
	}
	return b
}

type answer struct {
	typ   uint16
	rdata []byte
}

// nameRdata encodes labels as an uncompressed wire name.
func nameRdata(labels []string) []byte {
	var b []byte
	for _, l := range labels {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	return append(b, 0)
}

// txtRdata encodes one character-string.
func txtRdata(s string) []byte { return append([]byte{byte(len(s))}, s...) }

// chunk cuts s into pieces of n bytes.
func chunk(s string, n int) []string {
	var out []string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	return append(out, s)
}

// name joins data labels and a domain into a label list.
func name(data []string, domain string) []string {
	return append(append([]string{}, data...), strings.Split(domain, ".")...)
}

// --- iodine (yarrick/iodine src/base32.c, base128.c, client.c) ---

var iodB32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz012345").WithPadding(base32.NoPadding)

// iodB128Alphabet is src/base128.c's cb128: a-z A-Z 0-9 then \274-\375.
var iodB128Alphabet = func() []byte {
	b := []byte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
	for c := 0274; c <= 0375; c++ {
		b = append(b, byte(c))
	}
	return b
}()

// iodB128 encodes 7 bits per character, most significant first.
func iodB128(data []byte) string {
	var out []byte
	var acc uint32
	bits := 0
	for _, c := range data {
		acc = acc<<8 | uint32(c)
		bits += 8
		for bits >= 7 {
			bits -= 7
			out = append(out, iodB128Alphabet[(acc>>uint(bits))&0x7F])
		}
	}
	if bits > 0 {
		out = append(out, iodB128Alphabet[(acc<<uint(7-bits))&0x7F])
	}
	return string(out)
}

func iodineVersionLabel(version uint32, cmc uint16) string {
	d := binary.BigEndian.AppendUint32(nil, version)
	d = binary.BigEndian.AppendUint16(d, cmc)
	return "v" + iodB32.EncodeToString(d)
}

func iodinePingLabel(user, seq, frag byte, cmc uint16) string {
	d := []byte{user, (seq&7)<<4 | frag&15, byte(cmc >> 8), byte(cmc)}
	return "p" + iodB32.EncodeToString(d)
}

func iodineLoginLabel(user byte, hash [16]byte, cmc uint16) string {
	d := append([]byte{user}, hash[:]...)
	d = binary.BigEndian.AppendUint16(d, cmc)
	return "l" + iodB32.EncodeToString(d)
}

// iodineDataLabels builds an upstream data hostname: hex userid, 3 base32
// header characters, a CMC character, the payload; cut every 57 characters
// (encoding.c inline_dotify).
func iodineDataLabels(user byte, hdr [3]byte, cmc byte, payload string) []string {
	h := iodB32.EncodeToString([]byte{hdr[0], hdr[1]})[:3]
	s := string("0123456789abcdef"[user&15]) + h + string(cmc) + payload
	return chunk(s, 57)
}

// --- dnscat2 (iagox86/dnscat2 doc/protocol.md, driver_dns.c) ---

func dc2Header(packetID uint16, typ byte, session uint16) []byte {
	b := binary.BigEndian.AppendUint16(nil, packetID)
	b = append(b, typ)
	return binary.BigEndian.AppendUint16(b, session)
}

func dc2Msg(packetID, session, seq, ack uint16, data []byte) []byte {
	b := dc2Header(packetID, 0x01, session)
	b = binary.BigEndian.AppendUint16(b, seq)
	b = binary.BigEndian.AppendUint16(b, ack)
	return append(b, data...)
}

// dc2Labels hex-encodes a packet and cuts it after every 60 characters.
func dc2Labels(pkt []byte) []string { return chunk(hex.EncodeToString(pkt), 60) }

// --- dns2tcp (common/includes/packet.h, client/requests.c) ---

func d2tPacket(session, ack, seq uint16, typ byte, data []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, session)
	b = binary.BigEndian.AppendUint16(b, ack)
	b = binary.BigEndian.AppendUint16(b, seq)
	b = append(b, typ)
	return append(b, data...)
}

func d2tLabels(pkt []byte) []string {
	return chunk(base64.RawStdEncoding.EncodeToString(pkt), 63)
}

// --- dnstt (dnstt-client/dns.go send) ---

var dnsttB32 = base32.StdEncoding.WithPadding(base32.NoPadding)

func dnsttLabels(clientID [8]byte, padding []byte, packet []byte) []string {
	b := append([]byte{}, clientID[:]...)
	b = append(b, byte(224+len(padding)))
	b = append(b, padding...)
	if len(packet) > 0 {
		b = append(b, byte(len(packet)))
		b = append(b, packet...)
	}
	return chunk(strings.ToLower(dnsttB32.EncodeToString(b)), 63)
}

// --- Sliver (dnsclient.go, dns.proto, encoders/base32.go, base58.go) ---

var sliverB32 = base32.NewEncoding(sliver32Alphabet).WithPadding(base32.NoPadding)

func pbVarint(b []byte, x uint64) []byte {
	for x >= 0x80 {
		b = append(b, byte(x)|0x80)
		x >>= 7
	}
	return append(b, byte(x))
}

// sliverMsg marshals a DNSMessage as proto.Marshal does (field order, zero
// values omitted).
func sliverMsg(typ, id, start, stop, size uint32, data []byte) []byte {
	var b []byte
	for i, v := range []uint32{typ, id, start, stop, size} {
		if v != 0 {
			b = append(b, byte((i+1)<<3))
			b = pbVarint(b, uint64(v))
		}
	}
	if len(data) > 0 {
		b = append(b, 6<<3|2)
		b = pbVarint(b, uint64(len(data)))
		b = append(b, data...)
	}
	return b
}

// sliverB58 encodes big-endian base58 with Sliver's alphabet (leading zero
// bytes become the alphabet's first character).
func sliverB58(data []byte) string {
	digits := []byte{}
	for _, c := range data {
		carry := int(c)
		for j := range digits {
			carry += int(digits[j]) << 8
			digits[j] = byte(carry % 58)
			carry /= 58
		}
		for carry > 0 {
			digits = append(digits, byte(carry%58))
			carry /= 58
		}
	}
	var out []byte
	for _, c := range data {
		if c != 0 {
			break
		}
		out = append(out, sliver58Alphabet[0])
	}
	for i := len(digits) - 1; i >= 0; i-- {
		out = append(out, sliver58Alphabet[digits[i]])
	}
	return string(out)
}

// --- godoh (sensepost/godoh protocol/data.go ARequestify) ---

// godohRequests cuts data into godoh's stream requests: a start, one data
// request per 90 bytes (three labels of 30 bytes in hex, unused ones "0"),
// an end.
func godohRequests(ident [2]byte, proto int, data []byte) [][]string {
	id := hex.EncodeToString(ident[:])
	p := strconv.Itoa(proto)
	reqs := [][]string{{id, "be", "0", "00", p, "0", "0", "0", "0"}}
	seq := 1
	for i := 0; i < len(data); i += 90 {
		s := data[i:min(i+90, len(data))]
		labels := []string{"0", "0", "0"}
		n := 0
		for j := 0; j < len(s); j += 30 {
			labels[n] = hex.EncodeToString(s[j:min(j+30, len(s))])
			n++
		}
		req := []string{id, "ef", strconv.Itoa(seq), fmt.Sprintf("%02x", crc32.ChecksumIEEE(s)), p, strconv.Itoa(n)}
		reqs = append(reqs, append(req, labels...))
		seq++
	}
	return append(reqs, []string{id, "ca", strconv.Itoa(seq), "00", p, "0", "0", "0", "0"})
}

// --- dnsteal 2.0 (m57/dnsteal dnsteal.py p_cmds) ---

// dnstealNames writes data as dnsteal's one-liner does: base64, chunks of
// b characters each followed by '-', s chunks a name, then the file name's
// labels; '+' becomes '*'.
func dnstealNames(data []byte, b, s int, file string) [][]string {
	enc := strings.ReplaceAll(base64.StdEncoding.EncodeToString(data), "+", "*")
	var names [][]string
	var cur []string
	for _, c := range chunk(enc, b) {
		cur = append(cur, c+"-")
		if len(cur) == s {
			names = append(names, append(cur, strings.Split(file, ".")...))
			cur = nil
		}
	}
	if len(cur) > 0 {
		names = append(names, append(cur, strings.Split(file, ".")...))
	}
	return names
}

// --- DET (sensepost/DET plugins/dns.py send) ---

// detNames writes one DET message as its DNS plugin does: the hex of the
// message, each query name the job id and the next part of it, in labels
// of 63 and a last one of lastLen, then the key domain's labels.
func detNames(jobid, msg, key string) [][]string {
	data := hex.EncodeToString([]byte(msg))
	rem := 252 - len(key)
	labels, lastLen := rem/64, rem%64-1
	var names [][]string
	for data != "" {
		data = jobid + data
		var name []string
		for i := 0; i < labels && data != ""; i++ {
			n := min(63, len(data))
			name, data = append(name, data[:n]), data[n:]
		}
		if data != "" && lastLen > 0 {
			n := min(lastLen, len(data))
			name, data = append(name, data[:n]), data[n:]
		}
		names = append(names, append(name, strings.Split(key, ".")...))
	}
	return names
}

// --- tcp-over-dns (src/common/Packet.java, BaseConverter.java) ---

// todEncode writes b in c's base as BaseConverter.encode does: blocks of
// c.bytes bytes (the last padded with zeros) as c.sym big-endian digits.
func todEncode(c *baseCodec, alphabet string, b []byte) string {
	var out []byte
	for i := 0; i < len(b); i += c.bytes {
		var v uint64
		for j := 0; j < c.bytes; j++ {
			v <<= 8
			if i+j < len(b) {
				v |= uint64(b[i+j])
			}
		}
		digits := make([]byte, c.sym)
		for j := c.sym - 1; j >= 0; j-- {
			digits[j] = alphabet[v%c.n]
			v /= c.n
		}
		out = append(out, digits...)
	}
	return string(out)
}

// todPacket builds a packet with its checksum (calcChecksum).
func todPacket(client uint16, pid, flags byte, data []byte) []byte {
	sum := int(int16(client)) + int(int8(pid)) + int(int8(flags)) + len(data)
	for _, b := range data {
		sum += int(int8(b))
	}
	return append([]byte{byte(client), byte(client >> 8), pid, 0, flags, byte(-sum)}, data...)
}

// todName is encodeAsName: the encoding's letter, the length, the packet,
// cut every 63 characters.
func todName(c *baseCodec, alphabet string, letter byte, pkt []byte) []string {
	s := string(letter) + todEncode(c, alphabet, []byte{byte(len(pkt)), byte(len(pkt) >> 8)}) + todEncode(c, alphabet, pkt)
	return chunk(s, 63)
}

// pupyLabel encodes blob as Pupy's dnscnc client writes a label: RFC 4648
// base32 with padding, then A-Z to a-z, 2-7 to 1-6 and '=' to '9'
// (picocmd/client.py's translation table), which is base32 over that
// alphabet with '9' for padding.
func pupyLabel(blob []byte) string { return pupyB32.EncodeToString(blob) }

var pupyB32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz123456").WithPadding('9')

// pupyAnswers encodes a reply page as Pupy's server does
// (picocmd/server.py _a_page_encoder): a length byte and the data, 3 bytes
// an A record, with the record's index, random non-zero top bits, and the
// low bit set exactly when bits 1 and 2 are clear. The protocol-2 server
// writes 1 to 3 in bits 30-31 and the index in bits 25-29; the protocol-1
// server (v1) 1 to 6 in bits 29-31.
func pupyAnswers(rng *rand.Rand, data []byte, v1 bool) []answer {
	page := append([]byte{byte(len(data))}, data...)
	var out []answer
	for idx := 0; idx*3 < len(page); idx++ {
		part := make([]byte, 3)
		rng.Read(part)
		copy(part, page[idx*3:])
		bits := (uint32(part[0])<<16 | uint32(part[1])<<8 | uint32(part[2])) << 1
		raw := uint32(1+rng.Intn(3))<<30 | uint32(idx)<<25 | bits
		if v1 {
			raw = uint32(1+rng.Intn(6))<<29 | uint32(idx)<<25 | bits
		}
		if bits&6 == 0 {
			raw |= 1
		}
		out = append(out, answer{typeA, []byte{byte(raw >> 24), byte(raw >> 16), byte(raw >> 8), byte(raw)}})
	}
	return out
}

// dnsliveryStagerText is the "print" stager DNSlivery answers
// "<file>.<domain>" with, for a file of chunks chunks (dnslivery.py's
// templates).
func dnsliveryStagerText(file, domain string, chunks int) string {
	if chunks <= 1 {
		return `[System.Text.Encoding]::UTF8.GetString([System.Convert]::FromBase64String((Resolve-DnsName -type TXT -Name "` + file + `.0.` + domain + `" | Where-Object Section -eq Answer | Select -ExpandProperty Strings)))`
	}
	return `[System.Text.Encoding]::UTF8.GetString([System.Convert]::FromBase64String((0..` + strconv.Itoa(chunks-1) + ` | % {Resolve-DnsName -type TXT -Name "` + file + `.$_.` + domain + `" | Where-Object Section -eq Answer | Select -ExpandProperty Strings})))`
}

// txtStrings encodes s as one TXT record's character-strings of at most
// 255 bytes each.
func txtStrings(s string) []byte {
	var b []byte
	for _, p := range chunk(s, 255) {
		b = append(b, txtRdata(p)...)
	}
	return b
}
