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
	qtPrivate
	qtPTR
	qtHTTPS // HTTPS and SVCB (RFC 9460): browsers ask for them with every A
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
	if t >= 65280 && t <= 65534 { // RFC 6895: reserved for private use
		return qtPrivate
	}
	return qtOther
}
