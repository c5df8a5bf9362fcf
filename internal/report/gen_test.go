package report

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/dnsieve/dnsieve/internal/engine"
	"github.com/dnsieve/dnsieve/internal/output"
)

// testStart is the packet time of generated runs.
var testStart = time.Date(2024, 3, 5, 10, 0, 0, 0, time.UTC)

// genFinding builds a plausible tunnel finding (deterministic for a
// seed): i picks the tool, severity and size.
func genFinding(i int, clients int) engine.Finding {
	r := rand.New(rand.NewPCG(uint64(i), 7))
	tools := []string{"iodine", "dnscat2", "dns2tcp", "unknown"}
	tool := tools[i%len(tools)]
	sev := []engine.Severity{engine.SeverityHigh, engine.SeverityMedium, engine.SeverityLow}[i%3]
	verdict := "tunnel"
	if sev == engine.SeverityLow {
		verdict = "suspicious"
	}
	reg := fmt.Sprintf("tunnel%d.example.net", i)
	f := engine.Finding{
		ID: uint32(i + 1), Domain: "t." + reg, RegisteredDomain: reg, Verdict: verdict, Severity: sev,
		SeverityText: sev.String(), Score: float64(14 - i%9), Tool: tool, ToolRecognised: tool != "unknown",
		FirstSeen: testStart.Add(time.Duration(i) * time.Minute),
		Queries:   uint64(2000 + r.IntN(5000)), UniqueNames: uint64(1500 + r.IntN(2000)),
		BytesUp: uint64(20000 + r.IntN(200000)), BytesDown: uint64(r.IntN(900000)),
		Pcaps: []string{fmt.Sprintf("capture-%02d.pcapng", i%4)},
		Evidence: []string{
			"2,903 distinct subdomains in 5814 lookups over 9m46s from 2 client(s)",
			tool + " protocol recognised in 11,620 messages",
			"29.6 KB of information in distinct names (compressed)",
			"subdomains look like encoded data (-8.2 bits/char against ordinary host names)",
			"100% of queries ask for NULL, KEY, private-use or obsolete records",
			"against: most names are reversed IP addresses (DNSBL or reverse lookups)",
		},
	}
	if tool != "unknown" {
		f.Tools = []string{tool}
	}
	if i%5 == 1 {
		f.Tools = append(f.Tools, "dnscat2")
	}
	f.Responses = f.Queries - uint64(r.IntN(10))
	width := 8 * time.Second
	for b := 0; b < 96; b++ {
		q := uint32(20 + r.IntN(40))
		if b%23 < 4 {
			q += uint32(150 + r.IntN(100))
		}
		f.Timeline = append(f.Timeline, engine.Bucket{Start: f.FirstSeen.Add(time.Duration(b) * width), Queries: q, Bytes: q * uint32(20+r.IntN(30))})
	}
	f.LastSeen = f.FirstSeen.Add(96*width - time.Second)
	f.Lengths = make([]uint32, 16)
	for k := 0; k < 300; k++ {
		f.Lengths[min(15, int(r.NormFloat64()*10+50)/16)]++
	}
	for c := 0; c < clients; c++ {
		f.Clients = append(f.Clients, engine.Client{
			Addr: fmt.Sprintf("10.%d.%d.%d", i%250, c/250, c%250+1), Queries: uint64(1000 - c), Responses: uint64(990 - c),
			UniqueNames: uint64(900 - c), BytesUp: uint64(15000 - c), Tool: tool,
			FirstSeen: f.FirstSeen.Format(time.RFC3339), LastSeen: f.LastSeen.Format(time.RFC3339),
			MeanGap: 0.25, GapCV: 0.4,
			// The second client only looked up other names of the domain.
			UsesChannel: c != 1, ChannelMessages: uint64(max(0, 900-c) * min(1, abs(c-1))),
		})
	}
	for k := 0; k < 5; k++ {
		f.Samples = append(f.Samples, fmt.Sprintf("%x%x.%s", r.Uint64(), r.Uint64(), f.Domain))
	}
	f.Features = engine.Features{Lookups: f.Queries, Queries: f.Queries, Responses: f.Responses, Unique: f.UniqueNames,
		UniqueRatio: 0.62, DataNames: f.UniqueNames - 3, DigestNames: 2, InfoBytes: float64(f.BytesUp), InfoPerName: 14.2,
		PeakDayInfo: float64(f.BytesUp), MeanSubLen: 48.5, SubLenStddev: 9.1, MaxLabel: 63, NgramBits: -7.9,
		RareTypeShare: 0.98, AnswerBytes: 180, FlaggedShare: 0.4, Clients: clients, Seconds: 767,
		PeakWinQueries: f.Queries, PeakWinUnique: f.UniqueNames, Tool: tool, ToolStrong: 1200}
	return f
}

// genInput builds a run with n findings.
func genInput(n int) *Input {
	in := &Input{
		Version: "v1.2.3-test", Generated: time.Date(2024, 3, 6, 8, 30, 0, 0, time.UTC), OutputDir: "out",
		Config: [][2]string{{"output_dir", "out"}, {"max_entropy", "4.5"}, {"ports", "53"}},
		Totals: output.Totals{TotalPackets: 1234567, TotalMaliciousPackets: 4321, TotalTime: 2.5, PacketsPerSecond: 493826.8,
			TotalDNSMessages: 1200000, FilesScanned: 4, FilesFailed: 1, Version: "v1.2.3-test"},
		LengthBackground: []uint64{50000, 90000, 30000, 8000, 3000, 1200, 300, 100, 50, 20, 10, 5, 2, 1, 0, 0},
	}
	for k := 0; k < 4; k++ {
		st := &output.FileStats{PacketsCount: 300000 + uint64(k), Path: fmt.Sprintf("/data/capture-%02d.pcapng", k), Format: "pcapng",
			Bytes: 80 << 20, DNSMessages: 290000, Complete: k != 3}
		if k == 3 {
			st.Compression = "zstd"
			st.Errors = []string{"/data/capture-03.pcapng: byte offset 123456: truncated packet record"}
		}
		in.Captures = append(in.Captures, output.NamedStats{Name: fmt.Sprintf("capture-%02d.pcapng", k), Stats: st})
	}
	for i := 0; i < n; i++ {
		in.Findings = append(in.Findings, genFinding(i, 1+i%3))
	}
	for k := 0; k < 20; k++ {
		in.TopByQueries = append(in.TopByQueries, engine.Volume{Domain: fmt.Sprintf("busy%d.example.com", k), Queries: uint64(100000 - k*1000), Responses: uint64(99000 - k*1000), UniqueNames: uint64(40 + k), Clients: 30})
		in.TopByUnique = append(in.TopByUnique, engine.Volume{Domain: fmt.Sprintf("wide%d.example.org", k), Queries: uint64(9000 - k*100), Responses: uint64(9000 - k*100), UniqueNames: uint64(5000 - k*100), Clients: 2})
	}
	return in
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
