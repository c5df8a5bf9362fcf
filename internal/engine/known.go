package engine

// Known services. Some services put identifiers or data in DNS names by
// design: antivirus and fraud-prevention products send their lookups as
// names under their own zones, blocklists are asked about addresses and
// domains, measurement beacons and per-object hosts are named by random
// identifiers. Their names look like a channel because they are one, to a
// server their vendor runs. A tunnel needs a server its operator controls,
// and no operator but the vendor answers for these zones, so a domain of
// this list is judged suspicious at most (Config.JudgeKnownServices turns
// that off), with the service named in its evidence.
//
// The list holds registered domains only (a name under one of them, such
// as avqs.mcafee.com, is judged as its registered domain), and only
// services whose use of DNS names is documented by their vendor or seen
// in public captures.
var knownServices = map[string]string{
	// Antivirus and reputation lookups.
	"sophosxl.net": "Sophos Live Protection lookups",
	"mcafee.com":   "McAfee Global Threat Intelligence lookups (avqs.mcafee.com)",
	"cymru.com":    "Team Cymru hash and IP-to-ASN lookups",
	// Fraud prevention: device profiling through DNS.
	"online-metrix.net": "ThreatMetrix device profiling",
	// DNS blocklists of addresses and domains.
	"spamhaus.org":         "Spamhaus blocklist lookups",
	"spamhaus.net":         "Spamhaus Data Query Service lookups",
	"surbl.org":            "SURBL blocklist lookups",
	"uribl.com":            "URIBL blocklist lookups",
	"spamcop.net":          "SpamCop blocklist lookups",
	"sorbs.net":            "SORBS blocklist lookups",
	"barracudacentral.org": "Barracuda blocklist lookups",
	"dnswl.org":            "DNSWL allowlist lookups",
	"mailspike.net":        "Mailspike blocklist lookups",
	// Measurement beacons and per-object hosts named by identifiers.
	"fastly-insights.com":    "Fastly Insights measurement beacons",
	"footprintdns.com":       "Microsoft network measurement (footprintdns.com)",
	"dropboxusercontent.com": "Dropbox per-file hosts",
	"amazonses.com":          "Amazon SES DKIM keys",
	"googlevideo.com":        "Google video cache hosts",
}

// KnownService names the service a registered domain belongs to, or ""
// when it is not one of the known services.
func KnownService(registered string) string { return knownServices[registered] }
