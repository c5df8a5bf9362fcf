package variants

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Kind is one evasion transformation.
type Kind string

// The variant kinds.
const (
	// Fragmented sends large UDP DNS datagrams as shuffled IP fragments.
	Fragmented Kind = "fragmented"
	// Case randomises the letter case of query names (DNS 0x20).
	Case Kind = "case"
	// TCPSplit carries the UDP DNS exchanges over TCP in tiny segments,
	// some out of order, some retransmitted.
	TCPSplit Kind = "tcp-split"
	// OffPort moves DNS from its port to 5353 or a random high port.
	OffPort Kind = "off-port"
	// Slow stretches the timeline (x60 by default).
	Slow Kind = "slow"
	// Spread spreads the clients over many addresses of their /16.
	Spread Kind = "spread"
	// Encapsulated wraps every IP frame as traffic mirrored from an
	// overlay or a switch arrives: VXLAN, Geneve, GRE with ERSPAN,
	// IP-in-IP.
	Encapsulated Kind = "encapsulated"
)

// Kinds lists every kind, in the order variants are written.
var Kinds = []Kind{Fragmented, Case, TCPSplit, OffPort, Slow, Spread, Encapsulated}

// ParseKinds parses a comma-separated list of kinds ("" or "all": every kind).
func ParseKinds(s string) ([]Kind, error) {
	if s == "" || s == "all" {
		return append([]Kind(nil), Kinds...), nil
	}
	var out []Kind
	seen := map[Kind]bool{}
	for _, f := range strings.Split(s, ",") {
		k := Kind(strings.TrimSpace(f))
		known := false
		for _, kk := range Kinds {
			known = known || k == kk
		}
		if !known {
			return nil, fmt.Errorf("unknown variant kind %q (known: %s)", k, joinKinds(Kinds))
		}
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out, nil
}

func joinKinds(ks []Kind) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = string(k)
	}
	return strings.Join(s, ",")
}

// Options tune the transformations. Zero fields take the defaults of
// DefaultOptions.
type Options struct {
	// Seed makes the output deterministic: the same seed, options and
	// input give byte-identical variants.
	Seed uint64
	// Ports are the DNS ports (default 53).
	Ports []uint16
	// FragMin: UDP DNS payloads longer than this are fragmented (200).
	FragMin int
	// FragSizeMin, FragSizeMax bound the bytes of IP payload per fragment
	// (128, 256); rounded down to multiples of 8.
	FragSizeMin, FragSizeMax int
	// SegMin, SegMax bound the bytes per TCP segment (1, 20).
	SegMin, SegMax int
	// Reorder is the probability that a TCP segment is sent after its
	// successor (0.1); Retransmit that a segment is sent again after the
	// next one (0.05). A negative value means never.
	Reorder, Retransmit float64
	// TCPIdle (nanoseconds) closes a tcp-split connection idle for longer
	// (30 s); negative: connections stay open.
	TCPIdle int64
	// SlowFactor multiplies time deltas (60).
	SlowFactor int64
	// Clients is the number of client addresses per /16 (50).
	Clients int
}

// DefaultOptions are the options used for zero fields.
var DefaultOptions = Options{
	Seed:        1,
	Ports:       []uint16{53},
	FragMin:     200,
	FragSizeMin: 128,
	FragSizeMax: 256,
	SegMin:      1,
	SegMax:      20,
	Reorder:     0.1,
	Retransmit:  0.05,
	TCPIdle:     30e9,
	SlowFactor:  60,
	Clients:     50,
}

func (o Options) withDefaults() Options {
	d := DefaultOptions
	if len(o.Ports) == 0 {
		o.Ports = d.Ports
	}
	if o.FragMin <= 0 {
		o.FragMin = d.FragMin
	}
	if o.FragSizeMin <= 0 {
		o.FragSizeMin = d.FragSizeMin
	}
	if o.FragSizeMax <= 0 {
		o.FragSizeMax = d.FragSizeMax
	}
	if o.FragSizeMax < o.FragSizeMin {
		o.FragSizeMax = o.FragSizeMin
	}
	if o.SegMin <= 0 {
		o.SegMin = d.SegMin
	}
	if o.SegMax <= 0 {
		o.SegMax = d.SegMax
	}
	if o.SegMax < o.SegMin {
		o.SegMax = o.SegMin
	}
	if o.Reorder == 0 {
		o.Reorder = d.Reorder
	}
	if o.Retransmit == 0 {
		o.Retransmit = d.Retransmit
	}
	if o.TCPIdle == 0 {
		o.TCPIdle = d.TCPIdle
	}
	if o.SlowFactor <= 0 {
		o.SlowFactor = d.SlowFactor
	}
	if o.Clients <= 0 {
		o.Clients = d.Clients
	}
	return o
}

// Apply returns the kind's variant of a capture's frames; name (the
// capture's name) is mixed into the seed so that captures get independent
// random choices. The input is not modified; unchanged frames share their
// Data with it.
func Apply(kind Kind, frames []Frame, name string, opt Options) ([]Frame, error) {
	opt = opt.withDefaults()
	seed2 := hashBytes([]byte(string(kind) + "\x00" + name))
	rng := rand.New(rand.NewPCG(opt.Seed, seed2))
	switch kind {
	case Fragmented:
		return fragmented(frames, rng, &opt), nil
	case Case:
		return caseRandomised(frames, opt.Seed^seed2, &opt), nil
	case TCPSplit:
		return tcpSplit(frames, rng, &opt), nil
	case OffPort:
		return offPort(frames, rng, &opt), nil
	case Slow:
		return slow(frames, opt.SlowFactor), nil
	case Spread:
		return spread(frames, rng, &opt), nil
	case Encapsulated:
		return encapsulated(frames, rng), nil
	}
	return nil, fmt.Errorf("unknown variant kind %q", kind)
}
