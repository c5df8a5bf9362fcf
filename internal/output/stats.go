package output

import (
	"bytes"
	"encoding/json"
)

// FileStats is one capture's entry in stats.json. The first two fields are
// the old tool's; the rest are dnsieve's.
type FileStats struct {
	// PacketsCount is the number of frames read from the file.
	PacketsCount uint64 `json:"packets_count"`
	// MaliciousPacketsCount is the number of rows the file has in out.csv.
	MaliciousPacketsCount uint64 `json:"malicious_packets_count"`

	Path        string `json:"path"`
	Format      string `json:"format"`
	Compression string `json:"compression,omitempty"`
	Bytes       int64  `json:"bytes"`
	// DNSMessages counts DNS messages decoded (over UDP and TCP); Queries
	// and Responses split them by the QR bit.
	DNSMessages  uint64 `json:"dns_messages"`
	Queries      uint64 `json:"queries"`
	Responses    uint64 `json:"responses"`
	TCPMessages  uint64 `json:"tcp_messages"`
	Allowlisted  uint64 `json:"allowlisted"`
	FlaggedNames uint64 `json:"flagged_names"`
	// Malformed counts frames on a DNS port that could not be decoded (a
	// truncated header, a payload that is not a DNS message).
	Malformed uint64 `json:"malformed"`
	// Skipped counts frames that are not DNS: other link or network
	// protocols, other transports, other ports.
	Skipped uint64 `json:"skipped"`
	// Fragments counts IP fragments; Reassembled the datagrams they
	// completed (each analysed once, at the frame that completed it).
	Fragments   uint64 `json:"fragments"`
	Reassembled uint64 `json:"reassembled_datagrams"`
	// IPReassembly holds the reassembler's counters.
	IPReassembly map[string]uint64 `json:"ip_reassembly,omitempty"`
	// ICMPQuoted counts ICMP errors quoting a DNS datagram (a refused
	// query); the quoted message is checked and reported like the original.
	ICMPQuoted uint64 `json:"icmp_quoted_dns"`
	// Unwrapped counts frames whose packet was taken out of an
	// encapsulation (VXLAN, Geneve, GRE and ERSPAN, IP-in-IP): mirrored or
	// overlay traffic, analysed as the packet inside.
	Unwrapped uint64 `json:"unwrapped,omitempty"`
	// LinkTypes counts frames per link type name.
	LinkTypes map[string]uint64 `json:"link_types,omitempty"`
	// TCP reassembly counters.
	TCPStreams map[string]uint64 `json:"tcp_reassembly,omitempty"`
	// Errors lists problems reading the file (file, byte offset, reason).
	Errors      []string `json:"errors"`
	TimeSeconds float64  `json:"time_seconds"`
	// Complete is true when the file was read to its end without error.
	Complete bool `json:"complete"`
}

// NamedStats pairs a file's key in stats.json with its statistics.
type NamedStats struct {
	Name  string
	Stats *FileStats
}

// Totals are the run-wide keys of stats.json: the old tool's four and
// dnsieve's additions.
type Totals struct {
	TotalPackets          uint64  `json:"total_packets"`
	TotalMaliciousPackets uint64  `json:"total_malicious_packets"`
	TotalTime             float64 `json:"total_time"`
	PacketsPerSecond      float64 `json:"packets_per_second"`
	TotalDNSMessages      uint64  `json:"total_dns_messages"`
	TotalQueries          uint64  `json:"total_queries"`
	TotalResponses        uint64  `json:"total_responses"`
	TotalMalformed        uint64  `json:"total_malformed"`
	TotalSkipped          uint64  `json:"total_skipped"`
	TotalFragments        uint64  `json:"total_fragments"`
	TotalErrors           uint64  `json:"total_errors"`
	FilesScanned          int     `json:"files_scanned"`
	FilesFailed           int     `json:"files_failed"`
	FilesSkipped          int     `json:"files_skipped"`
	// InputErrors are the inputs that could not be read at all (a
	// missing path, a directory that cannot be listed): they have no
	// per-file entry. They count in TotalErrors and FilesFailed.
	InputErrors []string `json:"input_errors,omitempty"`
	// Findings counts the engine's findings by severity.
	Findings map[string]int `json:"findings"`
	// Engine holds the behavioural engine's counters (domains, memory,
	// evictions).
	Engine  any    `json:"engine"`
	Version string `json:"dnsieve_version"`
}

// MarshalStats renders stats.json as the old tool laid it out: one key per
// capture (in scan order) holding its statistics, followed by the run-wide
// totals at the top level.
func MarshalStats(files []NamedStats, t Totals) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("{\n")
	for _, f := range files {
		k, err := json.Marshal(f.Name)
		if err != nil {
			return nil, err
		}
		v, err := json.MarshalIndent(f.Stats, "  ", "  ")
		if err != nil {
			return nil, err
		}
		b.WriteString("  ")
		b.Write(k)
		b.WriteString(": ")
		b.Write(v)
		b.WriteString(",\n")
	}
	tot, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return nil, err
	}
	// Splice the totals object's members into the top-level object.
	tot = bytes.TrimPrefix(tot, []byte("{\n"))
	b.Write(tot)
	b.WriteByte('\n')
	return b.Bytes(), nil
}
