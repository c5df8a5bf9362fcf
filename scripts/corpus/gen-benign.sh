#!/usr/bin/env bash
# gen-benign.sh ZONEDIR QUERYFILE NQUERIES SEED
#
# Writes the authoritative zones that the server namespace serves with nsd
# (one ZONEDIR/<zone>.zone per zone, and ZONEDIR/zones.list with their names)
# and a list of NQUERIES ordinary lookups ("name type" per line) that a
# workstation, a mail server and a domain member would send. The zones mimic
# real names (CDNs, DNSBLs, reverse zones, AD SRV records, DKIM keys,
# antivirus hash lookups) but exist only inside the recording namespaces.
# All addresses in answers are documentation ranges (RFC 5737, RFC 3849).
#
# Deterministic for a given SEED (mawk/gawk srand).
set -euo pipefail

if [[ $# -ne 4 ]]; then
	echo "usage: $0 ZONEDIR QUERYFILE NQUERIES SEED" >&2
	exit 2
fi
ZONEDIR=$1
QUERYFILE=$2
NQ=$3
SEED=$4
mkdir -p "$ZONEDIR"

# The name server address the zones' NS records point at (nsd in the server
# namespace) and the iodine / dns2tcp servers that the tunnel zones are
# delegated to. record.sh passes these through the environment.
NSD_IP=${NSD_IP:-10.53.2.2}
IODINE_IP=${IODINE_IP:-10.53.2.3}
DNS2TCP_IP=${DNS2TCP_IP:-10.53.2.4}
IODINE_ZONE=${IODINE_ZONE:-t.cdn-sync.net}
DNS2TCP_ZONE=${DNS2TCP_ZONE:-dl.updates-mirror.org}

awk -v zonedir="$ZONEDIR" -v qfile="$QUERYFILE" -v nq="$NQ" -v seed="$SEED" \
	-v nsip="$NSD_IP" -v ioip="$IODINE_IP" -v d2ip="$DNS2TCP_IP" \
	-v iozone="$IODINE_ZONE" -v d2zone="$DNS2TCP_ZONE" '
function rnd(n) { return int(rand() * n) }
function pick(s,   a, n) { n = split(s, a, " "); return a[rnd(n) + 1] }
function rstr(alpha, n,   s, i) { s = ""; for (i = 0; i < n; i++) s = s substr(alpha, rnd(length(alpha)) + 1, 1); return s }
function hex(n) { return rstr("0123456789abcdef", n) }
function tn() { return "203.0.113." (rnd(250) + 2) }
function tn2() { return "198.51.100." (rnd(250) + 2) }
function v6() { return sprintf("2001:db8:%x:%x::%x", rnd(65536), rnd(65536), rnd(65535) + 1) }
# zone file helpers
function zopen(z) {
	zf = zonedir "/" z ".zone"
	zones[++nz] = z
	print "$ORIGIN " z "." > zf
	print "$TTL 300" > zf
	print "@ IN SOA ns1." z ". hostmaster." z ". 2024060101 3600 600 604800 300" > zf
	if (z !~ /arpa$/) { print "@ IN NS ns1." z "." > zf; print "ns1 IN A " nsip > zf }
	else print "@ IN NS ns1.acme-corp.com." > zf
}
function rr(s) { print s > zf }
function zclose() { close(zf) }
# Reverse an IPv4 address into its in-addr.arpa owner labels (no suffix).
function rev4(ip,   a) { split(ip, a, "."); return a[4] "." a[3] "." a[2] "." a[1] }
# Expand a 2001:db8:x:y::z address to 32 nibbles and reverse it.
function rev6(ip,   a, b, n, i, j, k, full, g, out, miss) {
	n = split(ip, a, ":")
	# find the empty group of "::"
	full = ""
	miss = 8 - (n - 1)
	for (i = 1; i <= n; i++) {
		if (a[i] == "") { if (!done) { for (j = 0; j < miss; j++) full = full "0000"; done = 1 } continue }
		g = a[i]; while (length(g) < 4) g = "0" g
		full = full g
	}
	done = 0
	out = ""
	for (k = length(full); k >= 1; k--) out = out substr(full, k, 1) (k > 1 ? "." : "")
	return out
}
function q(name, type) { print name " " type > qfile; nqs++ }
BEGIN {
	srand(seed)
	b32 = "abcdefghijklmnopqrstuvwxyz234567"
	b32hex = "0123456789abcdefghijklmnopqrstuv"
	alnum = "abcdefghijklmnopqrstuvwxyz0123456789"
	gvid = "0123456789abcdefghijklmnopqrstuvwxyz"
	corphosts = "www mail api vpn intranet git jira wiki sso owa portal files print01 fs01 sharepoint crm hr"

	# ---- acme-corp.com: the site the clients work for
	zopen("acme-corp.com")
	rr("@ IN A 203.0.113.10")
	rr("@ IN MX 10 mail")
	rr("@ IN MX 20 mail2")
	rr("@ IN TXT \"v=spf1 mx ip4:203.0.113.0/24 include:spf.protection.outlook.com -all\"")
	rr("@ IN TXT \"google-site-verification=" rstr(alnum "ABCDEFGHIJKLMNOPQRSTUVWXYZ_-", 43) "\"")
	rr("@ IN TXT \"MS=ms" rstr("0123456789", 8) "\"")
	rr("_dmarc IN TXT \"v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@acme-corp.com; pct=100\"")
	key = rstr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 392)
	rr("selector1._domainkey IN TXT \"v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" substr(key, 1, 180) "\" \"" substr(key, 181) "IDAQAB\"")
	rr("selector2._domainkey IN CNAME selector2-acme-corp-com._domainkey.acmecorp.onmicrosoft.com.")
	rr("google._domainkey IN TXT \"v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQ" rstr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 180) "IDAQAB\"")
	rr("mx1._domainkey IN TXT \"v=DKIM1; k=ed25519; p=" rstr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 43) "=\"")
	n = split(corphosts, h, " ")
	for (i = 1; i <= n; i++) { rr(h[i] " IN A " tn()); if (rnd(2)) rr(h[i] " IN AAAA " v6()) }
	rr("mail2 IN A " tn())
	rr("autodiscover IN CNAME autodiscover.outlook.com.")
	rr("lyncdiscover IN CNAME webdir.online.lync.com.")
	rr("enterpriseregistration IN CNAME enterpriseregistration.windows.net.")
	rr("cdn IN CNAME d3k9x7h2q4m1zp.cloudfront.net.")
	rr("static IN CNAME acme-corp.com.edgekey.net.")
	for (i = 1; i <= 4; i++) { dc[i] = sprintf("dc%02d", i); rr(dc[i] " IN A 203.0.113." (20 + i)) }
	for (i = 1; i <= 4; i++) {
		rr("_ldap._tcp IN SRV 0 100 389 " dc[i])
		rr("_ldap._tcp.dc._msdcs IN SRV 0 100 389 " dc[i])
		rr("_ldap._tcp.Default-First-Site-Name._sites.dc._msdcs IN SRV 0 100 389 " dc[i])
		rr("_ldap._tcp.pdc._msdcs IN SRV 0 100 389 dc01")
		rr("_kerberos._tcp IN SRV 0 100 88 " dc[i])
		rr("_kerberos._udp IN SRV 0 100 88 " dc[i])
		rr("_kerberos._tcp.dc._msdcs IN SRV 0 100 88 " dc[i])
		rr("_kpasswd._udp IN SRV 0 100 464 " dc[i])
		rr("_gc._tcp IN SRV 0 100 3268 " dc[i])
	}
	rr("_sip._tls IN SRV 100 1 443 sipdir.online.lync.com.")
	rr("_sipfederationtls._tcp IN SRV 100 1 5061 sipfed.online.lync.com.")
	rr("_autodiscover._tcp IN SRV 0 0 443 mail")
	rr("_xmpp-client._tcp IN SRV 5 0 5222 chat")
	rr("chat IN A " tn())
	rr("b._dns-sd._udp IN PTR acme-corp.com.")
	rr("lb._dns-sd._udp IN PTR acme-corp.com.")
	# Machine GUID style names a domain registers (long hex labels, benign).
	for (i = 1; i <= 6; i++) { guid[i] = hex(8) "-" hex(4) "-" hex(4) "-" hex(4) "-" hex(12); rr(guid[i] "._msdcs IN CNAME " dc[(i % 4) + 1]) }
	zclose()

	# ---- parents of the tunnel zones: ordinary sites with a delegated child
	zopen(substr(iozone, index(iozone, ".") + 1))
	rr("@ IN A " tn()); rr("www IN A " tn()); rr("@ IN MX 10 mx." zones[nz] ".")
	rr("mx IN A " tn())
	split(iozone, lab, "."); rr(lab[1] " IN NS ns." iozone "."); rr("ns." lab[1] " IN A " ioip)
	zclose()
	zopen(substr(d2zone, index(d2zone, ".") + 1))
	rr("@ IN A " tn()); rr("www IN A " tn()); rr("mirror IN A " tn())
	split(d2zone, lab, "."); rr(lab[1] " IN NS ns." d2zone "."); rr("ns." lab[1] " IN A " d2ip)
	zclose()

	# ---- CDNs: Akamai, Google video, CloudFront (wildcards: any edge name answers)
	zopen("akamaiedge.net")
	split("a b dscb dsca dscx dscd dsct dscg", akd, " ")
	for (i in akd) { rr("*." akd[i] " IN A " tn2()); rr("*." akd[i] " IN AAAA " v6()) }
	zclose()
	zopen("edgekey.net")
	rr("*  IN CNAME e" (rnd(9000) + 1000) ".dscx.akamaiedge.net.")
	zclose()
	zopen("akamaized.net")
	rr("* IN A " tn2())
	zclose()
	zopen("googlevideo.com")
	rr("* IN A " tn2()); rr("* IN AAAA " v6())
	zclose()
	zopen("cloudfront.net")
	for (i = 0; i < 4; i++) rr("* IN A " tn2())
	zclose()
	zopen("amazonaws.com")
	rr("*.compute-1 IN A " tn2()); rr("s3 IN A " tn2()); rr("*.s3 IN A " tn2())
	rr("s3.eu-west-1 IN A " tn2()); rr("sqs.us-east-1 IN A " tn2()); rr("ec2.us-east-1 IN A " tn2())
	zclose()

	# ---- popular sites
	split("google.com youtube.com github.com microsoft.com office.com office365.com live.com windowsupdate.com windows.com apple.com icloud.com slack.com zoom.us outlook.com linkedin.com wikipedia.org mozilla.org debian.org lync.com windows.net onmicrosoft.com", pop, " ")
	npop = 18
	for (i = 1; pop[i] != ""; i++) {
		zopen(pop[i])
		rr("@ IN A " tn()); rr("@ IN AAAA " v6()); rr("www IN A " tn()); rr("@ IN MX 10 mx1." pop[i] ".")
		rr("mx1 IN A " tn())
		rr("@ IN TXT \"v=spf1 include:_spf." pop[i] " ~all\"")
		zclose()
	}
	# subdomains of the popular sites that clients look up
	sub_google = "mail drive docs accounts apis fonts play clients1 clients2 clients4 update ssl www safebrowsing"
	sub_github = "api raw codeload objects github-cloud avatars"
	sub_ms = "login settings-win v10.events.data vortex.data ctldl fe2 nexus"
	sub_win = "time ctldl fe3.delivery.mp download"
	sub_apple = "gs-loc mesu swcdn init configuration gsa ocsp"
	# (records for these are added through wildcards in the popular zones)
	n = split("google.com github.com microsoft.com windows.com windowsupdate.com apple.com office.com live.com outlook.com lync.com windows.net onmicrosoft.com", wz, " ")
	for (i = 1; i <= n; i++) { zf = zonedir "/" wz[i] ".zone"; print "* IN A " tn() >> zf; close(zf) }

	# ---- DNSBLs (mostly NXDOMAIN; a few listed addresses answer 127.0.0.x)
	zopen("spamhaus.org")
	for (i = 0; i < 40; i++) { listed[i] = (rnd(200) + 20) "." rnd(256) "." rnd(256) "." (rnd(250) + 1); rr(listed[i] ".zen IN A 127.0.0." pick("2 3 4 4 9 10 11")); rr(listed[i] ".zen IN TXT \"https://www.spamhaus.org/query/ip/" listed[i] "\"") }
	rr("bad-domain-example.com.dbl IN A 127.0.1.2")
	zclose()
	zopen("spamcop.net")
	for (i = 0; i < 10; i++) rr(listed[i] ".bl IN A 127.0.0.2")
	zclose()
	zopen("barracudacentral.org")
	for (i = 0; i < 10; i++) rr(listed[i + 10] ".b IN A 127.0.0.2")
	zclose()
	zopen("surbl.org")
	rr("bad-domain-example.com.multi IN A 127.0.0.64")
	zclose()

	# ---- antivirus / reputation lookups with hash labels (wildcards answer)
	zopen("sophosxl.net")
	rr("*.f IN A 127.0.0.1"); rr("*.u IN A 127.0.0.1"); rr("*.sx IN A 127.0.0.1")
	zclose()
	zopen("mcafee.com")
	rr("@ IN A " tn()); rr("www IN A " tn()); rr("*.avqs IN A 127.0.0.128"); rr("*.avts IN A 127.0.0.128")
	zclose()
	zopen("team-cymru.com")
	rr("*.hash IN TXT \"1717171717 45\"")
	zclose()

	# ---- reverse zones (IPv4 TEST-NETs, IPv6 documentation prefix)
	split("2.0.192 100.51.198 113.0.203", r4, " ")
	for (i = 1; i <= 3; i++) {
		zopen(r4[i] ".in-addr.arpa")
		for (j = 2; j < 252; j++) if (rnd(3)) rr(j " IN PTR " pick("host mx web cache edge srv") "-" j "." pick("acme-corp.com cdn-sync.net akamaitechnologies.com 1e100.net amazonaws.com") ".")
		zclose()
	}
	zopen("8.b.d.0.1.0.0.2.ip6.arpa")
	for (j = 0; j < 120; j++) { a6[j] = v6(); r6[j] = rev6(a6[j]); rr(substr(r6[j], 1, length(r6[j]) - 16) " IN PTR " pick("host edge cache srv") "-" j ".1e100.net.") }
	zclose()

	# ---- queries
	npool = 60
	for (i = 0; i < npool; i++) {
		ak[i] = "e" (rnd(9000) + 1000) "." akd[rnd(8) + 1] ".akamaiedge.net"
		gv[i] = "r" (rnd(8) + 1) "---sn-" rstr(gvid, 8) (rnd(4) ? "" : "-" rstr(gvid, 4)) ".googlevideo.com"
		cf[i] = "d" rstr("0123456789abcdefghijklmnopqrstuvwxyz", 13) ".cloudfront.net"
		ec[i] = "ec2-" tn2() ".compute-1.amazonaws.com"; gsub(/\./, "-", ec[i]); sub(/-compute-1-amazonaws-com$/, ".compute-1.amazonaws.com", ec[i])
	}
	nsub_g = split(sub_google, sg, " "); nsub_gh = split(sub_github, sgh, " "); nsub_ms = split(sub_ms, sms, " ")
	nsub_w = split(sub_win, sw, " "); nsub_a = split(sub_apple, sa, " ")
	while (nqs < nq) {
		c = rnd(100)
		if (c < 14) { h1 = pick(corphosts) ".acme-corp.com"; q(h1, "A"); if (rnd(2)) q(h1, "AAAA"); if (!rnd(5)) q(h1, "HTTPS") }
		else if (c < 22) { p = pop[rnd(npop) + 1]; q("www." p, "A"); q("www." p, "AAAA"); if (rnd(2)) q("www." p, "HTTPS") }
		else if (c < 28) { r = rnd(5)
			if (r == 0) q(sg[rnd(nsub_g) + 1] ".google.com", "A")
			else if (r == 1) q(sgh[rnd(nsub_gh) + 1] ".github.com", "A")
			else if (r == 2) q(sms[rnd(nsub_ms) + 1] ".microsoft.com", "A")
			else if (r == 3) q(sw[rnd(nsub_w) + 1] ".windows.com", "A")
			else q(sa[rnd(nsub_a) + 1] ".apple.com", "A") }
		else if (c < 36) { q(ak[rnd(npool)], "A"); if (rnd(2)) q(ak[rnd(npool)], "AAAA") }
		else if (c < 42) { q(gv[rnd(npool)], "A"); if (rnd(2)) q(gv[rnd(npool)], "AAAA") }
		else if (c < 47) q(cf[rnd(npool)], "A")
		else if (c < 50) q(ec[rnd(npool)], pick("A A AAAA"))
		else if (c < 58) { # mail server: DNSBL checks of a connecting client
			ip = (rnd(200) + 20) "." rnd(256) "." rnd(256) "." (rnd(250) + 1)
			if (!rnd(6)) ip = listed[rnd(40)]
			split(ip, o, "."); rv = o[4] "." o[3] "." o[2] "." o[1]
			q(rv ".zen.spamhaus.org", "A"); if (rnd(2)) q(rv ".bl.spamcop.net", "A"); if (rnd(2)) q(rv ".b.barracudacentral.org", "A")
			if (!rnd(4)) q(rv ".zen.spamhaus.org", "TXT")
			if (!rnd(3)) q(pick("gmail.com outlook.com example.org bad-domain-example.com newsletter-mailer.net") ".dbl.spamhaus.org", "A") }
		else if (c < 64) { # reverse lookups, v4 and v6
			if (rnd(2)) q(rev4(pick("203.0.113 198.51.100 192.0.2") "." (rnd(250) + 2)) ".in-addr.arpa", "PTR")
			else { j = rnd(150); q((j < 120 ? r6[j] : rev6(v6())) ".ip6.arpa", "PTR") } }
		else if (c < 71) { # domain member: AD SRV lookups
			q(pick("_ldap._tcp _kerberos._tcp _kerberos._udp _gc._tcp _kpasswd._udp _ldap._tcp.dc._msdcs _ldap._tcp.pdc._msdcs _ldap._tcp.Default-First-Site-Name._sites.dc._msdcs _kerberos._tcp.dc._msdcs _sip._tls _sipfederationtls._tcp _autodiscover._tcp") ".acme-corp.com", "SRV")
			if (!rnd(4)) q(guid[rnd(6) + 1] "._msdcs.acme-corp.com", "CNAME") }
		else if (c < 76) { # mail: DKIM, SPF, DMARC, MX
			r = rnd(6)
			if (r == 0) q("selector1._domainkey.acme-corp.com", "TXT")
			else if (r == 1) q("selector2._domainkey.acme-corp.com", "TXT")
			else if (r == 2) q(pick("google mx1 selector1") "._domainkey.acme-corp.com", "TXT")
			else if (r == 3) q("_dmarc.acme-corp.com", "TXT")
			else if (r == 4) q(pick(pop[rnd(npop) + 1] " acme-corp.com"), "TXT")
			else q(pick(pop[rnd(npop) + 1] " acme-corp.com"), "MX") }
		else if (c < 84) { # antivirus / reputation hash lookups
			r = rnd(4)
			if (r == 0) q(hex(32) "." hex(8) ".f.sophosxl.net", "A")
			else if (r == 1) q("0.0.0.0.1.0.0.4e." rstr(b32hex, 26) ".avqs.mcafee.com", "A")
			else if (r == 2) q(hex(32) ".hash.team-cymru.com", "TXT")
			else q(rstr(b32, 32) ".u.sophosxl.net", "A") }
		else if (c < 88) q(pick("static cdn") ".acme-corp.com", "A")
		else if (c < 92) { # search-list suffixes and typos (NXDOMAIN)
			p = pop[rnd(npop) + 1]
			r = rnd(3)
			if (r == 0) q("www." p ".acme-corp.com", "A")
			else if (r == 1) q(pick("wpad isatap printer nas-01 old-intranet") ".acme-corp.com", "A")
			else q(substr(p, 1, 1) substr(p, 3), "A") }
		else if (c < 95) q(pick("autodiscover lyncdiscover enterpriseregistration") ".acme-corp.com", "A")
		else if (c < 98) q(pick("www mx") "." pick(substr(iozone, index(iozone, ".") + 1) " " substr(d2zone, index(d2zone, ".") + 1)), "A")
		else q(pick("b._dns-sd._udp lb._dns-sd._udp") ".acme-corp.com", "PTR")
	}
	close(qfile)
	for (i = 1; i <= nz; i++) print zones[i] > (zonedir "/zones.list")
	# A stand-in root: every name outside the zones above gets an
	# authoritative NXDOMAIN (as the real root gives for unknown TLDs), so
	# CNAMEs to made-up names (iodine -T A) end in NXDOMAIN, not SERVFAIL.
	zf = zonedir "/root.zone"
	print "$ORIGIN ." > zf
	print "$TTL 86400" > zf
	print ". IN SOA a.root-servers.test. nstld.root-servers.test. 2024060100 1800 900 604800 86400" > zf
	print ". IN NS a.root-servers.test." > zf
	close(zf)
	print "." > (zonedir "/zones.list")
}
'
