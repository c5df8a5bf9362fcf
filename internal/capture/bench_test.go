package capture

import (
	"bufio"
	"bytes"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/dnsieve/dnsieve/internal/allocs"
)

const benchFrames = 100_000

var (
	benchOnce   sync.Once
	benchPCAP   []byte
	benchPCAPNG []byte
)

// benchCaptures builds ~100k realistic DNS frames as pcap and as pcapng.
func benchCaptures(tb testing.TB) ([]byte, []byte) {
	benchOnce.Do(func() {
		frames := make([][]byte, 512)
		for i := range frames {
			frames[i] = dnsFrame(tb, i)
		}
		var pbuf, nbuf bytes.Buffer
		pw := pcapgo.NewWriterNanos(&pbuf)
		if err := pw.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
			tb.Fatal(err)
		}
		nw, err := pcapgo.NewNgWriter(&nbuf, layers.LinkTypeEthernet)
		if err != nil {
			tb.Fatal(err)
		}
		base := time.Unix(1_700_000_000, 0)
		for i := 0; i < benchFrames; i++ {
			d := frames[i%len(frames)]
			ci := gopacket.CaptureInfo{Timestamp: base.Add(time.Duration(i) * time.Microsecond), CaptureLength: len(d), Length: len(d)}
			if err := pw.WritePacket(ci, d); err != nil {
				tb.Fatal(err)
			}
			if err := nw.WritePacket(ci, d); err != nil {
				tb.Fatal(err)
			}
		}
		if err := nw.Flush(); err != nil {
			tb.Fatal(err)
		}
		benchPCAP, benchPCAPNG = pbuf.Bytes(), nbuf.Bytes()
	})
	return benchPCAP, benchPCAPNG
}

func benchRead(b *testing.B, data []byte) {
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	var rec Record
	var sum int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := NewReader(bytes.NewReader(data), "bench")
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			err := r.Next(&rec)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			sum += len(rec.Data)
			n++
		}
		if n != benchFrames {
			b.Fatalf("read %d frames", n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchFrames), "ns/packet")
	_ = sum
}

// BenchmarkReadPCAP reads 100k DNS frames from an in-memory pcap.
func BenchmarkReadPCAP(b *testing.B) {
	p, _ := benchCaptures(b)
	benchRead(b, p)
}

// BenchmarkReadPCAPNG reads 100k DNS frames from an in-memory pcapng.
func BenchmarkReadPCAPNG(b *testing.B) {
	_, n := benchCaptures(b)
	benchRead(b, n)
}

// BenchmarkReadPCAPGzip includes gzip decompression.
func BenchmarkReadPCAPGzip(b *testing.B) {
	p, _ := benchCaptures(b)
	benchRead(b, gzipBytes(b, p))
}

// BenchmarkReadPCAPZstd includes zstd decompression.
func BenchmarkReadPCAPZstd(b *testing.B) {
	p, _ := benchCaptures(b)
	benchRead(b, zstdBytes(b, p))
}

// BenchmarkPcapgoBaseline is pcapgo's zero-copy reader over a 1 MiB
// bufio.Reader, the alternative this package's hand-written reader replaced.
func BenchmarkPcapgoBaseline(b *testing.B) {
	data, _ := benchCaptures(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		pr, err := pcapgo.NewReader(bufio.NewReaderSize(bytes.NewReader(data), 1<<20))
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			_, _, err := pr.ZeroCopyReadPacketData()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != benchFrames {
			b.Fatalf("read %d frames", n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchFrames), "ns/packet")
}

// TestNextAllocs asserts zero heap allocations per record in steady state.
// testing.AllocsPerRun rounds down, so the exact malloc count over many
// records is checked too. Decompressors allocate now and then (Huffman
// tables for some deflate blocks, about one per 100 DNS records): for them
// the bound is one allocation per 50 records.
func TestNextAllocs(t *testing.T) {
	p, n := benchCaptures(t)
	for _, tc := range []struct {
		name string
		data []byte
		max  uint64 // mallocs allowed over 20000 records
	}{{"pcap", p, 0}, {"pcapng", n, 0}, {"pcap.gz", gzipBytes(t, p), 400}, {"pcapng.zst", zstdBytes(t, n), 400}} {
		r, err := NewReader(bytes.NewReader(tc.data), tc.name)
		if err != nil {
			t.Fatal(err)
		}
		var rec Record
		for i := 0; i < 100; i++ { // warm up
			if err := r.Next(&rec); err != nil {
				t.Fatal(err)
			}
		}
		if tc.max == 0 {
			allocs := testing.AllocsPerRun(10000, func() {
				if err := r.Next(&rec); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("%s: %v allocations per record, want 0", tc.name, allocs)
			}
		}
		// The fewest of three rounds of 20000 records: another
		// goroutine's allocation lands in one round, the reader's in
		// every round.
		fewest := allocs.Fewest(3, func() {
			for i := 0; i < 20000; i++ {
				if err := r.Next(&rec); err != nil {
					t.Fatal(err)
				}
			}
		})
		if fewest > tc.max {
			t.Errorf("%s: %d mallocs over 20000 records (the fewest of 3 rounds), want <= %d", tc.name, fewest, tc.max)
		}
		r.Close()
	}
}
