package zeek

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dnsieve/dnsieve/internal/analyze"
	"github.com/dnsieve/dnsieve/internal/capture"
	"github.com/dnsieve/dnsieve/internal/checks"
	"github.com/dnsieve/dnsieve/internal/engine"
	"github.com/dnsieve/dnsieve/internal/fingerprint"
)

// TestCorpus runs real captures (the project's testdata/corpus, and the
// shared corpus when present)
// through the Zeek-like logger, both log formats, the reader and the
// converter, and compares each query with the packet path: name, type and
// registered domain must agree on every query; the fingerprint's tool
// differs only where Zeek's lower-casing changes what a case-sensitive
// encoding decodes to (reported, not asserted).
func TestCorpus(t *testing.T) {
	// The project's own recorded corpus (always here), then the shared
	// development corpus when it is.
	var paths []string
	for _, f := range []string{"sample.pcap", "benign.pcap", "iodine-txt.pcap", "iodine-cname-base32.pcap", "dns2tcp-key.pcap"} {
		paths = append(paths, filepath.Join("..", "..", "testdata", "corpus", f))
	}
	const root = "/work/shared/corpus"
	for _, f := range []string{"dmachard/iodine.pcap", "dmachard/dnscat2.pcap", "dmachard/dns2tcp.pcap", "dmachard/dnsextrator.pcap",
		"chrissanders/dns_lab.pcapng", "ndpi/dns_exfiltration.pcap", "cyber-experts/ch21.pcap"} {
		paths = append(paths, filepath.Join(root, f))
	}
	for _, path := range paths {
		if _, err := os.Stat(path); err != nil {
			continue
		}
		f := filepath.Base(path)
		cfg := checks.Default()
		a := analyze.New(analyze.Config{Checks: &cfg, Ports: analyze.NewPortSet([]uint16{53})})
		rd, err := capture.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		z := newZeekLog()
		want := map[string]engine.Observation{}
		dup := map[string]bool{}
		var rec capture.Record
		for {
			if err := rd.Next(&rec); err == io.EOF {
				break
			} else if err != nil {
				break
			}
			if a.Frame(rec.LinkType, rec.Data) != analyze.UDPDNS {
				continue
			}
			p := a.Packet()
			var obs engine.Observation
			var c analyze.Counts
			var allowed bool
			if _, ok := a.Message(p.Payload, &c, &obs, &allowed); !ok || obs.Response || obs.Name == nil {
				if ok && obs.Response {
					z.message(time.Unix(0, rec.Time).UTC(), netip.AddrPortFrom(p.Src, p.SrcPort), netip.AddrPortFrom(p.Dst, p.DstPort), p.Payload)
				}
				continue
			}
			if err := z.message(time.Unix(0, rec.Time).UTC(), netip.AddrPortFrom(p.Src, p.SrcPort), netip.AddrPortFrom(p.Dst, p.DstPort), p.Payload); err != nil {
				continue // dnsmessage refuses it; Zeek's view would differ anyway
			}
			obs.Name, obs.Labels = bytes.Clone(obs.Name), bytes.Clone(obs.Labels)
			obs.Client, obs.Server = a.Endpoints(p, false)
			k := key(netip.AddrPortFrom(p.Src, p.SrcPort), netip.AddrPortFrom(p.Dst, p.DstPort), binary.BigEndian.Uint16(p.Payload), false)
			if _, ok := want[k]; ok {
				dup[k] = true
			}
			want[k] = obs
		}
		rd.Close()
		infos := z.finish()
		var tsv, js bytes.Buffer
		writeTSV(&tsv, infos, base)
		writeJSON(&js, infos, false)
		for _, data := range [][]byte{tsv.Bytes(), js.Bytes()} {
			recs := readAll(t, data, f)
			if len(recs) != len(infos) {
				t.Fatalf("%s: %d records, %d written", f, len(recs), len(infos))
			}
			c := NewConverter()
			compared, toolDiff, commands := 0, 0, 0
			for _, r := range recs {
				var q, resp engine.Observation
				c.Observations(&r, &q, &resp)
				k := key(r.Client, r.Server, r.TransID, false)
				w, ok := want[k]
				if !ok || dup[k] {
					continue
				}
				compared++
				if !bytes.Equal(q.Name, w.Name) || q.QType != w.QType || q.RegStart != w.RegStart || q.Client != w.Client {
					t.Errorf("%s:%d: %q/%d/%d, packets %q/%d/%d", f, r.Line, q.Name, q.QType, q.RegStart, w.Name, w.QType, w.RegStart)
				}
				if q.Match.Tool != w.Match.Tool {
					toolDiff++
				}
				// dns2tcp's command labels ("=auth"...) survive the
				// lower-casing and still name the tool.
				if w.Match.Tool == fingerprint.Dns2tcp && w.Match.Evidence == fingerprint.EvDns2tcpCommand {
					commands++
					if q.Match.Tool != fingerprint.Dns2tcp || q.Match.Strength != fingerprint.Strong || q.Match.Evidence != fingerprint.EvDns2tcpCommand {
						t.Errorf("%s:%d: dns2tcp command %q: %+v", f, r.Line, q.Name, q.Match)
					}
				}
			}
			if strings.HasPrefix(f, "dns2tcp") && commands == 0 {
				t.Errorf("%s: no dns2tcp command compared", f)
			}
			t.Logf("%-32s %5d records, %5d queries compared, tool differs on %d", f, len(recs), compared, toolDiff)
			// dns2tcp's base64 is case-sensitive: lower-cased by Zeek its
			// data no longer decodes to a dns2tcp header.
			if toolDiff > 0 && !strings.HasPrefix(f, "dns2tcp") {
				t.Errorf("%s: tool differs on %d queries", f, toolDiff)
			}
			if compared == 0 {
				t.Errorf("%s: nothing compared", f)
			}
		}
	}
}
