package engine

import (
	"encoding/binary"
	"math"
	"math/bits"
	"net/netip"
)

// clientSketch estimates how many distinct client addresses a domain has
// seen (and, fed hashes with addHash, how many distinct names it expanded
// for a search list: expand.go), in one word: a HyperLogLog (Flajolet,
// Fusy, Gandouet, Meunier 2007) of sketchRegisters four-bit registers,
// with linear counting for small counts as in HyperLogLog++ (Heule,
// Nunkesser, Hall 2013). The standard error is about 1.04/sqrt(16) = 26%
// for large counts; up to a few dozen clients linear counting is far
// closer. Adding an address already added
// changes nothing, and the union of two sketches is their register-wise
// maximum, so sketches merge exactly across engines and snapshots.
//
// The hash is fixed (no seed), so that sketches written by one process
// mean the same in another. Source addresses are the sender's to choose, so
// an attacker can pick addresses that inflate or hold down the estimate;
// the clients that matter to a finding are tracked one by one besides.
type clientSketch uint64

const (
	sketchRegisters = 16
	sketchIndexBits = 4
	sketchMaxRank   = 15 // a register holds four bits
)

// hashAddr mixes an address's 16-byte form into 64 bits: the two halves
// combined and run through the finaliser of MurmurHash3.
func hashAddr(a netip.Addr) uint64 {
	b := a.As16()
	return fmix64(binary.BigEndian.Uint64(b[:8])*0x9e3779b97f4a7c15 ^ binary.BigEndian.Uint64(b[8:]))
}

// fmix64 is the finaliser of MurmurHash3: a bijection on 64 bits whose
// every output bit depends on every input bit.
func fmix64(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// add records address a. It reports whether the sketch changed, which
// proves a was not added before (the converse does not hold).
func (s *clientSketch) add(a netip.Addr) bool { return s.addHash(hashAddr(a)) }

// addHash records an item by its well-mixed 64-bit hash h (the same hash
// in every process, so that sketches merge across snapshots). It reports
// whether the sketch changed.
func (s *clientSketch) addHash(h uint64) bool {
	reg := uint(h & (sketchRegisters - 1))
	rank := uint64(min(bits.LeadingZeros64(h>>sketchIndexBits)-sketchIndexBits+1, sketchMaxRank))
	shift := 4 * reg
	if cur := uint64(*s) >> shift & 0xf; rank > cur {
		*s = clientSketch(uint64(*s)&^(0xf<<shift) | rank<<shift)
		return true
	}
	return false
}

// used returns how many registers are set: at least that many distinct
// addresses were added.
func (s clientSketch) used() int {
	n := 0
	for shift := uint(0); shift < 64; shift += 4 {
		if uint64(s)>>shift&0xf != 0 {
			n++
		}
	}
	return n
}

// union returns the sketch of the addresses added to s or to t.
func (s clientSketch) union(t clientSketch) clientSketch {
	var u uint64
	for shift := uint(0); shift < 64; shift += 4 {
		u |= max(uint64(s)>>shift&0xf, uint64(t)>>shift&0xf) << shift
	}
	return clientSketch(u)
}

// estimate returns the estimated number of distinct addresses added.
func (s clientSketch) estimate() uint64 {
	if s == 0 {
		return 0
	}
	const m = sketchRegisters
	sum, zeros := 0.0, 0
	for shift := uint(0); shift < 64; shift += 4 {
		r := uint64(s) >> shift & 0xf
		if r == 0 {
			zeros++
		}
		sum += math.Ldexp(1, -int(r))
	}
	est := 0.673 * m * m / sum // alpha_16 (Flajolet et al., figure 3)
	if est <= 2.5*m && zeros > 0 {
		est = m * math.Log(float64(m)/float64(zeros)) // linear counting
	}
	return max(uint64(math.Round(est)), 1)
}

// clientCount is a domain's number of clients: exact when every client was
// tracked one by one, otherwise the sketch's estimate of every address
// seen, and never fewer than known, the clients tracked and those
// certainly not tracked now (a client once not tracked may be tracked
// later: a compact domain's third client after its promotion, a quiet
// domain's fifth once it could become a finding). estimated reports which.
func clientCount(known int, untracked bool, all clientSketch) (n int, estimated bool) {
	if !untracked {
		return known, false
	}
	est := all.estimate()
	if est > math.MaxInt32 {
		est = math.MaxInt32
	}
	return max(known, int(est)), true
}
