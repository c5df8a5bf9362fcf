package fingerprint

// Sliver DNS C2 (BishopFox/sliver). Facts used:
//
//   - implant/sliver/transports/dnsclient/dnsclient.go: every query name
//     is an encoded protobuf dnspb.DNSMessage ("subdata"), cut into labels
//     of 63 characters (joinSubdataToParent) and followed by the parent
//     domain. The encoder is Sliver's base32 or, when all resolvers keep
//     case, Sliver's base58. A queries carry TOTP, fingerprint (NOP with 8
//     random bytes) and DATA_FROM_IMPLANT; TXT queries INIT, POLL (8-byte
//     nonce) and DATA_TO_IMPLANT requests.
//   - protobuf/dnspb/dns.proto: DNSMessage { DNSMessageType Type = 1;
//     uint32 ID = 2; uint32 Start = 3; uint32 Stop = 4; uint32 Size = 5;
//     bytes Data = 6; }, types NOP 0, TOTP 1, INIT 2, POLL 3, CLOSE 4,
//     MANIFEST 6, DATA_TO_IMPLANT 7, DATA_FROM_IMPLANT 8, CLEAR 9.
//   - implant/sliver/encoders/base32.go: alphabet
//     "ab1c2d3e4f5g6h7j8k9m0npqrtuvwxyz", no padding.
//   - implant/sliver/encoders/base58.go: alphabet
//     "213465789aBcDeFgHjKLMNPQRSTUVWXYZAbCdEfGhiJkmnopqrstuvwxyz",
//     big-endian base58 with leading '2's standing for zero bytes.
//   - Go's proto.Marshal writes fields in number order and omits zero
//     values, so a valid message is a strictly increasing run of the tags
//     0x08, 0x10, 0x18, 0x20, 0x28 (varints) and 0x32 (length-delimited)
//     that ends exactly at the end of the data.

const sliverLabel = 63

func sliverMatch(v *view, m *Message) Match {
	if m.QType != typeA && m.QType != typeTXT {
		return Match{}
	}
	if k := v.run(0, sliverLabel, cSliver32); k > 0 {
		if b, ok := decode32(v.dec[:], v.join(0, k), &revSlv32); ok {
			if t, ok := sliverProto(b); ok {
				return Match{Tool: Sliver, Strength: Strong, Evidence: EvSliverMessage, Detail: t}
			}
		}
	}
	if k := v.run(0, sliverLabel, cSliver58); k > 0 {
		src := v.join(0, k)
		// Base58 output of binary data has both cases; an all-lower label
		// is far more likely an ordinary name (and base58 decoding is
		// quadratic, so it is kept for plausible candidates).
		if len(src) >= 8 && some(src, cUpper) && some(src, cLower) {
			if b, ok := decode58(v.dec[:], src); ok {
				if t, ok := sliverProto(b); ok {
					return Match{Tool: Sliver, Strength: Strong, Evidence: EvSliverMessage, Detail: t}
				}
			}
		}
	}
	return Match{}
}

// sliverProto validates b as a dnspb.DNSMessage as proto.Marshal writes it
// and returns its type. It requires a known non-zero type, or for NOP (the
// resolver fingerprint, whose zero type is omitted) an ID and 8 bytes of
// data.
func sliverProto(b []byte) (uint32, bool) {
	if len(b) < 2 {
		return 0, false
	}
	last := 0
	typ := uint32(0)
	var haveID bool
	dataLen := -1
	for i := 0; i < len(b); {
		tag := b[i]
		i++
		field := int(tag >> 3)
		wire := tag & 7
		if field <= last || field > 6 {
			return 0, false
		}
		last = field
		if field == 6 {
			if wire != 2 {
				return 0, false
			}
			n, used, ok := uvarint(b[i:])
			if !ok || n == 0 || uint64(len(b)-i-used) != n {
				return 0, false
			}
			dataLen = int(n)
			i = len(b)
			continue
		}
		if wire != 0 {
			return 0, false
		}
		x, used, ok := uvarint(b[i:])
		if !ok || x == 0 || x > 0xFFFFFFFF {
			// proto3 omits zero values; a written zero is not Marshal's.
			return 0, false
		}
		i += used
		switch field {
		case 1:
			switch x {
			case 1, 2, 3, 4, 6, 7, 8, 9:
				typ = uint32(x)
			default:
				return 0, false
			}
		case 2:
			haveID = true
		}
	}
	if typ == 0 {
		return 0, haveID && dataLen == 8
	}
	return typ, true
}

// uvarint decodes a protobuf varint of at most 5 bytes (uint32 fields) and
// rejects over-long encodings.
func uvarint(b []byte) (uint64, int, bool) {
	var x uint64
	for i := 0; i < len(b) && i < 5; i++ {
		c := b[i]
		x |= uint64(c&0x7F) << (7 * uint(i))
		if c < 0x80 {
			if c == 0 && i > 0 {
				return 0, 0, false
			}
			return x, i + 1, true
		}
	}
	return 0, 0, false
}

// decode58 decodes Sliver's base58 into dst without allocating: the number
// is accumulated little-endian in dst, then reversed behind the leading
// zero bytes that leading '2's stand for.
func decode58(dst, src []byte) ([]byte, bool) {
	zeros := 0
	for zeros < len(src) && src[zeros] == sliver58Alphabet[0] {
		zeros++
	}
	size := 0
	for _, c := range src {
		x := revSlv58[c]
		if x == 0xFF {
			return nil, false
		}
		carry := uint32(x)
		for j := 0; j < size; j++ {
			carry += uint32(dst[j]) * 58
			dst[j] = byte(carry)
			carry >>= 8
		}
		for carry > 0 {
			if size >= len(dst) {
				return nil, false
			}
			dst[size] = byte(carry)
			size++
			carry >>= 8
		}
	}
	if zeros+size > len(dst) {
		return nil, false
	}
	for i, j := 0, size-1; i < j; i, j = i+1, j-1 {
		dst[i], dst[j] = dst[j], dst[i]
	}
	copy(dst[zeros:], dst[:size])
	for i := 0; i < zeros; i++ {
		dst[i] = 0
	}
	return dst[:zeros+size], true
}
