package zeek

import (
	"bytes"
	"io"
	"testing"

	"github.com/dnsieve/dnsieve/internal/engine"
)

// benchLog returns a log of n lines in a format.
func benchLog(format string, n int) []byte {
	var b bytes.Buffer
	infos := manyInfos(n)
	if format == "tsv" {
		writeTSV(&b, infos, base)
	} else {
		writeJSON(&b, infos, false)
	}
	return b.Bytes()
}

func benchRead(b *testing.B, format string, convert bool) {
	data := benchLog(format, 20000)
	c := NewConverter()
	var rec Record
	var q, r engine.Observation
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	lines := 0
	for i := 0; i < b.N; i++ {
		rd, err := NewReader(bytes.NewReader(data), format)
		if err != nil {
			b.Fatal(err)
		}
		for {
			err := rd.Next(&rec)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if convert {
				c.Observations(&rec, &q, &r)
			}
			lines++
		}
	}
	b.ReportMetric(float64(lines)/b.Elapsed().Seconds(), "lines/s")
}

func BenchmarkReadTSV(b *testing.B)         { benchRead(b, "tsv", false) }
func BenchmarkReadJSON(b *testing.B)        { benchRead(b, "json", false) }
func BenchmarkReadConvertTSV(b *testing.B)  { benchRead(b, "tsv", true) }
func BenchmarkReadConvertJSON(b *testing.B) { benchRead(b, "json", true) }

func BenchmarkConverter(b *testing.B) {
	rec := Record{Query: []byte("200001beef006400c8636f6d6d616e64.biillpi.com"), QType: 16, RCodeSet: true,
		Answers: []string{"TXT 18 300001beef00c80065"}, TTLs: []float64{1}}
	c := NewConverter()
	var q, r engine.Observation
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c.Observations(&rec, &q, &r)
	}
}
