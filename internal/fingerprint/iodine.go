package fingerprint

// iodine 0.7 (protocol 0x00000502). Facts used, all from yarrick/iodine:
//
//   - doc/proto_00000502.txt: the first character of the query name is the
//     command: v version, l login, i IP request, z upstream codec check, y
//     downstream codec check, s switch codec, o options, r fragment size
//     probe, n set fragment size, p ping; 0-9a-f upstream data from user N.
//     "Rest encoded with base32"; CMC is a 2-byte cache miss counter. The
//     version query carries "4 bytes big endian protocol version" then the
//     CMC. Upstream data: "1 byte ASCII hex coded user byte; then 3 bytes
//     Base32 encoded header; then 1 char data-CMC" (a-z0-9), then the
//     payload in the chosen codec: Base32 (a-z0-5), Base64 (a-zA-Z0-9+-),
//     Base64u (a-zA-Z0-9_-), Base128 (a-zA-Z0-9 and \274-\375). Raw UDP
//     mode: "All Raw UDP protocol messages start with a 3 byte header:
//     0x10d19e", fourth byte CCCC|UUUU with command 1 login, 2 data, 3 ping.
//   - src/version.h: PROTOCOL_VERSION 0x00000502; doc/ also documents
//     0x00000402, 0x00000403, 0x00000500, 0x00000501 and 0x00000800.
//   - src/base32.c: cb32 = "abcdefghijklmnopqrstuvwxyz012345", 5 bits per
//     character most significant first; the decoder accepts upper case.
//   - src/client.c (0.7): send_version packs 6 bytes (version, CMC) behind
//     'v'; send_login 19 bytes (userid, 16-byte hash, CMC) behind 'l';
//     send_ping 4 bytes (userid, seqno<<4|fragment, CMC) behind 'p';
//     send_set_downstream_fragsize 5 bytes behind 'n'; send_ip_request
//     "i" + b32(userid) + 3 CMC characters; send_downenctest "y" +
//     tolower(codec) + b32(variant) + 3 CMC; send_codec_switch "s" +
//     b32(userid) + b32(bits) + 3 CMC; send_downenc_switch and
//     send_lazy_switch "o" + b32(userid) + option char + 3 CMC;
//     send_upenctest "z" + 3 CMC + a test pattern; send_fragsize_probe
//     "r" + 3 base32 characters + 'd' + payload.
//   - src/client.h / client.c handshake_upenc_autodetect: the test
//     patterns ("aAbBcC...+0129-", "aA-Aaahhh-Drink-mal-ein-J\344germeister-",
//     "aA-La-fl\373te-na\357ve-fran\347aise-est-retir\351-\340-Cr\350te", ...).
//   - src/common.h: RAW_HDR_LEN 4, RAW_HDR_CMD_LOGIN 0x10, _DATA 0x20,
//     _PING 0x30; src/common.c raw_header = {0x10, 0xd1, 0x9e, 0x00}.
//   - client.c client_set_qtype: NULL, PRIVATE (65399), CNAME, A, MX, SRV,
//     TXT. Ordinary clients never ask for NULL or PRIVATE.

// iodineVersions are the protocol versions documented in yarrick/iodine doc/.
var iodineVersions = [...]uint32{0x00000402, 0x00000403, 0x00000500, 0x00000501, 0x00000502, 0x00000800}

// iodinePatterns are the upstream codec test strings (client.c
// handshake_upenc_autodetect, 0.6/0.7), sent after "z" and 3 CMC characters.
var iodinePatterns = [...]string{
	"aAbBcCdDeEfFgGhHiIjJkKlLmMnNoOpPqQrRsStTuUvVwWxXyYzZ+0129-",
	"aAbBcCdDeEfFgGhHiIjJkKlLmMnNoOpPqQrRsStTuUvVwWxXyYzZ_0129-",
	"aA-Aaahhh-Drink-mal-ein-J\344germeister-",
	"aA-La-fl\373te-na\357ve-fran\347aise-est-retir\351-\340-Cr\350te",
	"aAbBcCdDeEfFgGhHiIjJkKlLmMnNoOpPqQrRsStTuUvVwWxXyYzZ",
	"aA0123456789\274\275\276\277\300\301\302\303\304\305\306\307\310\311\312\313\314\315\316\317",
	"aA\320\321\322\323\324\325\326\327\330\331\332\333\334\335\336\337\340\341\342\343\344\345\346\347\350\351\352\353\354\355\356\357\360\361\362\363\364\365\366\367\370\371\372\373\374\375",
}

// iodineOldCaseChecks are the whole-label case checks of iodine 0.5/0.6
// (client.c send_case_check), sent without a CMC.
var iodineOldCaseChecks = [...]string{
	"zZ+-aAbBcCdDeEfFgGhHiIjJkKlLmMnNoOpPqQrRsStTuUvVwWxXyY1234",
	"zZaAbBcCdDeEfFgGhHiIjJkKlLmMnNoOpPqQrRsStTuUvVwWxXyY123-4560789",
}

const (
	typeA       = 1
	typeNULL    = 10
	typeCNAME   = 5
	typeMX      = 15
	typeTXT     = 16
	typeKEY     = 25
	typeAAAA    = 28
	typeSRV     = 33
	typePrivate = 65399 // iodine's "PRIVATE" query type
)

// iodineTypes are the query types iodine asks for besides A (client.c
// client_set_qtype). Ordinary clients ask for TXT, SRV, MX or CNAME about
// registered names, practically never about a label of iodine's exact
// shape; NULL and PRIVATE they never ask for at all.
func iodineType(qt uint16) bool {
	switch qt {
	case typeNULL, typePrivate, typeTXT, typeSRV, typeMX, typeCNAME:
		return true
	}
	return false
}

// iodineRare reports NULL and PRIVATE, the types no ordinary client uses.
func iodineRare(qt uint16) bool { return qt == typeNULL || qt == typePrivate }

// shortStrength grades the short handshake labels (i, s, o, y: 5 or 6
// characters with two or three constrained ones, so random labels hit them
// about once in a few thousand): strong only for NULL/PRIVATE, weak for
// iodine's other types, nothing for A and the rest.
func shortStrength(qt uint16) Strength {
	switch {
	case iodineRare(qt):
		return Strong
	case iodineType(qt):
		return Weak
	}
	return None
}

// longStrength grades the fully decodable fixed-length labels (p, l, n:
// the decoded userid must be below 16, the padding bits zero, and so on,
// about one random label in 50000). Strong for NULL/PRIVATE, and for
// iodine's other types when the label holds a digit (the random CMC puts
// one in about half of them; an 8-letter word such as "paraguay" has the
// ping's shape but no digit); weak otherwise for those types and A.
func longStrength(qt uint16, label []byte) Strength {
	switch {
	case iodineRare(qt):
		return Strong
	case iodineType(qt):
		if some(label[1:], cDigit) {
			return Strong
		}
		return Weak
	case qt == typeA:
		return Weak
	}
	return None
}

// dataStrength grades upstream data in an ordinary-looking codec: strong
// only for NULL/PRIVATE, weak for iodine's other types and A.
func dataStrength(qt uint16) Strength {
	switch {
	case iodineRare(qt):
		return Strong
	case iodineType(qt), qt == typeA:
		return Weak
	}
	return None
}

// iodineUser decodes a one-character base32 userid (iodine has at most 16
// users, so a-p).
func iodineUser(c byte) (uint32, bool) {
	x := revIod32[c]
	if x >= 16 {
		return 0, false
	}
	return uint32(x), true
}

// foldEqualPattern compares b with pattern, ignoring ASCII letter case.
func foldEqualPattern[T string | []byte](b []byte, pattern T) bool {
	if len(b) != len(pattern) {
		return false
	}
	for i := range b {
		if lower(b[i]) != lower(pattern[i]) {
			return false
		}
	}
	return true
}

func iodineMatch(v *view, m *Message) Match {
	l0 := v.label(0)
	qt := m.QType
	hit := func(s Strength, e Evidence, d uint32) Match {
		if s == None {
			return Match{}
		}
		return Match{Tool: Iodine, Strength: s, Evidence: e, Detail: d}
	}
	switch c := lower(l0[0]); {
	case c == 'v':
		if len(l0) != 11 {
			break
		}
		b, ok := decode32(v.dec[:], l0[1:], &revIod32)
		if !ok || len(b) != 6 {
			break
		}
		ver := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		for _, known := range iodineVersions {
			if ver == known {
				return hit(Strong, EvIodineVersion, ver)
			}
		}
	case c == 'z':
		for _, p := range iodineOldCaseChecks {
			if foldEqualPattern(l0, p) {
				return hit(Strong, EvIodineCaseCheck, 0)
			}
		}
		if len(l0) < 6 || !all(l0[1:4], cIodB32) {
			break
		}
		for _, p := range iodinePatterns {
			if foldEqualPattern(l0[4:], p) {
				return hit(Strong, EvIodineCaseCheck, 0)
			}
		}
	case c == 'y':
		// "y" + codec + b32(variant 1) + 3 CMC characters.
		if len(l0) == 6 && isCodecChar(lower(l0[1])) && lower(l0[2]) == 'b' && all(l0[3:], cIodB32) {
			return hit(shortStrength(qt), EvIodineDownCodec, 0)
		}
	case c == 's':
		// "s" + b32(userid) + b32(bits: 5, 6, 26 or 7) + 3 CMC characters.
		if len(l0) != 6 || !all(l0[3:], cIodB32) {
			break
		}
		u, ok := iodineUser(l0[1])
		bits := lower(l0[2])
		if ok && (bits == 'f' || bits == 'g' || bits == 'h' || bits == '0') {
			return hit(shortStrength(qt), EvIodineCodecSwitch, u)
		}
	case c == 'o':
		// "o" + b32(userid) + option + 3 CMC characters.
		if len(l0) != 6 || !all(l0[3:], cIodB32) {
			break
		}
		u, ok := iodineUser(l0[1])
		opt := lower(l0[2])
		if ok && (isCodecChar(opt) || opt == 'l' || opt == 'i') {
			return hit(shortStrength(qt), EvIodineOptions, u)
		}
	case c == 'i':
		if len(l0) == 5 && all(l0[2:], cIodB32) {
			if u, ok := iodineUser(l0[1]); ok {
				return hit(shortStrength(qt), EvIodineIPRequest, u)
			}
		}
	case c == 'l':
		if len(l0) != 32 {
			break
		}
		if b, ok := decode32(v.dec[:], l0[1:], &revIod32); ok && len(b) == 19 && b[0] < 16 {
			return hit(longStrength(qt, l0), EvIodineLogin, uint32(b[0]))
		}
	case c == 'n':
		if len(l0) != 9 {
			break
		}
		if b, ok := decode32(v.dec[:], l0[1:], &revIod32); ok && len(b) == 5 && b[0] < 16 {
			if frag := uint32(b[1])<<8 | uint32(b[2]); frag > 0 && frag <= 4096 {
				return hit(longStrength(qt, l0), EvIodineFragSize, uint32(b[0]))
			}
		}
	case c == 'p':
		if len(l0) != 8 {
			break
		}
		// userid, then seqno (3 bits) << 4 | fragment (4 bits), then CMC.
		if b, ok := decode32(v.dec[:], l0[1:], &revIod32); ok && len(b) == 4 && b[0] < 16 && b[1]&0x80 == 0 {
			return hit(longStrength(qt, l0), EvIodinePing, uint32(b[0]))
		}
	case c == 'r':
		// "r" + 3 base32 (4-bit userid, 11-bit fragment size) + 'd' + payload.
		if len(l0) < 6 || !all(l0[1:4], cIodB32) || lower(l0[4]) != 'd' {
			break
		}
		user := uint32(revIod32[l0[1]] >> 1)
		s, _ := iodinePayload(v, l0[5:])
		if s == EvIodineDataBase128 {
			return hit(Strong, EvIodineFragProbe, user)
		}
		if s != EvNone {
			return hit(dataStrength(qt), EvIodineFragProbe, user)
		}
	case classTab[c]&cHex != 0:
		// Upstream data: hex userid, 3 base32 header characters, one CMC
		// character (a-z0-9), then the payload.
		if len(l0) < 6 || !all(l0[1:4], cIodB32) || classTab[l0[4]]&cAlnum == 0 {
			break
		}
		user, _ := hexVal(l0[0])
		ev, strong := iodinePayload(v, l0[5:])
		switch {
		case ev == EvNone:
		case strong:
			return hit(Strong, ev, uint32(user))
		default:
			return hit(dataStrength(qt), ev, uint32(user))
		}
	}
	return Match{}
}

// isCodecChar reports whether c names a downstream codec (proto_00000502.txt
// "Option chars": t Base32, s Base64, u Base64u, v Base128, r Raw).
func isCodecChar(c byte) bool {
	return c == 't' || c == 's' || c == 'u' || c == 'v' || c == 'r'
}

// iodinePayload classifies an upstream payload: first the rest of label 0
// (first), then the labels after it while the previous one is long (iodine
// cuts its hostname into long labels; the tunnel domain's own labels follow
// a short one). strong is set for codecs ordinary names never use: base128
// (raw bytes 0xBC-0xFD next to letters and digits, none of the 0x80-0xBB
// that UTF-8 text would contain) and base64 with a '+' and an upper-case
// letter in labels shorter than 63. Base64 data holds upper-case letters (over 16 characters, none
// with a chance of 2.4e-4): without them the case was lost on the way (Zeek
// lower-cases names), and a lower-cased base64 of another tool (dns2tcp's)
// looks the same.
func iodinePayload(v *view, first []byte) (Evidence, bool) {
	var hi, plus, under, other, b32, upper, digits, nonHex, total int
	count := func(b []byte) bool {
		for _, c := range b {
			cl := classTab[c]
			total++
			if cl&cDigit != 0 {
				digits++
			}
			if cl&cHex == 0 {
				nonHex++
			}
			switch {
			case cl&cIodHigh != 0:
				hi++
			case cl&cAlnum != 0:
				if cl&cUpper != 0 {
					upper++
				}
				if cl&cIodB32 == 0 {
					other++
				} else {
					b32++
				}
			case c == '+':
				plus++
			case c == '_':
				under++
			case c == '-':
				other++
			default:
				return false
			}
		}
		return true
	}
	if len(first) == 0 || !count(first) {
		return EvNone, false
	}
	prev := len(first) + 5
	longest := prev
	for i := 1; i < v.n && prev >= 50; i++ {
		l := v.label(i)
		if !count(l) {
			break
		}
		prev = len(l)
		longest = max(longest, prev)
	}
	if hi == 0 && (total < 16 || digits == 0 || nonHex == 0) {
		// Too short, no digit (binary data encoded in these alphabets has
		// digits) or nothing but hex (a dnscat2 name, a hash): not iodine.
		return EvNone, false
	}
	switch {
	case hi > 0:
		if plus+under > 0 {
			return EvNone, false
		}
		return EvIodineDataBase128, hi >= 2
	case plus > 0 && under == 0:
		// iodine puts a dot every 57 characters (src/encoding.c
		// inline_dotify): its labels are at most 62 long in every real
		// capture of the corpus. A 63-character label is another tool's
		// standard base64 (dns2tcp's, a PowerShell exfiltration's).
		return EvIodineDataBase64, upper > 0 && longest < 63
	case under > 0 && plus == 0:
		return EvIodineDataBase64, false
	case plus == 0 && under == 0 && other == 0 && b32 > 0:
		return EvIodineDataBase32, false
	case plus == 0 && under == 0:
		return EvIodineDataBase64, false
	}
	return EvNone, false
}

// Raw UDP mode (proto_00000502.txt section 2, common.h, common.c).
var rawHeader = [3]byte{0x10, 0xd1, 0x9e}

// ClassifyRaw recognises iodine's raw UDP mode in a UDP payload on a DNS
// port: the magic 10 d1 9e, then a command nibble (1 login, 2 data, 3
// ping) and a user nibble. The login message carries a 16-byte hash and
// the ping nothing, so their lengths must match exactly. Read as DNS, the
// magic is an ID of 0x10d1 with opcode 3, which no DNS implementation
// uses, so a match is strong.
func ClassifyRaw(payload []byte) Match {
	if len(payload) < 4 || payload[0] != rawHeader[0] || payload[1] != rawHeader[1] || payload[2] != rawHeader[2] {
		return Match{}
	}
	cmd := payload[3] >> 4
	switch {
	case cmd == 1 && len(payload) == 4+16,
		cmd == 2 && len(payload) > 4,
		cmd == 3 && len(payload) == 4:
		return Match{Tool: Iodine, Strength: Strong, Evidence: EvIodineRaw, Detail: uint32(cmd)}
	}
	return Match{}
}
