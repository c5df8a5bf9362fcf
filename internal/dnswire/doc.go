// Package dnswire parses DNS messages (RFC 1035 section 4.1) without
// allocating.
//
// It owns the DNS wire format for dnsieve: the header, the question section,
// the resource records of the answer, authority and additional sections, and
// domain names with message compression (RFC 1035 section 4.1.4). Messages
// come from attackers, so names are decoded strictly: compression pointers
// must point backwards, names are limited to 255 octets and label types other
// than plain labels and pointers are refused. Every error is a package-level
// sentinel.
//
// RDATA is returned as raw bytes; ReadName decodes the names inside it. The
// package does not build messages.
package dnswire
