package engine

import (
	"bytes"

	"github.com/dnsieve/dnsieve/internal/fingerprint"
)

// zoneShareNum/zoneShareDen is the share of the names that the top label's
// Boyer–Moore count must reach. The count never exceeds the names that
// voted for the candidate, so a zone found is the top label of at least
// 9 names in 10; a label of at least 19 in 20 always reaches it (the count
// is at least twice its names less all names).
const (
	zoneShareNum = 9
	zoneShareDen = 10
)

// zoneVote is a Boyer–Moore majority vote (Boyer and Moore, "MJRTY: a fast
// majority vote algorithm", 1981) over the last label of the subdomains
// that voted. A subdomain of one label votes for no zone (none): a
// tunnel's zone leaves a label for its data.
type zoneVote struct {
	text  []byte // the candidate label (none: empty)
	none  bool
	votes uint64 // 0: no candidate
}

// zoneVotes finds the zone of a domain's channel below its registered
// domain. The longest common suffix of all its data-like subdomains is
// exact, but it falls to the registered domain at the first benign name
// among them that happens to look like data (a host "yahtzee4" of a busy
// company domain with a tunnel in its "t1"), and every packet of the
// registered domain would then be reported as the tunnel's. So the label
// under the registered domain is chosen by a majority vote, which such
// names do not move, and the common suffix adds the labels below it when
// it agrees (zone). Both are independent of the order of the names and
// mergeable.
type zoneVotes struct {
	common []byte // the longest common run of trailing labels
	top    zoneVote
	names  uint64 // subdomains that voted
}

// vote counts one subdomain (labels joined by '.', lowercased).
func (z *zoneVotes) vote(sub []byte) {
	if z.names == 0 {
		// Everything but the leftmost label can be the zone.
		z.common = z.common[:0]
		if i := bytes.IndexByte(sub, '.'); i >= 0 {
			z.common = append(z.common, sub[i+1:]...)
		}
	} else {
		z.common = shrinkZone(z.common, sub)
	}
	z.names++
	dot := bytes.LastIndexByte(sub, '.')
	if dot < 0 {
		z.top.count(nil, true)
		return
	}
	z.top.count(sub[dot+1:], false)
}

// shrinkZone returns the longest common run of trailing labels of zone and
// sub that leaves sub a label of its own (zone's storage, shortened).
func shrinkZone(zone, sub []byte) []byte {
	c := commonSuffix(zone, sub)
	if len(c) == len(sub) && len(c) > 0 {
		// sub is entirely a suffix of the zone: the zone must keep a
		// label for the data, so it loses its first label.
		if k := bytes.IndexByte(c, '.'); k >= 0 {
			c = c[k+1:]
		} else {
			c = c[:0]
		}
	}
	return append(zone[:0], c...)
}

// count adds one vote for cand (none: no zone). An empty candidate (a
// label holding a '.' byte splits into empty text) counts as none, so that
// every candidate kept has text.
func (v *zoneVote) count(cand []byte, none bool) {
	none = none || len(cand) == 0
	if none {
		cand = nil
	}
	switch {
	case v.votes == 0:
		v.text, v.none, v.votes = append(v.text[:0], cand...), none, 1
	case v.none == none && bytes.Equal(v.text, cand):
		v.votes++
	default:
		v.drop(1)
	}
}

// drop takes n <= v.votes votes from the candidate, which leaves when none
// are left.
func (v *zoneVote) drop(n uint64) {
	v.votes -= n
	if v.votes == 0 {
		v.text, v.none = v.text[:0], false
	}
}

// zone returns the zone (nil: the registered domain itself, or no zone
// holds the votes).
func (z *zoneVotes) zone() []byte {
	zone, _ := z.find()
	return zone
}

// find returns the zone and whether the votes determine it: nil and true
// when the data is right under the registered domain, nil and false when
// no label holds the votes. The zone's top label is the candidate that
// holds its share of the votes; the labels below it are those of the
// common suffix of all names when it ends in that label (a channel whose
// data goes to sibling zones, "up.t1" and "down.t1", is in "t1"). The
// result aliases z.
func (z *zoneVotes) find() ([]byte, bool) {
	v := &z.top
	if v.votes == 0 || v.votes*zoneShareDen < z.names*zoneShareNum {
		return nil, false
	}
	if v.none {
		return nil, true
	}
	return z.topZone(), true
}

// topZone returns the candidate label with the labels below it that all
// the names share: the common suffix when it ends in the candidate, the
// candidate alone otherwise. It aliases z.
func (z *zoneVotes) topZone() []byte {
	c, t := z.common, z.top.text
	if bytes.Equal(c, t) || len(c) > len(t) && c[len(c)-len(t)-1] == '.' && bytes.HasSuffix(c, t) {
		return c
	}
	return t
}

// unitShareNum/unitShareDen is the share of the names the top label's
// count must reach for a unit (unit.go). The count never exceeds the
// label's names, so a label found holds two in three of them at least; a
// label of five in six always reaches it (its count is at least twice its
// names less all names). A unit's zone need not be as certain as a
// finding's: it adds a judgement, never takes one away.
const (
	unitShareNum = 2
	unitShareDen = 3
)

// unitZone returns the zone a unit would judge: the top label (see
// unitShareNum), with the labels below it that all of the names share when
// the common suffix ends in it; nil when there is none (the names are right
// under the registered domain, or spread), or when it has an empty label
// (a label holding a '.' byte splits into empty text): no name can be
// under such a zone as the engine splits names.
func (z *zoneVotes) unitZone() []byte {
	v := &z.top
	if v.votes == 0 || v.none || v.votes*unitShareDen < z.names*unitShareNum {
		return nil
	}
	zone := z.topZone()
	if zone[0] == '.' || zone[len(zone)-1] == '.' || bytes.Contains(zone, []byte("..")) {
		return nil
	}
	return zone
}

// zoneOf returns the zone of d's channel from the votes of its data-like
// names and of the names in which its tool's protocol was recognised
// (recognised: engine.ToolRecognised holds for that tool). Where both
// determine one, it is their common trailing labels (the shallower when
// one lies in the other), so that both kinds of evidence are in it. Where
// the data-like names do not, the tool's zone is taken (a tunnel in raw
// mode sends a few names of its handshake beside benign hosts that look
// like data). A tool whose names are not all under its zone (Cobalt
// Strike's stager names are; its beacon's end in a nonce) keeps its other
// packets in out.csv by their own evidence: data in the name, or the
// tool's structure, strong or weak (package scan).
func (d *domain) zoneOf(recognised bool) []byte {
	dz, dok := d.zones.find()
	if !recognised {
		return dz
	}
	tz, tok := d.toolZones.find()
	switch {
	case dok && tok:
		return commonSuffix(dz, tz)
	case tok:
		return tz
	}
	return dz
}

// voteTool counts a new name that matched a tool's fingerprint. The first
// tool recognised (strongly) in d is the one whose names vote, strong or
// weak, so that another tool's accidental matches neither move its zone
// nor count as its names (Features.ToolNames: the strong ones). Weak
// matches vote so that a tool whose traffic goes beyond the zone of its
// strong names (Cobalt Strike's stager names under "stage.123456", its
// beacon's check-ins and tasks elsewhere) has no zone of its own.
func (d *domain) voteTool(sub []byte, m fingerprint.Match) {
	switch {
	case d.toolZones.names == 0 && m.Strength == fingerprint.Strong:
		d.zoneTool = m.Tool
	case d.toolZones.names == 0, m.Tool != d.zoneTool:
		return
	}
	if m.Strength == fingerprint.Strong {
		d.toolNames++
	}
	d.vote(&d.toolZones, sub)
}

// vote counts sub in z, one of d's zone votes, and its memory in d's.
func (d *domain) vote(z *zoneVotes, sub []byte) {
	before := z.bytes()
	z.vote(sub)
	d.mem += z.bytes() - before
}

// commonSuffix returns the longest common run of trailing labels of two
// zones.
func commonSuffix(a, b []byte) []byte {
	i, j := len(a), len(b)
	for i > 0 && j > 0 && a[i-1] == b[j-1] {
		i--
		j--
	}
	for i < len(a) && !((i == 0 || a[i-1] == '.') && (j == 0 || b[j-1] == '.')) {
		k := bytes.IndexByte(a[i:], '.')
		if k < 0 {
			return a[:0]
		}
		i += k + 1
		j += k + 1
	}
	return a[i:]
}

// merge adds b's votes: Boyer–Moore counts are mergeable (equal
// candidates add, different ones cancel; the bounds above hold for the
// union), and common suffixes meet.
func (z *zoneVotes) merge(b *zoneVotes) {
	switch {
	case b.names == 0:
		return
	case z.names == 0:
		z.common = append(z.common[:0], b.common...)
	default:
		z.common = append(z.common[:0], commonSuffix(z.common, b.common)...)
	}
	z.names += b.names
	v, w := &z.top, &b.top
	switch {
	case w.votes == 0:
	case v.votes == 0:
		v.text, v.none, v.votes = append(v.text[:0], w.text...), w.none, w.votes
	case v.none == w.none && bytes.Equal(v.text, w.text):
		v.votes += w.votes
	case v.votes >= w.votes:
		v.drop(w.votes)
	default:
		v.text, v.none, v.votes = append(v.text[:0], w.text...), w.none, w.votes-v.votes
	}
}

// fromCommonZone sets the votes that a common zone of n subdomains stands
// for (a snapshot of version 11 or older kept only that): all of them
// voted for its last label, or for none when it is empty.
func (z *zoneVotes) fromCommonZone(zone []byte, n uint64) {
	*z = zoneVotes{names: n, common: append([]byte(nil), zone...)}
	if n == 0 {
		return
	}
	top := zone[bytes.LastIndexByte(zone, '.')+1:]
	if len(top) == 0 {
		z.top = zoneVote{none: true, votes: n}
		return
	}
	z.top = zoneVote{text: append([]byte(nil), top...), votes: n}
}

// bytes returns the memory the votes hold beyond the struct, as lengths
// (a restored engine's capacities differ).
func (z *zoneVotes) bytes() int { return len(z.common) + len(z.top.text) }

// zoneVotes reads zone votes z of d (snapshot version 12 and later).
func (r *dec) zoneVotes(d *domain, z *zoneVotes) {
	z.names = r.u()
	if c := r.bytes(maxZoneBytes, "common zone"); len(c) > 0 {
		z.common = append([]byte(nil), c...)
	}
	v := &z.top
	v.votes = r.u()
	v.none = r.bool("no zone")
	if t := r.bytes(maxZoneBytes, "zone candidate"); len(t) > 0 {
		v.text = append([]byte(nil), t...)
	}
	if r.err != nil {
		return
	}
	switch {
	case v.votes > z.names:
		r.fail("%s: %d votes for a zone of %d names", d.name, v.votes, z.names)
	case z.names == 0 && len(z.common) > 0:
		r.fail("%s: a common zone without names", d.name)
	case v.votes == 0 && (v.none || len(v.text) > 0):
		r.fail("%s: a zone candidate without votes", d.name)
	case v.none && len(v.text) > 0:
		r.fail("%s: a zone candidate both none and %q", d.name, v.text)
	case v.votes > 0 && !v.none && len(v.text) == 0:
		r.fail("%s: an empty zone candidate", d.name)
	}
}

// writeZoneVotes writes z (snapshot version 12 and later).
func (p *enc) writeZoneVotes(z *zoneVotes) {
	p.u(z.names)
	p.bytes(z.common)
	p.u(z.top.votes)
	p.bool(z.top.none)
	p.bytes(z.top.text)
}
