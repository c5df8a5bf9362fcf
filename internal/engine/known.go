package engine

// Known services. Some services put identifiers or data in DNS names by
// design: antivirus and fraud-prevention products send their lookups as
// names under their own zones, blocklists are asked about addresses and
// domains, per-object hosts are named by random identifiers. Their names
// look like a channel because they are one, to servers the vendor (and,
// for blocklists, its mirrors) runs. A domain of such a service is judged
// suspicious at most (Config.JudgeKnownServices turns that off), with the
// service named in its evidence, unless it holds what the service's
// traffic does not: a tool's protocol, raw tunnel packets, or a downstream
// channel's answers (channelProven).
//
// The zone is not proof of who answers: a client can send names under
// any zone straight to a server of its own. A channel that shows nothing
// but data-like names, hidden that way under one of these zones, stays a
// suspicious finding (README, "What it misses").
//
// Each entry is a registered domain: a service's lookups use several
// zones under it (McAfee's avqs and avts; Spamhaus's zen, dbl and zrd),
// and a domain's data-like names share only the registered domain then.
// Only services whose use of DNS names is documented by their vendor or
// seen in public captures, and that false alarms were measured on, are
// listed.
var knownServices = map[string]string{
	// Antivirus and reputation lookups.
	"sophosxl.net": "Sophos Live Protection lookups",
	"mcafee.com":   "McAfee Global Threat Intelligence lookups",
	"cymru.com":    "Team Cymru hash lookups",
	// Fraud prevention: device profiling through DNS.
	"online-metrix.net": "ThreatMetrix device profiling",
	// DNS blocklists of addresses, domains and hashes.
	"spamhaus.org": "Spamhaus blocklist lookups",
	"spamhaus.net": "Spamhaus Data Query Service lookups",
	"surbl.org":    "SURBL blocklist lookups",
	"uribl.com":    "URIBL blocklist lookups",
	// Per-object hosts named by identifiers.
	"dropboxusercontent.com": "Dropbox per-file hosts",
}

// KnownService names the service a registered domain belongs to, or ""
// when it is not one of the known services.
func KnownService(registered string) string { return knownServices[registered] }
