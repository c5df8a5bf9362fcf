package fingerprint

// Evidence names the protocol structure a Match rests on. Its String is a
// human phrase; Match.Detail carries the one number that goes with it.
type Evidence uint8

// The evidence kinds, grouped by tool.
const (
	EvNone Evidence = iota // no evidence (no match)

	EvIodineVersion     // 'v' query whose base32 payload starts with a known protocol version
	EvIodineLogin       // 'l' query: userid + 16-byte MD5 + CMC, base32
	EvIodineIPRequest   // 'i' query: userid + CMC
	EvIodineCaseCheck   // 'z' upstream codec check carrying one of iodine's fixed test patterns
	EvIodineDownCodec   // 'y' downstream codec check
	EvIodineCodecSwitch // 's' switch upstream codec
	EvIodineOptions     // 'o' options (downstream codec, lazy mode)
	EvIodineFragProbe   // 'r' downstream fragment size probe
	EvIodineFragSize    // 'n' set downstream fragment size
	EvIodinePing        // 'p' ping
	EvIodineDataBase32  // hex userid + header, base32 payload
	EvIodineDataBase64  // hex userid + header, base64/base64u payload
	EvIodineDataBase128 // hex userid + header, base128 payload (bytes 0xBC-0xFD)
	EvIodineRaw         // raw UDP mode header 10 d1 9e + command nibble
	EvDnscat2Packet     // hex name decoding to a dnscat2 packet header
	EvDnscat2Tagged     // "dnscat." tag followed by a dnscat2 packet
	EvDnscat2Split      // dnscat2 packet split into 60-character hex labels
	EvDnscat2Handshake  // dnscat2 SYN, FIN, PING or ENC with a fully consistent body
	EvDnscat2Answer     // answer carrying a dnscat2 packet of the question's session
	EvDns2tcpCommand    // base64 packet followed by an "=auth", "=connect" or "=resource" label
	EvDns2tcpPacket     // base64 dns2tcp packet header in a TXT or KEY query
	EvDns2tcpAnswer     // TXT answer carrying a dns2tcp packet of the question's session
	EvOzymanDown        // "<n>-<n>.id-<n>.down" poll
	EvOzymanUp          // "<base32>.<n>-<n>.id-<n>.up" upload
	EvDNSExfilInit      // "init.<base32 name|chunks>.base64|base32" announcement
	EvDNSExfilChunk     // "<chunk number>.<63-character data labels>" in a TXT query
	EvDnsttData         // base32 ClientID + padding prefix + length-prefixed packet, exact length
	EvDnsttPoll         // base32 ClientID + 8 bytes of padding (empty poll)
	EvCobaltTask        // cdn./www6./api. + hex id, query type matching the prefix
	EvCobaltUpload      // www./post. + digit-counted 8-hex-digit groups + hex id
	EvCobaltStager      // "xxx.stage.<digits>" stager download
	EvCobaltIdle        // decimal check-in label answered with the idle address 0.0.0.0
	EvSliverMessage     // base32/base58 name decoding to a Sliver DNSMessage protobuf
	EvGodohStream       // godoh stream start or end ("<id>.be.0.00.<proto>.0.0.0.0")
	EvGodohData         // godoh stream data whose hex labels match the request's CRC-32
	EvGodohAnswer       // TXT answer with one of godoh's poll replies ("v=B2B3FE1C", ...)
	EvDnstealChunks     // base64 chunks of one size, each label ending in '-' ('*' for '+')
	EvChashellPacket    // sealed packet (nonce + MAC + data) in hex labels of 63, TXT
	EvChashellReply     // the same, answered "-" or with a sealed packet in one TXT string
	EvDETMessage        // job id, the job id in hex and "|!|" in hex: a DET message's first query
	EvDnspotMessage     // base36 in labels of 60, then a label counting the dots between them
	EvTunsData          // CNAME query "d<base32>" in labels of 63
	EvTunsReply         // CNAME query "d<base32>" or "r<n>" answered "dzero", "l<n>" or "d<base32>"
	EvTCPOverDNSPacket  // b/h + base63/base37 packet whose length prefix and checksum hold
	EvDNSShellOutput    // "<rnd>.CMDC<n>" or "<rnd>.CMD<i>.<hex>" (or "<rnd>.END"), type A
	EvDNSShellPoll      // "<rnd>" TXT poll answered "NoCMD"
	EvDNSliveryStager   // TXT answer holding a PowerShell stager that fetches "<file>.<n>" chunks
	EvDNSliveryChunk    // "<file>.<n>" answered with one TXT string of base64 (255 characters: strong)
	EvPupyQuery         // "[<spi>.]<nonce>.<data>" in Pupy's translated, padded base32
	EvPupyPage          // the same, answered with a reply page of A records (indices, low bits, length)
	EvDnscapyQuery      // "[<payload>.<arg>.]<type a-f>.<con>.<n>" before the domain, CNAME or TXT
	EvDnscapyReply      // the same, answered by a record owned by the domain itself, data starting with a type letter
	EvNSTXQuery         // "[abc]T<nibble>" + NSTX's base64 in labels of 63, 1+4k characters, TXT
	EvNSTXReply         // the same, answered with a TXT record starting with the magic 0xb4 and ending with an empty string
	EvPyExfilData       // PyExfil's fixed header, data after the question ("INIT_445" or its terminator)
	EvEgressAssessChunk // "<base64 of 20 bytes>.---", type A
	EvEgressAssessTXT   // ID 15 and the AA bit in a TXT query of one base64 label (or its end marker)
	EvMythicPacket      // base32 of a DnsPacket protobuf (strong with base64 data in it)
	EvMythicReply       // the same, answered with its session and message ids at TTLs 0 and 1
	numEvidence
)

var evidenceText = [numEvidence]string{
	EvNone:              "none",
	EvIodineVersion:     "iodine version handshake (v query)",
	EvIodineLogin:       "iodine login (l query)",
	EvIodineIPRequest:   "iodine raw-mode IP request (i query)",
	EvIodineCaseCheck:   "iodine upstream codec check pattern (z query)",
	EvIodineDownCodec:   "iodine downstream codec check (y query)",
	EvIodineCodecSwitch: "iodine codec switch (s query)",
	EvIodineOptions:     "iodine options (o query)",
	EvIodineFragProbe:   "iodine fragment size probe (r query)",
	EvIodineFragSize:    "iodine fragment size set (n query)",
	EvIodinePing:        "iodine ping (p query)",
	EvIodineDataBase32:  "iodine upstream data, base32",
	EvIodineDataBase64:  "iodine upstream data, base64",
	EvIodineDataBase128: "iodine upstream data, base128",
	EvIodineRaw:         "iodine raw UDP header",
	EvDnscat2Packet:     "dnscat2 packet header",
	EvDnscat2Tagged:     "dnscat2 packet after the dnscat. tag",
	EvDnscat2Split:      "dnscat2 packet in 60-character hex labels",
	EvDnscat2Handshake:  "dnscat2 handshake packet",
	EvDnscat2Answer:     "dnscat2 packet in the answer, same session",
	EvDns2tcpCommand:    "dns2tcp command label",
	EvDns2tcpPacket:     "dns2tcp packet header",
	EvDns2tcpAnswer:     "dns2tcp packet in the answer, same session",
	EvOzymanDown:        "OzymanDNS download poll (id-N.down)",
	EvOzymanUp:          "OzymanDNS upload (id-N.up)",
	EvDNSExfilInit:      "DNSExfiltrator init request",
	EvDNSExfilChunk:     "DNSExfiltrator data chunk",
	EvDnsttData:         "dnstt ClientID and length-prefixed packet",
	EvDnsttPoll:         "dnstt empty poll",
	EvCobaltTask:        "Cobalt Strike task request (cdn./www6./api.)",
	EvCobaltUpload:      "Cobalt Strike data upload (www./post.)",
	EvCobaltStager:      "Cobalt Strike DNS stager",
	EvCobaltIdle:        "Cobalt Strike idle answer 0.0.0.0",
	EvSliverMessage:     "Sliver DNSMessage protobuf",
	EvGodohStream:       "godoh stream start or end",
	EvGodohData:         "godoh stream data, CRC-32 matches",
	EvGodohAnswer:       "godoh poll reply in the TXT answer",
	EvDnstealChunks:     "dnsteal base64 chunks ending in '-'",
	EvChashellPacket:    "chashell sealed packet in hex labels of 63",
	EvChashellReply:     "chashell reply (\"-\" or a sealed packet) in the TXT answer",
	EvDETMessage:        "DET message start (job id, then job id and |!| in hex)",
	EvDnspotMessage:     "dnspot message (base36 in labels of 60 and their dot count)",
	EvTunsData:          "TUNS data query (d + base32, CNAME)",
	EvTunsReply:         "TUNS query answered with its CNAME reply (dzero, l<n> or d<data>)",
	EvTCPOverDNSPacket:  "tcp-over-dns packet (length prefix and checksum hold)",
	EvDNSShellOutput:    "DNS-Shell output chunk (<rnd>.CMD<i>.<hex>)",
	EvDNSShellPoll:      "DNS-Shell poll answered NoCMD",
	EvDNSliveryStager:   "DNSlivery stager (Resolve-DnsName of the file's chunks) in the TXT answer",
	EvDNSliveryChunk:    "DNSlivery file chunk (<file>.<n> answered with base64)",
	EvPupyQuery:         "Pupy dnscnc query (nonce and data in its padded base32)",
	EvPupyPage:          "Pupy dnscnc reply page in the A records",
	EvDnscapyQuery:      "DNScapy query (type letter, connection and random number labels)",
	EvDnscapyReply:      "DNScapy reply (owned by the tunnel's domain, a type letter first)",
	EvNSTXQuery:         "NSTX query (its base64 of a message starting with the magic byte)",
	EvNSTXReply:         "NSTX reply (a TXT record starting with the magic byte 0xb4, ending with an empty string)",
	EvPyExfilData:       "PyExfil query carrying data after its question",
	EvEgressAssessChunk: "Egress-Assess chunk (base64 of 20 bytes, its padding as a label ---)",
	EvEgressAssessTXT:   "Egress-Assess TXT query (ID 15, AA set, one label of base64)",
	EvMythicPacket:      "Mythic DNS packet (base32 of its protobuf)",
	EvMythicReply:       "Mythic DNS reply (the packet's session and message ids at TTLs 0 and 1)",
}

// String returns the evidence as a short human phrase.
func (e Evidence) String() string {
	if e < numEvidence {
		return evidenceText[e]
	}
	return "unknown evidence"
}

// DetailName names what Match.Detail holds for this evidence ("protocol",
// "session", ...), or "" when Detail is unused.
func (e Evidence) DetailName() string {
	switch e {
	case EvIodineVersion:
		return "protocol"
	case EvIodineRaw:
		return "command"
	case EvIodineLogin, EvIodineIPRequest, EvIodineCodecSwitch, EvIodineOptions,
		EvIodinePing, EvIodineDataBase32, EvIodineDataBase64, EvIodineDataBase128,
		EvIodineFragSize, EvIodineFragProbe:
		return "user"
	case EvDnscat2Packet, EvDnscat2Tagged, EvDnscat2Split, EvDnscat2Handshake, EvDnscat2Answer,
		EvDns2tcpCommand, EvDns2tcpPacket, EvDns2tcpAnswer:
		return "session"
	case EvOzymanDown, EvOzymanUp:
		return "id"
	case EvDNSExfilInit:
		return "chunks"
	case EvDNSExfilChunk:
		return "chunk"
	case EvDnsttData:
		return "packet length"
	case EvSliverMessage:
		return "type"
	case EvGodohStream, EvGodohData:
		return "stream"
	case EvDnstealChunks:
		return "chunk size"
	case EvDnspotMessage:
		return "labels"
	case EvTCPOverDNSPacket:
		return "client"
	case EvDNSliveryChunk:
		return "chunk"
	}
	return ""
}

// DetailHex reports whether Detail reads best in hexadecimal.
func (e Evidence) DetailHex() bool {
	switch e {
	case EvIodineVersion, EvIodineRaw, EvDnscat2Packet, EvDnscat2Tagged, EvDnscat2Split,
		EvDnscat2Handshake, EvDnscat2Answer, EvDns2tcpCommand, EvDns2tcpPacket, EvDns2tcpAnswer,
		EvGodohStream, EvGodohData:
		return true
	}
	return false
}
