package engine

// Query type classes counted per domain. Tunnels favour types that carry
// many bytes in the answer (NULL, TXT, PRIVATE, KEY) or a name (CNAME,
// MX, SRV); ordinary clients ask mostly for A, AAAA and HTTPS.
const (
	qtA = iota
	qtAAAA
	qtTXT
	qtNULL
	qtCNAME
	qtMX
	qtSRV
	qtKEY
	// qtUnusual: private-use, obsolete, meta and unassigned types, which
	// no ordinary client asks for.
	qtUnusual
	qtPTR
	qtHTTPS // HTTPS and SVCB (RFC 9460): browsers ask for them with every A
	// qtOther: every other type in current use (SOA, NS, DS, TLSA,
	// OPENPGPKEY, CAA, NAPTR, ...), which mail servers, validating
	// resolvers and management tools ask for.
	qtOther
	numQTypeClasses
)

// qtypeClass maps an RR TYPE (IANA "Resource Record (RR) TYPEs") to its
// class.
func qtypeClass(t uint16) int {
	switch t {
	case 1:
		return qtA
	case 28:
		return qtAAAA
	case 16:
		return qtTXT
	case 10:
		return qtNULL
	case 5:
		return qtCNAME
	case 15:
		return qtMX
	case 33:
		return qtSRV
	case 25:
		return qtKEY
	case 12:
		return qtPTR
	case 64, 65:
		return qtHTTPS
	}
	if inUse(t) {
		return qtOther
	}
	return qtUnusual
}

// inUse reports whether t is a type some ordinary software asks for: a
// data type the IANA registry lists as assigned and in current use (as of
// 2026), or one of the query-only types IXFR, AXFR and ANY, or TKEY
// (Windows clients ask for it to set up secure dynamic updates, RFC 3645).
// Obsolete, historic and deprecated types (MD, MF, MB, MG, MR, WKS,
// MINFO, X25, ISDN, RT, NSAP, NSAP-PTR, SIG, PX, GPOS, NXT, EID, NIMLOC,
// ATMA, A6, SINK, NINFO, RKEY, TALINK, SPF, UINFO, UID, GID, UNSPEC,
// MAILB, MAILA, DLV), experimental ones (NID, L32, L64, LP), TSIG and OPT
// (never a question), private use (65280-65534, RFC 6895) and unassigned
// numbers are not.
func inUse(t uint16) bool {
	switch t {
	case 2, // NS
		6,      // SOA
		13,     // HINFO (RFC 8482 answers to ANY)
		17, 18, // RP, AFSDB
		29,             // LOC
		35, 36, 37, 39, // NAPTR, KX, CERT, DNAME
		42, 43, 44, 45, // APL, DS, SSHFP, IPSECKEY
		46, 47, 48, 49, 50, 51, // RRSIG, NSEC, DNSKEY, DHCID, NSEC3, NSEC3PARAM
		52, 53, 55, // TLSA, SMIMEA, HIP
		59, 60, 61, 62, 63, // CDS, CDNSKEY, OPENPGPKEY, CSYNC, ZONEMD
		108, 109, // EUI48, EUI64
		249, 251, 252, 255, // TKEY, IXFR, AXFR, ANY
		256, 257, 258, 259, 260, 261, 262, // URI, CAA, AVC, DOA, AMTRELAY, RESINFO, WALLET
		32768: // TA
		return true
	}
	return false
}
