// Package variants builds a hostile corpus: evasion variants of labelled
// tunnel captures, so that detection can be checked to survive them.
//
// It owns the transformations (Apply: fragmented, case, tcp-split,
// off-port, slow, spread), reading and writing the captures (ReadFrames,
// WriteFrames), the labels.json of the variants (Generate) with the ground
// truth files tshark's default reading would get wrong, and the comparison
// of a variant's detection with its original's (Check, Compare), which
// "dnsieve variants" exposes.
//
// Frames are rewritten at the IP layer by hand (link header kept byte for
// byte, IP and transport headers rebuilt with lengths and checksums fixed,
// RFC 791, RFC 8200, RFC 768, RFC 9293); gopacket is the tests' oracle.
// Frames the package does not understand, or that are truncated by the
// snapshot length, are copied unchanged.
package variants
