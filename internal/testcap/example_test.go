package testcap_test

import (
	"bytes"
	"fmt"
	"net/netip"
	"time"

	"github.com/dnsieve/dnsieve/internal/testcap"
)

// A query and its response over Ethernet and Linux SLL2, written as one
// pcapng with two interfaces.
func Example() {
	client := netip.MustParseAddrPort("192.168.1.10:51000")
	server := netip.MustParseAddrPort("192.0.2.53:53")
	q := testcap.Query(0x1234, "www.example.com", testcap.TypeA)
	r := testcap.Response(0x1234, "www.example.com", testcap.TypeA, testcap.RcodeSuccess,
		testcap.AnswerAddr(netip.MustParseAddr("198.51.100.7")))
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	frames := []testcap.Frame{
		{Time: start, Link: testcap.Ethernet, Data: testcap.UDP(testcap.Ethernet, client, server, q)},
		{Time: start.Add(time.Millisecond), Link: testcap.LinuxSLL2, Data: testcap.UDP(testcap.LinuxSLL2, server, client, r)},
	}
	var buf bytes.Buffer
	if err := testcap.WritePCAPNG(&buf, frames); err != nil {
		panic(err)
	}
	fmt.Println(len(q), len(r), len(frames[0].Data), len(frames[1].Data), testcap.PCAPNGLinks(frames))
	// Output: 33 49 75 97 [ethernet linux-sll2]
}

// A name with a dot and a NUL byte inside its labels, which dotted text
// cannot express, in a hand-encoded query.
func ExampleRawName() {
	name := testcap.RawName([]byte("a.b"), []byte{0}, []byte("example"))
	fmt.Printf("% x\n", name)
	msg := testcap.RawQuery(1, name, testcap.TypeTXT)
	fmt.Println(len(msg))
	// Output:
	// 03 61 2e 62 01 00 07 65 78 61 6d 70 6c 65 00
	// 31
}
