// Package zeek reads the DNS transaction log that Zeek writes (dns.log, the
// DNS::Info record of base/protocols/dns/main.zeek) and turns its lines into
// the Observations the behavioural engine consumes.
//
// It owns:
//
//   - the dns.log readers: Zeek's ASCII (TSV) writer format with its
//     #separator/#fields/#types header blocks and \xNN escaping, and the JSON
//     writer format (one object per line, dotted field names), plain, gzip or
//     zstd compressed, detected from the content (Reader, NewReader, Open);
//   - the choice of files in a Zeek log directory (Files);
//   - the conversion of a logged transaction into a query and a response
//     Observation, with the message sizes Zeek does not log estimated from a
//     reconstructed wire message (Converter).
//
// Readers are hostile-input safe: a line is at most MaxLine bytes, a
// malformed line is reported as a *LineError and skipped, and steady-state
// reading and conversion allocate nothing per line (see README.md for the
// one amortised exception).
package zeek
