// Package fingerprint recognises which DNS tunnel or DNS C2 tool produced
// a DNS message, from the tool's protocol structure alone: iodine, dnscat2,
// dns2tcp, OzymanDNS, DNSExfiltrator, dnstt, Cobalt Strike's DNS beacon,
// Sliver, godoh, dnsteal, chashell, DET, dnspot, TUNS, tcp-over-dns,
// DNS-Shell, DNSlivery, Pupy's dnscnc, DNScapy, NSTX, PyExfil,
// Egress-Assess and Mythic's DNS profile.
//
// It owns the per-message verdict only. Classify looks at one message (the
// query name split into the labels left of the registered domain, the
// query type, and the raw message for answers) and says "this message has
// tool X's structure, with strength S, because of evidence E". Strong
// means a structure ordinary traffic does not have; Weak means consistent
// with the tool but ambiguous on its own. Aggregating verdicts per domain
// and deciding belongs to the behavioural engine, not here. Nothing is
// keyed on domain names or addresses.
//
// Classify and ClassifyRaw do not allocate and run in time linear in the
// message; they are safe for concurrent use. Each
// tool's file starts with the protocol facts it relies on and where they
// come from.
package fingerprint
