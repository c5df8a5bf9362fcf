package engine

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/dnsieve/dnsieve/internal/fingerprint"
)

// Features are a domain's behaviour, the inputs of its verdict. They are
// written into findings so that analysts (and training) can see them.
type Features struct {
	Lookups     uint64  `json:"lookups"` // max(queries, responses): one per transaction whichever directions were captured
	Queries     uint64  `json:"queries"`
	Responses   uint64  `json:"responses"`
	Unique      uint64  `json:"unique_names"`
	UniqueRatio float64 `json:"unique_ratio"`
	IPShaped    uint64  `json:"ip_shaped_names"`
	DataNames   uint64  `json:"data_like_names"`
	DigestNames uint64  `json:"digest_like_names"`
	// TextNames counts the data-like names whose only long label is hex
	// that decodes to prose (hexTextName, TextFloor).
	TextNames uint64 `json:"text_hex_names"`
	// SearchExpansions counts the distinct names that embed a whole name
	// their client then asked on its own: a resolver's search list at
	// work (expand.go).
	SearchExpansions uint64 `json:"search_expansions,omitempty"`
	// SearchExpandedNames estimates how many distinct names asked on
	// their own those expansions were of.
	SearchExpandedNames uint64  `json:"search_expanded_names,omitempty"`
	InfoBytes           float64 `json:"info_bytes"` // compressed unique subdomain text
	InfoPerName         float64 `json:"info_per_name"`
	PeakDayInfo         float64 `json:"peak_day_info_bytes"`
	MeanSubLen          float64 `json:"mean_subdomain_length"`
	SubLenStddev        float64 `json:"subdomain_length_stddev"`
	MaxLabel            int     `json:"max_label_length"`
	NgramBits           float64 `json:"ngram_bits_per_char"`
	RareTypeShare       float64 `json:"rare_type_share"` // NULL, KEY, private-use, obsolete, unassigned
	DataTypeShare       float64 `json:"data_type_share"` // TXT, CNAME, MX, SRV
	NXShare             float64 `json:"nxdomain_share"`
	ErrorShare          float64 `json:"error_share"`
	AnswerBytes         float64 `json:"answer_bytes_per_response"`
	FlaggedShare        float64 `json:"flagged_share"`
	MixedCaseShare      float64 `json:"mixed_case_share"`
	Clients             int     `json:"clients"` // distinct client addresses
	// ClientsEstimated is true when Clients is a sketch's estimate: the
	// domain had more clients than it tracks one by one.
	ClientsEstimated bool    `json:"clients_estimated,omitempty"`
	Seconds          float64 `json:"seconds"`
	// PeakWinQueries is the most queries in one window (Config.Window);
	// PeakWinUnique the most new names in one window, which may be
	// another window, and counts a name first seen in a response too.
	PeakWinQueries uint64 `json:"peak_window_queries"`
	PeakWinUnique  uint64 `json:"peak_window_unique"`
	// WindowSeconds is the length of those windows (Config.Window).
	WindowSeconds float64 `json:"window_seconds"`
	RawPackets    uint64  `json:"raw_packets"`
	OffPort       uint64  `json:"off_port_messages"`
	EDNSBytes     float64 `json:"edns_option_bytes_per_message"`
	// DataAnswers counts responses whose answers carry content that looks
	// like encoded data (TXT strings of base64 or hex, NULL, KEY and
	// private-use records, AAAA addresses no host can have),
	// DataAnswerBytes that content's bytes; DistinctAnswers and
	// DistinctAnswerBytes count each record once: a downstream channel's
	// answers differ, a key or a token repeats. PeakDayAnswerBytes is the
	// distinct answer data of the busiest day (UTC, packet time).
	DataAnswers         uint64 `json:"data_answers"`
	DataAnswerBytes     uint64 `json:"data_answer_bytes"`
	DistinctAnswers     uint64 `json:"distinct_data_answers"`
	DistinctAnswerBytes uint64 `json:"distinct_data_answer_bytes"`
	PeakDayAnswerBytes  uint64 `json:"peak_day_data_answer_bytes"`
	// NumberedNames counts the distinct names of the domain's family of
	// numbered names (prefix0, prefix1, ...: counter.go) that shows a
	// stager best, NumberedSpan the numbers in that family's range,
	// NumberedInOrder the names that came right after a name numbered
	// near them, NumberedAnswers the IPv4 addresses answered to its names
	// (each name's first answer only), NumberedMostPerAnswer the most A
	// records one of those answers held, AnswerFirstOctets how many
	// different first octets those addresses had and
	// AnswerNonUnicastOctets how many of those were 224 to 255, which no
	// host's address starts with, and AnswerTextOctets whether all were
	// text bytes (OctetSet.Text: a text payload). Together they show a payload
	// served four bytes per A record (StagerFloor).
	NumberedNames          uint64 `json:"numbered_names"`
	NumberedSpan           uint64 `json:"numbered_span"`
	NumberedInOrder        uint64 `json:"numbered_in_order"`
	NumberedAnswers        uint64 `json:"numbered_answers"`
	NumberedMostPerAnswer  int    `json:"numbered_most_per_answer"`
	AnswerFirstOctets      int    `json:"answer_first_octets"`
	AnswerNonUnicastOctets int    `json:"answer_non_unicast_octets"`
	AnswerTextOctets       bool   `json:"answer_text_octets,omitempty"`
	// AnswersUsed is 1 when an address the domain resolved to appears in
	// the capture's other traffic, 0 when it never does although there is
	// other traffic, -1 when it cannot be told.
	AnswersUsed int `json:"answers_used"`
	// AnswerAddresses counts the distinct addresses the domain's answers
	// gave first (each response's first A or AAAA record), up to
	// MaxAnswerAddresses: that many means that many or more.
	AnswerAddresses int `json:"answer_addresses"`
	// KnownService names the known service the domain belongs to
	// (KnownService), if any.
	KnownService string `json:"known_service,omitempty"`
	Tool         string `json:"tool"`
	ToolStrong   uint32 `json:"tool_strong"`
	ToolWeak     uint32 `json:"tool_weak"`
	// ToolNames counts the distinct names in which the tool's protocol was
	// recognised (strongly) the first time they were seen; only the first
	// tool recognised in the domain has them counted, 0 for another.
	ToolNames uint32 `json:"tool_names"`
}

// Scorer decides a domain's verdict from its behaviour (package model's
// learned model implements it). The engine keeps its rules for their
// evidence texts and uses the Scorer's verdict, severity and explanation.
type Scorer interface {
	Verdict(f *Features) Judgement
}

// Judgement is a Scorer's decision on a domain.
type Judgement struct {
	// Verdict is "tunnel", "suspicious" or "" (nothing to report).
	Verdict  string
	Severity Severity
	Score    float64
	// Evidence explains the decision in words.
	Evidence []string
	// Explained names the features (package model's feature names, such
	// as "max_label_length") that Evidence already words, so that the
	// engine does not restate them with its own rules' texts.
	Explained []string
	// Quoted holds rule texts Evidence quotes word for word (a floor's
	// reason), which the engine then leaves out of its own.
	Quoted []string
}

// minOtherTraffic is how many non-DNS packets a capture needs before the
// absence of connections to a domain's answers means anything.
const minOtherTraffic = 1000

// Severity of a finding.
type Severity uint8

// Severities, weakest first.
const (
	SeverityNone Severity = iota
	SeverityLow
	SeverityMedium
	SeverityHigh
)

// String names the severity as findings write it.
func (s Severity) String() string {
	if s > SeverityHigh {
		return "unknown"
	}
	return [...]string{"none", "low", "medium", "high"}[s]
}

// Client is one client's part in a finding.
type Client struct {
	Addr        string  `json:"address"`
	Queries     uint64  `json:"queries"`
	Responses   uint64  `json:"responses"`
	UniqueNames uint64  `json:"unique_names"`
	BytesUp     uint64  `json:"bytes_up"`
	FirstSeen   string  `json:"first_seen"`
	LastSeen    string  `json:"last_seen"`
	MeanGap     float64 `json:"mean_query_gap_seconds,omitempty"`
	GapCV       float64 `json:"query_gap_cv,omitempty"`
	// Tool is the tool recognised in this client's messages, if any.
	Tool string `json:"tool,omitempty"`
	// ChannelMessages is how many of the client's messages at least
	// carried the channel: a new data-like name, an answer with new
	// encoded-looking data, or a recognised tool's protocol.
	ChannelMessages uint64 `json:"channel_messages"`
	// UsesChannel is true for a client with channel messages, or for
	// every client when none has any (the verdict rests on volume alone,
	// which no one client's messages tell apart). A client without is
	// one that only looked up other, ordinary names of the same
	// registered domain (www, mail): not a user of the channel.
	UsesChannel bool `json:"uses_channel"`
	// Resolver is true when the address was also seen answering DNS: a
	// resolver or forwarder relaying its own clients' lookups (a capture
	// that sees both legs). The hosts behind it are the ones to look at.
	Resolver bool `json:"resolver,omitempty"`
}

// Finding is the engine's verdict on one domain.
type Finding struct {
	ID               uint32   `json:"-"`
	Domain           string   `json:"domain"`
	RegisteredDomain string   `json:"registered_domain"`
	Verdict          string   `json:"verdict"` // "tunnel" or "suspicious"
	Severity         Severity `json:"-"`
	SeverityText     string   `json:"severity"`
	// Alerted is the highest severity an alert sink accepted for the
	// domain before this finding (MarkAlerted, by this process or by one
	// whose state was restored; SeverityNone: never). A sink announces
	// the finding only when Severity is above it.
	Alerted Severity `json:"-"`
	Score   float64  `json:"score"`
	Tool    string   `json:"tool"`
	// ToolRecognised is true when the tool's protocol was recognised
	// (strong fingerprints, in enough of the domain's messages:
	// engine.ToolRecognised), not only guessed.
	ToolRecognised bool `json:"tool_recognised"`
	// Tools lists every tool recognised in the domain, most evidence
	// first (several tools can share a domain, e.g. a test zone).
	Tools   []string `json:"tools"`
	Clients []Client `json:"clients"`
	// OtherClients is how many more clients the domain had than Clients
	// lists (an estimate when Features.ClientsEstimated).
	OtherClients uint64    `json:"other_clients,omitempty"`
	FirstSeen    time.Time `json:"first_seen"`
	LastSeen     time.Time `json:"last_seen"`
	Queries      uint64    `json:"queries"`
	Responses    uint64    `json:"responses"`
	UniqueNames  uint64    `json:"unique_names"`
	BytesUp      uint64    `json:"bytes_up"`
	BytesDown    uint64    `json:"bytes_down"`
	Files        []int     `json:"-"`
	Pcaps        []string  `json:"pcaps"`
	Evidence     []string  `json:"evidence"`
	Samples      []string  `json:"sample_names"`
	Features     Features  `json:"features"`
	// Timeline is the domain's queries and new-name bytes over time, from
	// the moment it had 10 distinct names (earlier queries are in the
	// first bucket).
	Timeline []Bucket `json:"timeline,omitempty"`
	// Lengths is the histogram of its distinct subdomain lengths, in
	// buckets of 16 bytes (the last one open), comparable with
	// Engine.LengthHistogram.
	Lengths []uint32 `json:"subdomain_lengths,omitempty"`
	// FirstAlert is the packet time at which the engine, judging as the
	// traffic went, first called the domain a tunnel, and AlertLookups
	// how many lookups it had seen by then (zero values when only the
	// final judgement did).
	FirstAlert   time.Time `json:"first_alert,omitzero"`
	AlertLookups uint64    `json:"alert_after_lookups,omitempty"`
	// SharedDomain is set when the finding's zone is the whole registered
	// domain, some client carried the channel, and sharedBystanders or
	// more clients that never carried it, twice as many as did, looked up
	// its other names: a tool sent its data under a domain everyone uses
	// (DET's default key is google.com). Per-packet outputs then list only
	// the packets that show the channel (data in the name, the tool's
	// protocol), not every lookup of the domain.
	SharedDomain bool `json:"shared_domain,omitempty"`
}

// sharedBystanders is how many clients that only looked up a registered
// domain's ordinary names make it a shared domain (Finding.SharedDomain):
// a few visitors of a tunnel owner's own web site do not.
const sharedBystanders = 10

// features computes a domain's features; it flushes the pending text into
// the information estimate first.
func (e *Engine) features(d *domain) Features {
	f := Features{
		Queries: d.queries, Responses: d.responses, Unique: d.unique, IPShaped: d.ipShaped,
		DataNames: d.dataNames, DigestNames: d.digestNames, TextNames: d.textNames, SearchExpansions: d.expansions,
		SearchExpandedNames: d.expandedNames.estimate(), MaxLabel: d.maxLabel,
		PeakWinQueries: d.peakQueries, PeakWinUnique: d.peakUniq, WindowSeconds: e.cfg.Window.Seconds(),
		RawPackets: d.raw, OffPort: d.offPort,
		DataAnswers: d.dataResponses, DataAnswerBytes: d.dataAnswerBytes,
		DistinctAnswers: d.distinctAnswers, DistinctAnswerBytes: d.distinctAnswerBytes,
		PeakDayAnswerBytes: d.peakDayAnswerBytes,
	}
	f.Clients, f.ClientsEstimated = d.clientCount()
	if d.num != nil {
		d.num.describe(&f)
	}
	f.Lookups = max(d.queries, d.responses)
	if f.Lookups > 0 {
		f.UniqueRatio = float64(d.unique) / float64(f.Lookups)
		f.FlaggedShare = float64(d.flagged) / float64(d.queries+d.responses)
		f.MixedCaseShare = float64(d.mixedCase) / float64(d.queries+d.responses)
	}
	info, infoRaw := d.info, d.infoRaw
	if len(d.pending) > 0 {
		// The pending text is measured, not flushed, so that the chunks
		// compressed (and so the estimate) do not depend on when the
		// domain was judged.
		info += uint64(e.compressedSize(d.pending))
		infoRaw += uint64(len(d.pending))
	}
	f.InfoBytes = float64(info)
	if n := d.unique - d.ipShaped; n > 0 {
		f.InfoPerName = f.InfoBytes / float64(n)
		f.MeanSubLen = float64(d.uniqueBytes) / float64(n)
	}
	if infoRaw > 0 {
		f.PeakDayInfo = float64(d.peakDayRaw) * float64(info) / float64(infoRaw)
	}
	if d.dataNames > 1 {
		m := float64(d.subLenSum) / float64(d.dataNames)
		f.SubLenStddev = math.Sqrt(math.Max(0, float64(d.subLenSq)/float64(d.dataNames)-m*m))
	}
	if d.ngramN > 0 {
		f.NgramBits = float64(d.ngramSum) / float64(d.ngramN) / 256
	}
	if d.queries > 0 {
		q := float64(d.queries)
		f.RareTypeShare = float64(d.qtypes[qtNULL]+d.qtypes[qtKEY]+d.qtypes[qtUnusual]) / q
		f.DataTypeShare = float64(d.qtypes[qtTXT]+d.qtypes[qtCNAME]+d.qtypes[qtMX]+d.qtypes[qtSRV]) / q
	}
	if n := d.queries + d.responses; n > 0 {
		f.EDNSBytes = float64(d.ednsData) / float64(n)
	}
	if d.responses > 0 {
		r := float64(d.responses)
		f.NXShare = float64(d.nxdomain) / r
		f.ErrorShare = float64(d.otherError) / r
		f.AnswerBytes = float64(d.answerData) / r
	}
	f.Seconds = float64(d.last-d.first) / 1e9
	f.AnswerAddresses = d.nResolved
	f.KnownService = KnownService(d.registered())
	f.AnswersUsed = -1
	if e.others >= minOtherTraffic && d.nResolved > 0 {
		f.AnswersUsed = 0
		for _, a := range d.resolved[:d.nResolved] {
			if e.contacted.has(a) {
				f.AnswersUsed = 1
				break
			}
		}
	}
	tool, strong, weak := d.tool()
	f.Tool, f.ToolStrong, f.ToolWeak = tool.String(), strong, weak
	if tool == d.zoneTool {
		f.ToolNames = uint32(min(d.toolNames, math.MaxUint32))
	}
	return f
}

// tool returns the tool with the most strong matches (then weak ones).
func (d *domain) tool() (fingerprint.Tool, uint32, uint32) {
	best := fingerprint.Unknown
	var bs, bw uint32
	for t := 1; t < numTools; t++ {
		s, w := d.tools[t][fingerprint.Strong], d.tools[t][fingerprint.Weak]
		if s > bs || s == bs && w > bw {
			best, bs, bw = fingerprint.Tool(t), s, w
		}
	}
	return best, bs, bw
}

// rule is one piece of evidence: points it adds to the score when it
// holds, the words that explain it ("": the evidence says it elsewhere),
// and the model feature it restates, if any (model.FeatureNames), so that
// it is left out when the Scorer's explanation words that feature.
type rule struct {
	points  float64
	text    string
	feature string
}

// Model features the rules restate (see rule.feature).
const (
	featInfoBytes     = "info_bytes"
	featNgramBits     = "ngram_bits"
	featMeanSubLen    = "mean_subdomain_length"
	featMaxLabel      = "max_label_length"
	featRareTypeShare = "rare_type_share"
	featDataTypeShare = "data_type_share"
	featAnswerBytes   = "answer_bytes"
	featFlaggedShare  = "flagged_share"
)

// RuleFeatures lists the model features the engine's rules restate: the
// names a Scorer's Judgement.Explained uses to leave them out (package
// model's tests check that it knows each).
func RuleFeatures() []string {
	return []string{featInfoBytes, featNgramBits, featMeanSubLen, featMaxLabel, featRareTypeShare,
		featDataTypeShare, featAnswerBytes, featFlaggedShare}
}

// A tool's protocol is recognised when its strong fingerprints hold in
// minToolMessages messages or more, and either its fingerprints, strong or
// weak, hold in one of the domain's messages in toolShareOf at least, or
// its strong ones in one of the domain's distinct names in toolShareOf.
// A tunnel's messages nearly all match (a dns2tcp session through a
// resolver that scrambles case matches strongly in its commands only, and
// weakly in all the rest); a busy service's random names meet a
// fingerprint's structure by accident now and then (a name in 33,000 for
// dnstt's), and the match counts again each time that name is looked up,
// hence the distinct names. A tunnel in a corner of a busy domain (a
// delegated zone of a company's domain) is under one in a hundred of its
// messages, but its names are distinct and the company's hosts are looked
// up again and again. Under one name in a hundred as well, it is judged by
// its behaviour alone (README, "What it misses").
const (
	minToolMessages = 3
	toolShareOf     = 100
)

// ToolRecognised reports whether a tool's protocol is recognised in a
// domain: enough to make it at least a medium finding.
func ToolRecognised(f *Features) bool {
	if f.ToolStrong < minToolMessages {
		return false
	}
	return (uint64(f.ToolStrong)+uint64(f.ToolWeak))*toolShareOf >= f.Queries+f.Responses ||
		f.ToolNames >= minToolMessages && uint64(f.ToolNames)*toolShareOf >= f.Unique
}

// judge scores features. The points are hand-set from protocol facts and
// published work (Paxson et al. 2013's 4 KB/day information bound; the
// record types tunnels need for downstream capacity) and checked on the
// evaluation corpora (EVALUATION.md); learned scoring may replace them.
func judge(f *Features) (float64, []rule) {
	var rs []rule
	// restate adds a rule that words model feature feature.
	restate := func(feature string, p float64, format string, args ...any) {
		rs = append(rs, rule{p, fmt.Sprintf(format, args...), feature})
	}
	add := func(p float64, format string, args ...any) { restate("", p, format, args...) }
	if ToolRecognised(f) {
		add(6, "%s protocol recognised in %s messages", f.Tool, comma(uint64(f.ToolStrong)))
	} else if f.ToolStrong > 0 {
		add(3, "%s protocol structure in %s message(s), too few to call it recognised", f.Tool, comma(uint64(f.ToolStrong)))
	}
	if f.RawPackets > 0 {
		add(3, "%s non-DNS packets on the DNS port (raw tunnel mode)", comma(f.RawPackets))
	}
	switch {
	case f.InfoBytes >= 4096:
		restate(featInfoBytes, 3, "%s of information in distinct names (compressed)", bytesText(f.InfoBytes))
	case f.InfoBytes >= 1024:
		restate(featInfoBytes, 2, "%s of information in distinct names (compressed)", bytesText(f.InfoBytes))
	case f.InfoBytes >= 256:
		restate(featInfoBytes, 1, "%s of information in distinct names (compressed)", bytesText(f.InfoBytes))
	}
	if f.Unique >= 100 && f.UniqueRatio >= 0.3 {
		// The evidence's headline says it: counted, not restated.
		rs = append(rs, rule{points: 1})
	}
	if f.DataNames >= 5 {
		switch {
		case f.NgramBits <= -5.5:
			restate(featNgramBits, 2, "subdomains look like encoded data (%.1f bits/char against ordinary host names)", f.NgramBits)
		case f.NgramBits <= -4.8:
			restate(featNgramBits, 1, "subdomains look unlike ordinary host names (%.1f bits/char)", f.NgramBits)
		}
	}
	if f.MeanSubLen >= 24 && f.DataNames >= 5 {
		restate(featMeanSubLen, 1, "long subdomains (mean %.0f bytes)", f.MeanSubLen)
	}
	if f.MaxLabel >= 48 {
		restate(featMaxLabel, 1, "labels up to %d bytes", f.MaxLabel)
	}
	if f.RareTypeShare >= 0.2 && f.Queries >= 10 {
		restate(featRareTypeShare, 3, "%.0f%% of queries ask for NULL, KEY, private-use or obsolete records", 100*f.RareTypeShare)
	} else if f.DataTypeShare >= 0.5 && f.Queries >= 10 {
		restate(featDataTypeShare, 1, "%.0f%% of queries ask for TXT, CNAME, MX or SRV records", 100*f.DataTypeShare)
	}
	if f.AnswerBytes >= 60 && f.Responses >= 10 {
		restate(featAnswerBytes, 1, "answers carry %.0f bytes on average", f.AnswerBytes)
	}
	// A downstream channel: distinct answers full of encoded data (its
	// volume also sets a floor, DownstreamFloor). One DKIM key or
	// verification token, however often fetched, is one distinct answer.
	if f.DistinctAnswers >= downstreamMinAnswers && f.DistinctAnswerBytes >= 2048 {
		add(2, "%s distinct answers carry %s of encoded-looking data (TXT, NULL, private-use or impossible AAAA records)", comma(f.DistinctAnswers), bytesText(float64(f.DistinctAnswerBytes)))
	}
	// A payload served four bytes per A record to a sweep of numbered
	// names (counter.go): the floor's own words.
	if sev, why := StagerFloor(f); sev > SeverityNone {
		add(2, "%s", why)
	}
	// Data in short labels: the volume of the names alone (UpstreamFloor).
	if sev, why := UpstreamFloor(f); sev > SeverityNone {
		add(2, "%s", why)
	}
	// Text written in hex (TextFloor).
	if sev, why := TextFloor(f); sev > SeverityNone {
		add(2, "%s", why)
	}
	if f.FlaggedShare >= 0.2 && f.Lookups >= 10 {
		restate(featFlaggedShare, 1, "%.0f%% of messages fail the per-name checks", 100*f.FlaggedShare)
	}
	// Ordinary EDNS options are a cookie or a client subnet (tens of
	// bytes); padding (RFC 7830) belongs to encrypted transports.
	switch {
	case f.EDNSBytes >= 200 && f.Lookups >= 10:
		add(5, "EDNS options carry %.0f bytes per message (a carrier no name shows)", f.EDNSBytes)
	case f.EDNSBytes >= 64 && f.Lookups >= 10:
		add(3, "EDNS options carry %.0f bytes per message (a carrier no name shows)", f.EDNSBytes)
	}
	if f.OffPort > 0 && f.Unique >= 10 {
		add(2, "%s DNS messages on a port that is not a DNS port", comma(f.OffPort))
	}
	if f.AnswersUsed == 0 && f.Unique >= 10 {
		add(1, "no address it resolved to was ever contacted, though the capture holds other traffic")
	}
	if f.Unique > 0 && float64(f.IPShaped) >= 0.5*float64(f.Unique) {
		add(-4, "most names are reversed IP addresses (DNSBL or reverse lookups)")
	}
	if f.DataNames >= 10 && float64(f.DigestNames) >= 0.9*float64(f.DataNames) && f.RareTypeShare < 0.2 && f.AnswerBytes < 60 {
		add(-4, "names hold one hash-sized label each (reputation-lookup shape)")
	}
	score := 0.0
	for _, r := range rs {
		score += r.points
	}
	return score, rs
}

// Downstream channel floor. Distinct answer records carrying encoded data
// at this rate are direct evidence of data moving towards the client, as
// a recognised protocol is of a tool: ordinary TXT answers are prose, tags
// and keys that repeat, and a key that rotates hourly (an ESNI key, ~100
// bytes) adds about 2.4 KB a day. The rate is the larger of the busiest
// day's (UTC, packet time) and the whole span's (at least a day), so that
// neither a long capture of slowly rotating keys nor a quiet first week
// inflates or hides it, and a fetch across midnight is not cut in two.
// The data must come in ten responses at least: one answer full of
// records, however large, is no channel.
const (
	downstreamMinAnswers   = 10
	downstreamMinResponses = 10
	downstreamBytesPerDay  = 4096
	downstreamHighPerDay   = 64 << 10
	secondsPerDay          = 86400
)

// A payload fetched in few answers, or spread over weeks, stays under the
// rate above. Records of payloadRecordBytes or more on average are a
// payload's chunks, not rotating keys or tokens (an ESNI key is about 100
// bytes): 4 KB of them in at least smallDownstreamAnswers distinct records
// and responses, or bulkDownstreamBytes in all at bulkBytesPerDay or more
// over the whole span (a payload fetched over weeks, not one large record
// that rotates daily for months), make a domain a medium finding too.
const (
	smallDownstreamAnswers = 3
	smallDownstreamBytes   = 4096
	bulkDownstreamBytes    = 32 << 10
	bulkBytesPerDay        = 1024
	payloadRecordBytes     = 256
)

// Upstream channel floor. Data in short labels (a few dozen characters a
// name) looks to the model like the host names of a cloud service, and
// stays under its thresholds however much of it leaves. A service's hosts
// are asked again and again, by many clients, and answered with their
// addresses, often through a CNAME to the service's edge (Dropbox names
// every shared file's host so), or with records (DKIM keys); a channel's
// names are new at every query, come from one to three hosts, and its server
// answers NXDOMAIN, nothing, or one fixed address. Together with their
// volume (the information in the distinct names after compression, at the
// busiest day's rate or the span's, as for answers), that is the channel's
// mark. Hash-sized labels are left out: reputation lookups are exactly
// that shape (digestShaped). Behind a resolver every service is asked by
// one client, and its cache asks each name about once; services that
// answer a few fixed addresses to random names (reputation verdicts in
// 127/8, beacons named by a UUID, one anycast address) then look alike,
// so names answered with addresses, or whose answers were not seen, need
// four times the volume of names that were denied, and a burst: a file
// leaving, not a service's steady trickle of lookups over the day.
const (
	upstreamInfoPerDay = 16 << 10
	// upstreamAddressedPerDay is the volume that names answered with
	// addresses need, and names whose answers were not seen, and
	// upstreamBurstRate the new names a second they need over one rate
	// window (600 in the default ten minutes).
	upstreamAddressedPerDay = 64 << 10
	upstreamBurstRate       = 1.0
	upstreamDataShare       = 0.9
	upstreamMaxDigestShare  = 0.1
	upstreamMinUniqueRatio  = 0.4
	// Without responses, the names alone: nearly every one new.
	upstreamQueriesOnlyRatio = 0.9
	upstreamMaxAddresses     = 3
	// At most one address an answer on average (an AAAA record's 16
	// bytes) over the responses that were not errors: no CNAME, no text.
	upstreamMaxAnswerBytes = 16
	// The records' size is the channel's only when one response in ten
	// or more was not an error (records or NODATA): one CNAME chain among
	// thousands of denials (another client's lookup of a name that exists)
	// says nothing of the names that were denied. The addresses it gave
	// still count. The shares are ratios of counts: the comparison allows
	// for rounding.
	upstreamMinAnsweredShare = 0.1
	upstreamMaxClients       = 3
	// A search domain's names are other domains' names (expand.go); when
	// forwarders in front of the sensor send the expansions and the names
	// from different addresses, only some are credited, so one credited
	// name in ten keeps the floor away.
	upstreamMaxExpansionShare = 0.1
	// MaxAnswerAddresses is the most answer addresses a domain keeps
	// (Features.AnswerAddresses).
	MaxAnswerAddresses = 4
)

// UpstreamFloor returns the least severity a domain's query names earn on
// their own (SeverityNone when they earn none) and the words that say why:
// medium for upstreamInfoPerDay of information in names nearly all
// encoded-looking and not hash-shaped, each asked about once, by at most
// upstreamMaxClients clients, at most one in ten of them a search-path
// expansion, denied or answered with nothing (upstreamAddressedPerDay and
// upstreamBurstRate when answered with at most upstreamMaxAddresses
// addresses and upstreamMaxAnswerBytes of records a response, the size
// judged only when upstreamMinAnsweredShare of the responses carried
// records, or when fewer than half the queries' responses were seen).
func UpstreamFloor(f *Features) (Severity, string) {
	n := f.Unique - min(f.IPShaped, f.Unique)
	if n == 0 || f.Clients > upstreamMaxClients || f.UniqueRatio < upstreamMinUniqueRatio ||
		float64(f.DataNames) < upstreamDataShare*float64(n) ||
		float64(f.DigestNames) > upstreamMaxDigestShare*float64(f.DataNames) ||
		float64(f.SearchExpansions) > upstreamMaxExpansionShare*float64(f.Unique) {
		return SeverityNone, ""
	}
	// Responses to fewer than half the queries tell little about the
	// answers: the names alone decide, as in a capture of queries only.
	answered := responsesSeen(f)
	if !upstreamAnswersQuiet(f) {
		return SeverityNone, ""
	}
	rate := max(f.PeakDayInfo, f.InfoBytes/max(1, f.Seconds/secondsPerDay))
	if rate < upstreamInfoPerDay ||
		(f.AnswerAddresses > 0 || !answered) && (rate < upstreamAddressedPerDay || !burst(f)) {
		return SeverityNone, ""
	}
	answers := "no responses were seen"
	if f.Responses > 0 && !answered {
		answers = "too few of their responses were seen"
	}
	if answered {
		switch f.AnswerAddresses {
		case 0:
			answers = "its answers gave no address"
		case 1:
			answers = "its answers gave one address"
		default:
			answers = fmt.Sprintf("its answers gave %d addresses", f.AnswerAddresses)
		}
		if f.NXShare >= 0.01 {
			answers += fmt.Sprintf(" (%.0f%% NXDOMAIN)", 100*f.NXShare)
		}
	}
	asked := "each asked about once"
	if f.UniqueRatio < 0.9 {
		asked = fmt.Sprintf("each asked %.1f times on average", 1/f.UniqueRatio)
	}
	return SeverityMedium, fmt.Sprintf("%s distinct names, %s of them encoded-looking, carried %s of information after compression (%s on the busiest day) from %s, %s, and %s: an upstream channel's volume",
		comma(n), comma(f.DataNames), bytesText(f.InfoBytes), bytesText(f.PeakDayInfo), clientsText(f.Clients), asked, answers)
}

// upstreamAnswersQuiet reports whether a domain's answers are an upstream
// channel's: denied or a few addresses, no CNAME or text (the records'
// size judged only when upstreamMinAnsweredShare of the responses were
// not errors), or, with responses to fewer than half the queries, nearly
// every name new.
func upstreamAnswersQuiet(f *Features) bool {
	answered := responsesSeen(f)
	return !(f.Responses > 0 && (f.AnswerAddresses > upstreamMaxAddresses ||
		recordBytes(f) > upstreamMaxAnswerBytes && f.NXShare+f.ErrorShare <= 1-upstreamMinAnsweredShare+1e-9) ||
		!answered && f.UniqueRatio < upstreamQueriesOnlyRatio)
}

// responsesSeen reports whether the responses to at least half a
// domain's queries were captured: enough to judge its answers by.
func responsesSeen(f *Features) bool { return f.Responses > 0 && 2*f.Responses >= f.Queries }

// recordBytes is the answer records' bytes per response that was not an
// error (NXDOMAIN answers carry none, and would dilute a CNAME's).
func recordBytes(f *Features) float64 {
	ok := float64(f.Responses) * (1 - f.NXShare - f.ErrorShare)
	if ok < 0.5 { // none: the shares are ratios of whole counts
		return 0
	}
	return f.AnswerBytes * float64(f.Responses) / ok
}

// burst reports whether a domain's busiest rate window held
// upstreamBurstRate new names a second (windows of ten minutes when the
// features do not say).
func burst(f *Features) bool {
	w := f.WindowSeconds
	if w <= 0 {
		w = 600
	}
	return float64(f.PeakWinUnique) >= upstreamBurstRate*w
}

func clientsText(n int) string {
	if n == 1 {
		return "one client"
	}
	return fmt.Sprintf("%d clients", n)
}

// Text floor. A file of text sent as the hex of its lines (`xxd -p -c 8`
// or `-c 12`: 16 or 24 characters a name) carries little information
// after compression, text compresses, so the upstream floor's volume may
// never be reached: a 50 KB CSV file in 6,250 such names from one host
// made no finding. But the hex of prose (hexProse) is data host names do
// not hold, and random identifiers decode to it about once in a million
// names. So textMinNames distinct names whose only long label is such hex
// (hexTextName; 512 bytes of text in names of 16 characters), at least
// half the domain's names, that many of them new in one rate window (a
// file leaving, not a service's trickle over days), from at most
// upstreamMaxClients hosts, at least 0.4 distinct names a lookup, denied,
// are medium; answered with at most a few addresses (upstreamAnswersQuiet),
// or with their answers unseen, they need four times as many, as the
// upstream floor does.
const (
	textMinNames   = 64
	textAnsweredBy = 4
	textMinShare   = 0.5
)

// TextFloor returns the least severity a domain's names of hex text earn
// on their own (SeverityNone when they earn none) and the words that say
// why.
func TextFloor(f *Features) (Severity, string) {
	need := uint64(textMinNames)
	if f.AnswerAddresses > 0 || !responsesSeen(f) {
		need *= textAnsweredBy
	}
	if f.TextNames < need || float64(f.TextNames) < textMinShare*float64(f.Unique) || f.PeakWinUnique < need ||
		f.Clients > upstreamMaxClients || f.UniqueRatio < upstreamMinUniqueRatio || !upstreamAnswersQuiet(f) {
		return SeverityNone, ""
	}
	return SeverityMedium, fmt.Sprintf("%s of its %s distinct names hold a label of hex that decodes to prose (letters, spaces and punctuation), from %s, %s new names in its busiest rate window: text leaving as hex",
		comma(f.TextNames), comma(f.Unique), clientsText(f.Clients), comma(f.PeakWinUnique))
}

// VolumeFloor is the strongest of DownstreamFloor, UpstreamFloor and
// TextFloor: the least severity the data a domain moves earns on its own.
func VolumeFloor(f *Features) (Severity, string) {
	sev, why := DownstreamFloor(f)
	if s, w := UpstreamFloor(f); s > sev {
		sev, why = s, w
	}
	if s, w := TextFloor(f); s > sev {
		sev, why = s, w
	}
	return sev, why
}

// DownstreamFloor returns the least severity a domain's answers earn on
// their own (SeverityNone when they earn none) and the words that say
// why: the stronger of their encoded-looking content (answerFloor) and a
// sweep of numbered names answered with spread IPv4 addresses
// (StagerFloor).
func DownstreamFloor(f *Features) (Severity, string) {
	sev, why := answerFloor(f)
	if s, w := StagerFloor(f); s > sev {
		sev, why = s, w
	}
	return sev, why
}

// answerFloor returns the least severity a domain's answer content earns
// on its own and the words that say why: medium from 4 KB of distinct
// encoded-looking answer data a day (in at least ten distinct records and
// ten responses), high from 64 KB a day; medium also for a payload's
// chunks (records of payloadRecordBytes on average: 4 KB in as few as
// smallDownstreamAnswers records and responses, or bulkDownstreamBytes at
// bulkBytesPerDay over the span).
func answerFloor(f *Features) (Severity, string) {
	if f.DistinctAnswers >= downstreamMinAnswers && f.DataAnswers >= downstreamMinResponses {
		rate := max(float64(f.PeakDayAnswerBytes), float64(f.DistinctAnswerBytes)/max(1, f.Seconds/secondsPerDay))
		if rate >= downstreamBytesPerDay {
			sev := SeverityMedium
			if rate >= downstreamHighPerDay {
				sev = SeverityHigh
			}
			return sev, fmt.Sprintf("its answers carried %s of distinct encoded-looking data in %s distinct records (%s on the busiest day): a downstream channel's volume",
				bytesText(float64(f.DistinctAnswerBytes)), comma(f.DistinctAnswers), bytesText(float64(f.PeakDayAnswerBytes)))
		}
	}
	spanRate := float64(f.DistinctAnswerBytes) / max(1, f.Seconds/secondsPerDay)
	if f.DistinctAnswers >= smallDownstreamAnswers && f.DataAnswers >= smallDownstreamAnswers &&
		f.DistinctAnswerBytes >= payloadRecordBytes*f.DistinctAnswers &&
		(f.DistinctAnswers < downstreamMinAnswers && f.DistinctAnswerBytes >= smallDownstreamBytes ||
			f.DistinctAnswerBytes >= bulkDownstreamBytes && spanRate >= bulkBytesPerDay) {
		return SeverityMedium, fmt.Sprintf("its answers carried %s of distinct encoded-looking data in %s distinct records of %s on average: a payload's chunks",
			bytesText(float64(f.DistinctAnswerBytes)), comma(f.DistinctAnswers), bytesText(float64(f.DistinctAnswerBytes)/float64(f.DistinctAnswers)))
	}
	return SeverityNone, ""
}

// Small channels. A key or a password leaves in a few names; a domain
// with fewer than ten distinct names is still judged when at least
// smallDataNames of them look like encoded data and its distinct names
// carry smallDataInfo bytes of information after compression: more than
// nine hash lookups hold (20 to 32 bytes each), about as much as five
// names of 200 hex characters.
const (
	smallDataNames = 3
	smallDataInfo  = 512
	// compressSlack bounds what compression adds to a short text: the
	// DEFLATE block headers and the end of the stream.
	compressSlack = 64
)

// Judgeable reports whether a domain has the breadth to be judged at all:
// ten distinct names, ten distinct data-carrying answers, a recognised
// protocol or raw tunnel packets, a few names that carry unmistakable
// data (smallDataNames, smallDataInfo), or a few answers that carry a
// payload's worth of it (smallDownstreamAnswers, smallDownstreamBytes).
func Judgeable(f *Features) bool {
	return f.Unique >= 10 || f.DistinctAnswers >= 10 || f.ToolStrong > 0 || f.RawPackets > 0 ||
		f.DataNames >= smallDataNames && f.InfoBytes >= smallDataInfo ||
		f.DistinctAnswers >= smallDownstreamAnswers && f.DistinctAnswerBytes >= smallDownstreamBytes
}

// mayBeJudgeable is Judgeable's cheap pre-check on a domain's state, before
// its features are computed: compressing its distinct names' text (a
// newline each) adds at most a few dozen bytes of framing to it.
func (d *domain) mayBeJudgeable() bool {
	return d.unique >= 10 || d.distinctAnswers >= 10 || d.hasStrong() || d.raw > 0 || d.maySmallData() || d.mayPayload()
}

// maySmallData is the pre-check of Judgeable's small-channel clause.
func (d *domain) maySmallData() bool {
	return d.dataNames >= smallDataNames && d.uniqueBytes+d.unique+compressSlack >= smallDataInfo
}

// mayPayload is the pre-check of Judgeable's payload clause.
func (d *domain) mayPayload() bool {
	return d.distinctAnswers >= smallDownstreamAnswers && d.distinctAnswerBytes >= smallDownstreamBytes
}

// verdictOf maps a score to a verdict and severity. A domain needs some
// breadth (Judgeable) to be judged at all.
func verdictOf(score float64, f *Features) (string, Severity) {
	if !Judgeable(f) {
		return "", SeverityNone
	}
	sev := SeverityNone
	switch {
	case score >= 9:
		sev = SeverityHigh
	case score >= 7:
		sev = SeverityMedium
	case score >= 5:
		sev = SeverityLow
	}
	if floor, _ := VolumeFloor(f); floor > sev {
		sev = floor
	}
	switch {
	case sev >= SeverityMedium:
		return "tunnel", sev
	case sev == SeverityLow:
		return "suspicious", sev
	}
	return "", SeverityNone
}

// decide turns features into a verdict: the Scorer's when one is set,
// else the hand-set points, capped at suspicious for a known service
// (known.go) and for a search domain (expand.go) unless the channel is
// proven (channelProven). rules are the hand-set rules that held (their
// texts are evidence either way); why is the Scorer's explanation.
func (e *Engine) decide(f *Features) (verdict string, sev Severity, score float64, rules []rule, why []string) {
	verdict, sev, score, rules, why = e.judgement(f)
	if sev <= SeverityLow || channelProven(f) {
		return verdict, sev, score, rules, why
	}
	var capped string
	switch {
	case f.KnownService != "" && !e.cfg.JudgeKnownServices:
		// Its names carry data by design (known.go).
		capped = fmt.Sprintf("a known service that puts identifiers or data in DNS names by design (%s): judged suspicious at most", f.KnownService)
	case searchExpanded(f):
		// Its names are other domains' names (expand.go).
		capped = fmt.Sprintf("%s of the %s distinct names are a resolver's search-path expansions of names their clients then asked on their own: judged suspicious at most",
			comma(f.SearchExpansions), comma(f.Unique))
	default:
		return verdict, sev, score, rules, why
	}
	rules = append(rules, rule{points: -1, text: capped})
	return "suspicious", SeverityLow, score, keepFloor(rules, f), notRaised(why)
}

// channelProven reports whether a domain holds what neither a known
// service's nor a search domain's traffic holds: a tool's protocol, raw
// tunnel packets, or answers that carry a downstream channel's data.
func channelProven(f *Features) bool {
	if ToolRecognised(f) || f.RawPackets > 0 {
		return true
	}
	sev, _ := DownstreamFloor(f)
	return sev > SeverityNone
}

// keepFloor adds the upstream and text floors' words to a capped
// verdict's rules when they are not among them (the Scorer quotes them in
// the line that notRaised drops).
func keepFloor(rules []rule, f *Features) []rule {
	for _, floor := range [...]func(*Features) (Severity, string){UpstreamFloor, TextFloor} {
		sev, why := floor(f)
		if sev == SeverityNone || slices.ContainsFunc(rules, func(r rule) bool { return r.text == why }) {
			continue
		}
		rules = append(rules, rule{points: 2, text: why}) // shown as evidence for; the score is made already
	}
	return rules
}

// notRaised drops the lines of a Scorer's explanation that say what
// raised its severity (model.Decision.Floor, "raised to ..."): a cap that
// lowers it again would contradict them.
func notRaised(why []string) []string {
	return slices.DeleteFunc(slices.Clone(why), func(w string) bool { return strings.HasPrefix(w, "raised to ") })
}

// judgement is decide's verdict before the search-domain cap.
func (e *Engine) judgement(f *Features) (verdict string, sev Severity, score float64, rules []rule, why []string) {
	if e.cfg.Scorer != nil {
		// The rules' texts are only written for a verdict, so judging
		// ordinary domains allocates nothing.
		j := e.cfg.Scorer.Verdict(f)
		if j.Verdict != "" {
			_, rules = judge(f)
			// A rule that restates what the explanation says goes.
			// So does one whose words the explanation quotes (a floor's
			// reason).
			rules = slices.DeleteFunc(rules, func(r rule) bool {
				return r.feature != "" && slices.Contains(j.Explained, r.feature) || r.text != "" && slices.Contains(j.Quoted, r.text)
			})
		}
		return j.Verdict, j.Severity, j.Score, rules, j.Evidence
	}
	score, rules = judge(f)
	verdict, sev = verdictOf(score, f)
	return verdict, sev, score, rules, nil
}

// maybeJudge judges a domain while traffic flows, so that an alert can be
// raised (and its time recorded) as soon as the evidence suffices: when
// its distinct names have grown by an eighth since the last judgement, or
// a tool's strong fingerprints reached 3 or a power of two (a protocol
// is recognised only once they are a share of the domain's messages:
// ToolRecognised), or raw tunnel packets were first seen. Only
// domains with data-like names or answers, recognised protocols or a
// sweep of numbered names are judged, so ordinary traffic costs nothing
// here.
func (e *Engine) maybeJudge(d *domain, t int64) {
	_, strong, _ := d.tool()
	due := d.unique >= d.nextJudge && d.unique >= candidateUnique && d.dataNames >= 5 ||
		d.unique >= d.nextJudge && d.maySmallData() ||
		d.distinctAnswers >= d.nextJudgeData && d.distinctAnswers >= candidateUnique ||
		d.distinctAnswers >= d.nextJudgeData && d.mayPayload() ||
		d.unique >= d.nextJudge && d.staging ||
		strong != d.judgedStrong && (strong == 3 || strong&(strong-1) == 0) || d.raw > 0 && d.judgedRaw == 0
	if !due || d.alertSev == SeverityHigh {
		return
	}
	d.nextJudge = satAdd(d.unique, max(1, d.unique/8))
	d.nextJudgeData = satAdd(d.distinctAnswers, max(1, d.distinctAnswers/8))
	d.judgedStrong, d.judgedRaw = strong, d.raw
	f := e.features(d)
	verdict, sev, score, rules, why := e.decide(&f)
	if sev <= d.alertSev {
		return
	}
	if p := d.parent; p != nil {
		if pf := e.features(p); e.unitCapped(&pf, &f) {
			return // its domain's caps hold for it
		}
	}
	d.raiseAlert(sev)
	if verdict == "tunnel" && d.firstAlert == 0 {
		d.firstAlert, d.firstAlertLookups = t, f.Lookups
	}
	if p := d.parent; verdict == "tunnel" && p != nil && p.firstAlert == 0 {
		p.firstAlert, p.firstAlertLookups = t, max(p.queries, p.responses)
	}
	if e.OnAlert != nil {
		e.OnAlert(e.finding(d, &f, score, rules, why, verdict, sev))
	}
}

// satAdd adds without wrapping: counts read from a hostile snapshot may
// be near the top of their range, and a wrapped step would make a domain
// due for judgement on every message.
func satAdd(a, b uint64) uint64 {
	if s := a + b; s >= a {
		return s
	}
	return math.MaxUint64
}

// MarkAlerted records that an alert sink accepted the finding of domain
// id at severity sev (from OnAlert or a final flush), so that a later
// flush, or a process restoring this state, does not announce it again at
// that severity. An alert that was not written is not marked: it is
// tried again.
func (e *Engine) MarkAlerted(id uint32, sev Severity) {
	if d := e.byID[id]; d != nil && sev > d.announced {
		d.announced = min(sev, SeverityHigh)
		d.raiseAlert(max(d.alertSev, d.announced))
		if d.unit != nil {
			d.unit.announced = d.announced
		}
	}
}

// Findings judges every domain and returns those with a verdict, most
// severe first.
func (e *Engine) Findings() []Finding {
	var out []Finding
	for _, d := range e.domains {
		var f Features
		var verdict string
		var sev Severity
		var score float64
		var rules []rule
		var why []string
		if d.mayBeJudgeable() {
			f = e.features(d)
			verdict, sev, score, rules, why = e.decide(&f)
		}
		if d.unit != nil {
			if uf, v, s, sc, r, w, ok := e.judgeUnit(d, &f, sev); ok {
				out = append(out, e.finding(d.unit, &uf, sc, r, w, v, s))
				continue
			}
		}
		if verdict == "" {
			continue
		}
		out = append(out, e.finding(d, &f, score, rules, why, verdict, sev))
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := &out[i], &out[j]
		if a.Severity != b.Severity {
			return a.Severity > b.Severity
		}
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		return a.Domain < b.Domain
	})
	return out
}

// Features returns the features of every domain with at least minUnique
// distinct names, keyed by registered domain (for analysis and training).
func (e *Engine) AllFeatures(minUnique uint64) map[string]Features {
	out := map[string]Features{}
	for _, d := range e.domains {
		if d.unique >= minUnique || d.distinctAnswers >= minUnique || d.hasStrong() || d.raw > 0 {
			out[d.name] = e.features(d)
		}
	}
	for i := 0; i < e.cold.n; i++ {
		if c := e.cold.at(i); uint64(c.nSubs) >= minUnique {
			d := e.coldDomainState(c)
			out[d.name] = e.features(d)
		}
	}
	return out
}

func (d *domain) hasStrong() bool {
	for t := 1; t < numTools; t++ {
		if d.tools[t][fingerprint.Strong] > 0 {
			return true
		}
	}
	return false
}

func (e *Engine) finding(d *domain, f *Features, score float64, rules []rule, why []string, verdict string, sev Severity) Finding {
	fd := Finding{
		ID: d.id, RegisteredDomain: d.registered(), Verdict: verdict, Severity: sev, SeverityText: sev.String(),
		Score: math.Round(score*1000) / 1000, Queries: d.queries, Responses: d.responses, UniqueNames: d.unique,
		FirstSeen: time.Unix(0, d.first).UTC(), LastSeen: time.Unix(0, d.last).UTC(),
		BytesUp: uint64(f.InfoBytes), BytesDown: d.answerData + d.rawB, Files: d.files, Features: *f,
		OtherClients: uint64(f.Clients - d.clients.len()), Alerted: d.announced,
	}
	fd.Domain = d.registered()
	// Names sent straight to a server are data from end to end (Observe):
	// they have no zone below the server they are grouped by.
	if z := d.zoneOf(ToolRecognised(f) && d.zoneTool.String() == f.Tool); len(z) > 0 && !strings.HasPrefix(fd.Domain, directPrefix) {
		fd.Domain = string(z) + "." + fd.Domain
	}
	bystanders := 0
	if fd.Domain == d.registered() && d.parent == nil {
		// Clients tracked one by one that never carried the channel, and
		// those certainly left untracked while the domain was quiet (it
		// tracks a few clients only until it could be a finding, and a
		// channel's client is tracked from its next message after that).
		// Once the cap has been reached, untracked clients may carry the
		// channel, and only the tracked ones count; the sketch's estimate
		// never does.
		bystanders = d.bystanders()
		carriers := d.clients.len() - bystanders
		if d.clients.len() < e.cfg.MaxClientsPerDomain {
			bystanders += int(d.untrackedMin)
		}
		// Some client must have carried the channel, and the others
		// outnumber its clients twice over: a channel the data checks do
		// not see (numbered names serving a stager, raw packets) has no
		// carrier, and one spread over many sources has many.
		fd.SharedDomain = carriers > 0 && bystanders >= sharedBystanders && bystanders >= 2*carriers
	}
	resemble := ""
	// A tool is named only from protocol structure it alone has (strong
	// matches); resemblance is said in the evidence.
	fd.Tool = fingerprint.Unknown.String()
	if f.Tool != fingerprint.Unknown.String() && f.ToolStrong > 0 {
		fd.Tool, fd.ToolRecognised = f.Tool, ToolRecognised(f)
	} else if f.Tool != fingerprint.Unknown.String() && f.ToolWeak > 0 {
		resemble = fmt.Sprintf("names resemble %s's encoding (%s messages), but no protocol structure proves it", f.Tool, comma(uint64(f.ToolWeak)))
	}
	fd.Tools = d.toolList()
	if len(fd.Tools) == 0 && fd.Tool != fingerprint.Unknown.String() {
		fd.Tools = []string{fd.Tool}
	}
	// Evidence: the headline first, then every rule that counted.
	span := time.Duration(d.last - d.first)
	if span >= time.Second {
		span = span.Round(time.Second)
	} else {
		span = span.Round(time.Millisecond) // "over 100ms", not "over 0s"
	}
	about := ""
	if f.ClientsEstimated {
		about = "about "
	}
	fd.Evidence = append(fd.Evidence, fmt.Sprintf("%s distinct subdomains in %s lookups over %s from %s%s client(s)",
		comma(d.unique), comma(max(f.Lookups, d.unique)), span, about, comma(uint64(f.Clients))))
	if d.parent != nil {
		fd.Evidence = append(fd.Evidence, e.unitEvidence(d))
	}
	if fd.SharedDomain {
		fd.Evidence = append(fd.Evidence, fmt.Sprintf("a shared domain: %s client(s) only looked up its ordinary names; "+
			"per-packet rows list only the packets that show the channel", comma(uint64(bystanders))))
	}
	// The learned model's explanation first (what pushed the domain over
	// the line), then the facts the rules saw, as context.
	fd.Evidence = append(fd.Evidence, why...)
	for _, r := range rules {
		if r.points > 0 && r.text != "" {
			fd.Evidence = append(fd.Evidence, r.text)
		}
	}
	if resemble != "" {
		fd.Evidence = append(fd.Evidence, resemble)
	}
	if d.estimated > 0 {
		fd.Evidence = append(fd.Evidence, fmt.Sprintf("message and answer sizes of %s messages are estimated: the input (a Zeek log) does not record them", comma(d.estimated)))
	}
	for _, r := range rules {
		if r.points < 0 {
			fd.Evidence = append(fd.Evidence, "against: "+r.text)
		}
	}
	if f.MixedCaseShare >= 0.5 {
		fd.Evidence = append(fd.Evidence, fmt.Sprintf("%.0f%% of names mix upper and lower case (0x20 randomisation or a case-sensitive encoding)", 100*f.MixedCaseShare))
	}
	// Names in the channel's zone first: a benign name of the registered
	// domain that looked like data can be among the first samples.
	inZone := "." + fd.Domain
	for _, s := range d.samples {
		if strings.HasSuffix(string(s), inZone) {
			fd.Samples = append(fd.Samples, string(s))
		}
	}
	for _, s := range d.samples {
		if !strings.HasSuffix(string(s), inZone) {
			fd.Samples = append(fd.Samples, string(s))
		}
	}
	first, lookups := d.firstAlert, d.firstAlertLookups
	if p := d.parent; p != nil && p.firstAlert != 0 {
		// The domain's first tunnel alert, the unit's or its own
		// before the unit began, is the finding's.
		first, lookups = p.firstAlert, p.firstAlertLookups
	}
	if first != 0 {
		fd.FirstAlert, fd.AlertLookups = time.Unix(0, first).UTC(), lookups
	}
	if d.hist != nil {
		fd.Timeline = d.hist.timeline(d.last)
		fd.Lengths = append([]uint32(nil), d.hist.lengths[:]...)
	}
	// Clients: those that used the channel first, then by distinct names.
	users := 0
	for a, c := range d.clients.all() {
		cl := Client{Addr: a.String(), Queries: c.queries, Responses: c.responses, UniqueNames: c.unique,
			FirstSeen: time.Unix(0, c.first).UTC().Format(time.RFC3339), LastSeen: time.Unix(0, c.last).UTC().Format(time.RFC3339)}
		if raw := d.infoRaw + uint64(len(d.pending)); raw > 0 {
			cl.BytesUp = uint64(float64(c.uniqueBytes) * f.InfoBytes / float64(raw))
		}
		if t, n := topTool(c.strong[:]); n > 0 {
			cl.Tool = t.String()
		}
		var strong uint64
		for _, n := range c.strong {
			strong += uint64(n)
		}
		cl.ChannelMessages = max(c.channel, strong) // the two overlap: at least this many
		cl.UsesChannel = cl.ChannelMessages > 0
		cl.Resolver = e.isServer(a)
		if cl.UsesChannel {
			users++
		}
		if c.gaps >= 2 {
			cl.MeanGap = math.Round(c.gapMean*1000) / 1000
			if c.gapMean > 0 {
				cl.GapCV = math.Round(math.Sqrt(c.gapM2/float64(c.gaps-1))/c.gapMean*1000) / 1000
			}
		}
		fd.Clients = append(fd.Clients, cl)
	}
	if users == 0 {
		for i := range fd.Clients {
			fd.Clients[i].UsesChannel = true
		}
	} else if users < len(fd.Clients) && fd.OtherClients == 0 && !f.ClientsEstimated {
		// The headline's client count says how many used the channel.
		fd.Evidence[0] += fmt.Sprintf(", %d of them using the channel", users)
	}
	sort.Slice(fd.Clients, func(i, j int) bool {
		a, b := fd.Clients[i], fd.Clients[j]
		if a.UsesChannel != b.UsesChannel {
			return a.UsesChannel
		}
		if a.Resolver != b.Resolver {
			return b.Resolver // the hosts before the resolvers relaying them
		}
		if a.ChannelMessages != b.ChannelMessages {
			return a.ChannelMessages > b.ChannelMessages
		}
		if a.UniqueNames != b.UniqueNames {
			return a.UniqueNames > b.UniqueNames
		}
		if a.Queries != b.Queries {
			return a.Queries > b.Queries
		}
		return addrLess(a.Addr, b.Addr)
	})
	return fd
}

// toolList names the tools recognised in the domain, most matches first:
// for each client, every tool with strong matches in at least three of its
// messages (or 1% of the domain's) and at least a quarter as many as the
// client's own top tool. Encodings overlap now and then (dns2tcp's base64
// sometimes has the shape of iodine's), so a tool that only shows in the
// margin of another's traffic is not named; different clients using
// different tools in one zone are.
func (d *domain) toolList() []string {
	total := d.queries + d.responses + d.raw
	named := map[fingerprint.Tool]bool{}
	consider := func(counts []uint32) {
		_, top := topTool(counts)
		for t := 1; t < len(counts); t++ {
			n := counts[t]
			if (n >= 3 || n > 0 && uint64(n)*100 >= total) && n*4 >= top {
				named[fingerprint.Tool(t)] = true
			}
		}
	}
	for _, c := range d.clients.all() {
		consider(c.strong[:])
	}
	if d.clients.len() == 0 {
		var all [numTools]uint32
		for t := range all {
			all[t] = d.tools[t][fingerprint.Strong]
		}
		consider(all[:])
	}
	type tc struct {
		t fingerprint.Tool
		n uint32
	}
	var ts []tc
	for t := range named {
		ts = append(ts, tc{t, d.tools[t][fingerprint.Strong]})
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].n > ts[j].n || ts[i].n == ts[j].n && ts[i].t < ts[j].t })
	out := make([]string, len(ts))
	for i, x := range ts {
		out[i] = x.t.String()
	}
	return out
}

// topTool returns the tool with the most counts.
func topTool(counts []uint32) (fingerprint.Tool, uint32) {
	best, n := fingerprint.Unknown, uint32(0)
	for t := 1; t < len(counts); t++ {
		if counts[t] > n {
			best, n = fingerprint.Tool(t), counts[t]
		}
	}
	return best, n
}

func addrLess(a, b string) bool {
	x, err1 := netip.ParseAddr(a)
	y, err2 := netip.ParseAddr(b)
	if err1 != nil || err2 != nil {
		return a < b
	}
	return x.Less(y)
}

// comma writes n with thousands separators.
func comma(n uint64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// bytesText writes a byte count for people, in binary units as the
// reports do (KiB = 1024 bytes).
func bytesText(b float64) string {
	switch {
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", b/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", b/(1<<10))
	}
	return fmt.Sprintf("%.0f B", b)
}

// DomainID returns the ID the engine gave a registered domain, or 0.
func (e *Engine) DomainID(registered string) uint32 {
	if d := e.domains[registered]; d != nil {
		return d.id
	}
	if i := e.cold.findName(registered); i >= 0 {
		return e.cold.at(i).id
	}
	return 0
}
