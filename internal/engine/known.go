package engine

import "strings"

// Known services. Some services put identifiers or data in DNS names by
// design: antivirus and fraud-prevention products send their lookups as
// names under their own zones, blocklists are asked about addresses and
// domains, per-object hosts are named by random identifiers. Their names
// look like a channel because they are one, to servers the vendor (and,
// for blocklists, its mirrors) runs. A domain whose data-like names sit in
// such a zone is judged suspicious at most (Config.JudgeKnownServices
// turns that off), with the service named in its evidence, unless it
// holds what the service's traffic does not: a tool's protocol, raw
// tunnel packets, or a downstream channel's answers (channelProven).
//
// The zone is not proof of who answers: a client can send names under
// any zone straight to a server of its own. A channel that shows nothing
// but data-like names, hidden that way under one of these zones, stays a
// suspicious finding (README, "What it misses").
//
// Each entry is a registered domain and, where the vendor's domain serves
// other things too, the zones under it that carry the lookups; only
// services whose use of DNS names is documented by their vendor or seen in
// public captures, and that false alarms were measured on, are listed.
var knownServices = map[string]knownService{
	// Antivirus and reputation lookups.
	"sophosxl.net": {name: "Sophos Live Protection lookups"},
	"mcafee.com":   {name: "McAfee Global Threat Intelligence lookups", zones: []string{"avqs", "avts"}},
	"cymru.com":    {name: "Team Cymru malware hash lookups", zones: []string{"hash"}},
	// Fraud prevention: device profiling through DNS.
	"online-metrix.net": {name: "ThreatMetrix device profiling"},
	// DNS blocklists of addresses, domains and hashes.
	"spamhaus.org": {name: "Spamhaus blocklist lookups", zones: []string{"zen", "dbl", "sbl", "xbl", "pbl", "sbl-xbl", "zrd"}},
	"spamhaus.net": {name: "Spamhaus Data Query Service lookups", zones: []string{"dq"}},
	"surbl.org":    {name: "SURBL blocklist lookups", zones: []string{"multi"}},
	"uribl.com":    {name: "URIBL blocklist lookups", zones: []string{"multi", "black", "grey", "red"}},
	// Per-object hosts named by identifiers.
	"dropboxusercontent.com": {name: "Dropbox per-file hosts"},
}

// knownService is a service of the list: its name, and the zones under
// its registered domain that carry its lookups (none: all of it).
type knownService struct {
	name  string
	zones []string
}

// KnownService names the service whose lookups a domain's data-like names
// are, given its registered domain and the zone those names share (as a
// Finding's Domain holds it, less the registered domain), or "".
func KnownService(registered, zone string) string {
	s, ok := knownServices[registered]
	if !ok {
		return ""
	}
	if len(s.zones) == 0 {
		return s.name
	}
	for _, z := range s.zones {
		if zone == z || strings.HasSuffix(zone, "."+z) {
			return s.name
		}
	}
	return ""
}
