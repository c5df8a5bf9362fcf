//go:build linux

package afpacket

import (
	"encoding/binary"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/dnsieve/dnsieve/internal/capture"
)

// putPkt writes a tpacket3_hdr at off in blk with the data at off+mac.
func putPkt(blk []byte, off, next, mac int, data []byte, sec, nsec uint32) {
	h := blk[off:]
	binary.NativeEndian.PutUint32(h[pktNextOff:], uint32(next))
	binary.NativeEndian.PutUint32(h[pktSecOff:], sec)
	binary.NativeEndian.PutUint32(h[pktNsecOff:], nsec)
	binary.NativeEndian.PutUint32(h[pktSnaplenOff:], uint32(len(data)))
	binary.NativeEndian.PutUint32(h[pktLenOff:], uint32(len(data)+100))
	binary.NativeEndian.PutUint16(h[pktMacOff:], uint16(mac))
	copy(h[mac:], data)
}

func putBlock(blk []byte, status, n, first uint32) {
	binary.NativeEndian.PutUint32(blk[blkStatusOff:], status)
	binary.NativeEndian.PutUint32(blk[blkNumPktsOff:], n)
	binary.NativeEndian.PutUint32(blk[blkFirstPktOff:], first)
}

// TestRingWalk walks a hand-made two-block ring the way the kernel lays it
// out, and checks that blocks go back to the kernel only after their last
// frame was superseded by the next call.
func TestRingWalk(t *testing.T) {
	k := sock{ring: make([]byte, 2*1024), blockSize: 1024, numBlocks: 2, link: LinkTypeEthernet}
	b0, b1 := k.block(0), k.block(1)
	putBlock(b0, unix.TP_STATUS_USER, 2, 48)
	putPkt(b0, 48, 112, 66, []byte("first"), 10, 1)
	putPkt(b0, 160, 0, 66, []byte("second"), 10, 2)
	putBlock(b1, unix.TP_STATUS_USER, 1, 48)
	putPkt(b1, 48, 0, 80, []byte("third"), 11, 0)
	status := func(i int) uint32 { return *(*uint32)(unsafe.Pointer(&k.ring[i*1024+blkStatusOff])) }
	var rec capture.Record
	want := []struct {
		data string
		time int64
	}{{"first", 10e9 + 1}, {"second", 10e9 + 2}, {"third", 11e9}}
	for i, w := range want {
		if !k.ready() {
			t.Fatalf("frame %d not ready", i)
		}
		k.take(&rec)
		if string(rec.Data) != w.data || rec.Time != w.time || rec.OrigLen != len(w.data)+100 || rec.LinkType != LinkTypeEthernet {
			t.Fatalf("frame %d: %q at %d len %d", i, rec.Data, rec.Time, rec.OrigLen)
		}
		if i == 1 && status(0) != unix.TP_STATUS_USER {
			t.Fatal("block 0 returned while its last frame is in use")
		}
		if i == 2 && status(0) != unix.TP_STATUS_KERNEL {
			t.Fatal("block 0 not returned")
		}
	}
	if k.ready() {
		t.Fatal("a fourth frame")
	}
	if status(1) != unix.TP_STATUS_KERNEL || k.blk != 0 {
		t.Fatalf("block 1 status %d, next block %d", status(1), k.blk)
	}
}

// FuzzRing feeds arbitrary block contents to the ring walker: it must not
// panic, must return only bytes inside the block, and must end.
func FuzzRing(f *testing.F) {
	seed := make([]byte, 512)
	putBlock(seed, unix.TP_STATUS_USER, 2, 48)
	putPkt(seed, 48, 112, 66, []byte("first"), 10, 1)
	putPkt(seed, 160, 0, 66, []byte("second"), 10, 2)
	f.Add(seed)
	f.Add(make([]byte, 512))
	f.Fuzz(func(t *testing.T, data []byte) {
		const bs = 512
		k := sock{ring: make([]byte, 2*bs), blockSize: bs, numBlocks: 2}
		copy(k.ring, data)
		for i := range 2 {
			binary.NativeEndian.PutUint32(k.ring[i*bs+blkStatusOff:], unix.TP_STATUS_USER)
		}
		var rec capture.Record
		n := 0
		for k.ready() {
			k.take(&rec)
			n++
			if n > 2*bs {
				t.Fatal("too many frames")
			}
			start := uintptr(unsafe.Pointer(unsafe.SliceData(k.ring)))
			if len(rec.Data) > 0 {
				p := uintptr(unsafe.Pointer(&rec.Data[0]))
				blk := uintptr(k.blk * bs)
				if p < start+blk+pktHdrLen || p+uintptr(len(rec.Data)) > start+blk+bs {
					t.Fatalf("data outside its block")
				}
			}
		}
	})
}

// BenchmarkRingWalk measures the user-space cost per frame of walking a
// ring (no system call): blocks of 64 frames of 100 bytes.
func BenchmarkRingWalk(b *testing.B) {
	const bs, per = 16384, 64
	k := sock{ring: make([]byte, 2*bs), blockSize: bs, numBlocks: 2, link: LinkTypeEthernet}
	data := make([]byte, 100)
	for i := range 2 {
		blk := k.block(i)
		putBlock(blk, unix.TP_STATUS_USER, per, 48)
		for j := range per {
			putPkt(blk, 48+j*176, 176, 66, data, 1, uint32(j))
		}
	}
	var rec capture.Record
	b.ReportAllocs()
	for b.Loop() {
		if !k.ready() {
			// Play the kernel: hand both blocks back to user space.
			for i := range 2 {
				binary.NativeEndian.PutUint32(k.block(i)[blkStatusOff:], unix.TP_STATUS_USER)
			}
			k.ready()
		}
		k.take(&rec)
	}
}
