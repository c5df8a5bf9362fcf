package scan

import (
	"bufio"
	"encoding/binary"
	"io"
	"os"

	"github.com/dnsieve/dnsieve/internal/checks"
)

// spoolRec is what out.csv needs of one DNS packet once the run's
// verdicts are known: its frame, its domain in the engine, and the
// per-message check result.
type spoolRec struct {
	frame   uint64
	domain  uint32
	level   checks.Level
	reasons checks.Reason
	// zone1 and zone2 hash the last one and two labels of the name's
	// subdomain (0 when it has fewer), so that a tunnel's rows can be
	// limited to the names under its zone.
	zone1, zone2 uint32
	// tool is the tool whose protocol the message showed (a strong
	// fingerprint; 0: none), so that a row of a domain used by several
	// tools names the one of its packet; with weakTool set, the tool whose
	// structure the message resembled (a weak fingerprint).
	tool uint8
}

// weakTool marks a spool record's tool as a weak match.
const weakTool = 0x80

// strongTool returns the tool the record's message showed with certainty,
// or 0.
func (r *spoolRec) strongTool() uint8 {
	if r.tool&weakTool != 0 {
		return 0
	}
	return r.tool
}

const spoolRecSize = 23

// spool keeps the records of every DNS packet of the run in order,
// spilling to a temporary file past a memory budget, so that out.csv can
// list every packet of a domain judged a tunnel, including those seen
// before the verdict, without holding the capture in memory.
//
// A spill is encoded and written by a goroutine of its own while the
// collector fills the other buffer: the collector is the scan's one
// serial stage, and the spill's encoding and system calls were about 4%
// of a one-core scan's CPU in it. A write error is returned by the next
// spill, sync or each, and by every add after it.
type spool struct {
	dir     string
	mem     []spoolRec
	spare   []spoolRec // the buffer the last spill gave back
	spillAt int
	file    *os.File
	spilled int        // records in the file or on their way there
	enc     []byte     // spillChunk records encoded, reused
	done    chan error // a spill's result
	pending bool       // a spill is in flight
	err     error      // the first write error
}

// spoolMemRecords is how many records the spool holds in memory before
// it spills them (2 MiB, twice while a spill is written): every record of
// a capture of more is on disk.
const spoolMemRecords = 1 << 16

// spillChunk is how many records a spill encodes and writes at once: a
// write per record cost more than the disk, and a buffer for a whole
// spill cost 6 MB of heap.
const spillChunk = 8192

func newSpool(dir string, spillAt int) *spool {
	return &spool{dir: dir, spillAt: spillAt}
}

// len is the number of records so far.
func (s *spool) len() int { return s.spilled + len(s.mem) }

// add appends r. After a failed write it keeps nothing more and returns
// the error: those records are lost whatever happens, and out.csv will
// fail with the error rather than list part of a tunnel's packets.
func (s *spool) add(r spoolRec) error {
	if s.err != nil {
		return s.err
	}
	s.mem = append(s.mem, r)
	if len(s.mem) >= s.spillAt {
		return s.spill()
	}
	return nil
}

// spill hands the records in memory to a goroutine that writes them to
// the file, once the spill before it is done.
func (s *spool) spill() error {
	if err := s.wait(); err != nil {
		s.mem = s.mem[:0]
		return err
	}
	if s.file == nil {
		f, err := os.CreateTemp(s.dir, ".dnsieve-spool-*")
		if err != nil {
			return err
		}
		os.Remove(f.Name()) // unlinked: gone with the process whatever happens
		s.file = f
		s.enc = make([]byte, spillChunk*spoolRecSize)
		s.done = make(chan error, 1)
	}
	recs := s.mem
	s.mem, s.spare = s.spare[:0], nil
	if s.mem == nil { // the first spill: the second buffer
		s.mem = make([]spoolRec, 0, cap(recs))
	}
	s.spilled += len(recs)
	go func() { s.done <- s.write(recs) }()
	s.pending = true
	return nil
}

// wait waits for the spill in flight, if any, and returns the first write
// error of the spool.
func (s *spool) wait() error {
	if s.pending {
		s.pending = false
		if err := <-s.done; err != nil && s.err == nil {
			s.err = err
		}
	}
	return s.err
}

// sync ends a capture's records: once the spool has spilled at all, it
// spills what memory holds and waits for the write, so that a write error
// is the capture's whose records it lost, not the next one's. A spool
// that never spilled keeps its records in memory.
func (s *spool) sync() error {
	if s.file != nil && len(s.mem) > 0 {
		if err := s.spill(); err != nil {
			return err
		}
	}
	return s.wait()
}

// write encodes recs and writes them to the file, spillChunk at a time,
// then gives the buffer back for the next spill. It runs on the spill's
// goroutine, the only one that touches the file and enc meanwhile.
func (s *spool) write(recs []spoolRec) error {
	defer func() { s.spare = recs }()
	for rest := recs; len(rest) > 0; {
		n := min(len(rest), spillChunk)
		b := s.enc[:n*spoolRecSize]
		for i, r := range rest[:n] {
			e := b[i*spoolRecSize : (i+1)*spoolRecSize]
			binary.LittleEndian.PutUint64(e[0:], r.frame)
			binary.LittleEndian.PutUint32(e[8:], r.domain)
			e[12] = byte(r.level)
			e[13] = byte(r.reasons)
			binary.LittleEndian.PutUint32(e[14:], r.zone1)
			binary.LittleEndian.PutUint32(e[18:], r.zone2)
			e[22] = r.tool
		}
		if _, err := s.file.Write(b); err != nil {
			return err
		}
		rest = rest[n:]
	}
	return nil
}

// each calls f for every record in order.
func (s *spool) each(f func(i int, r spoolRec) error) error {
	if err := s.wait(); err != nil {
		return err
	}
	if s.file != nil {
		if _, err := s.file.Seek(0, io.SeekStart); err != nil {
			return err
		}
		r := bufio.NewReaderSize(s.file, 1<<20)
		var b [spoolRecSize]byte
		for i := 0; i < s.spilled; i++ {
			if _, err := io.ReadFull(r, b[:]); err != nil {
				return err
			}
			rec := spoolRec{frame: binary.LittleEndian.Uint64(b[0:]), domain: binary.LittleEndian.Uint32(b[8:]),
				level: checks.Level(b[12]), reasons: checks.Reason(b[13]),
				zone1: binary.LittleEndian.Uint32(b[14:]), zone2: binary.LittleEndian.Uint32(b[18:]), tool: b[22]}
			if err := f(i, rec); err != nil {
				return err
			}
		}
	}
	for i, rec := range s.mem {
		if err := f(s.spilled+i, rec); err != nil {
			return err
		}
	}
	return nil
}

func (s *spool) close() {
	s.wait()
	if s.file != nil {
		s.file.Close()
	}
}

// zoneHashes returns the hashes of the last one and two labels of a
// subdomain (labels joined by '.', lowercased), 0 where it has fewer.
func zoneHashes(sub []byte) (h1, h2 uint32) {
	if len(sub) == 0 {
		return 0, 0
	}
	dots := 0
	for i := len(sub) - 1; i >= 0; i-- {
		if sub[i] == '.' {
			dots++
			switch dots {
			case 1:
				h1 = fnv32(sub[i+1:])
			case 2:
				return h1, fnv32(sub[i+1:])
			}
		}
	}
	if dots == 0 {
		return fnv32(sub), 0
	}
	return h1, fnv32(sub)
}

// fnv32 is FNV-1a (32 bit), never 0.
func fnv32(b []byte) uint32 {
	h := uint32(2166136261)
	for _, c := range b {
		h ^= uint32(c)
		h *= 16777619
	}
	if h == 0 {
		h = 1
	}
	return h
}

// underZone reports whether a record's name lies under zone, the labels of
// a finding's tunnel zone below its registered domain ("t1", "a.t1"; "":
// the whole registered domain). Zones deeper than two labels are compared
// on their last two.
func underZone(r spoolRec, zone string) bool {
	if zone == "" || r.zone1 == 0 && r.zone2 == 0 {
		return true
	}
	h1, h2 := zoneHashes([]byte(zone))
	if h2 == 0 {
		return r.zone1 == h1
	}
	return r.zone2 == h2
}
