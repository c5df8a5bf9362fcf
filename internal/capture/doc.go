// Package capture turns capture files into a stream of frame records.
//
// It owns everything between a path on the command line and the bytes of
// one captured frame: expanding paths into capture files (Walk), detecting
// gzip or zstd compression and the pcap or pcapng format from magic numbers
// (never from file names), and reading records fast (no allocation per
// frame, Data aliases the read buffer) and robustly (hostile lengths are
// bounded, damage is reported as an *Error naming the file, the byte offset
// of the damaged record and the last good frame).
//
// Frame numbers match Wireshark's frame.number, so that an analyst can jump
// from a finding to the packet in Wireshark. Decoding what is inside a frame
// (link layer, IP, UDP, TCP, DNS) belongs to other packages.
//
// Formats: pcap (draft-ietf-opsawg-pcap; microsecond and nanosecond magics,
// both byte orders) and pcapng (draft-ietf-opsawg-pcapng; Enhanced, Simple
// and obsolete Packet Blocks, several interfaces and sections, both byte
// orders, if_tsresol and if_tsoffset).
package capture
