package engine

import "bytes"

// zoneDepths is how many labels below the registered domain a tunnel's
// own zone can have ("t1", "up.t1", "a.up.t1", "b.a.up.t1"); a deeper
// zone is reported by its last zoneDepths labels.
const zoneDepths = 4

// zoneShareNum/zoneShareDen is the share of the votes a depth's candidate
// must keep to be the zone: a Boyer–Moore count of at least 4/5 of the
// names proves that the candidate is the zone of at least 9 in 10 of them
// (votes <= 2*share - names), and a zone of 19 names in 20 always reaches it.
const (
	zoneShareNum = 4
	zoneShareDen = 5
)

// zoneVote is a Boyer–Moore majority vote (Boyer and Moore, "MJRTY: a fast
// majority vote algorithm", 1981) over the last k labels of the
// subdomains that voted. A subdomain of k labels or fewer votes for "no
// zone this deep" (none): a tunnel's zone leaves a label for its data.
type zoneVote struct {
	text  []byte // the candidate: the last k labels (none: empty)
	none  bool
	votes uint32 // 0: no candidate
}

// zoneVotes finds the zone of a domain's channel below its registered
// domain: a run of trailing labels that at least nine in ten of its
// data-like subdomains share (see zone). A longest common suffix of all of them
// would fall to the registered domain at the first benign name among them
// that happens to look like data (a host "yahtzee4" of a busy company
// domain with a tunnel in its "t1"), and every packet of the registered
// domain would be reported as the tunnel's; a majority does not.
type zoneVotes struct {
	depth [zoneDepths]zoneVote
	names uint32 // subdomains that voted
}

// vote counts one subdomain (labels joined by '.', lowercased).
func (z *zoneVotes) vote(sub []byte) {
	z.names++
	end := len(sub)
	for k := range zoneDepths {
		// start of the last k+1 labels; -1: the subdomain has no more.
		dot := bytes.LastIndexByte(sub[:end], '.')
		var cand []byte
		none := dot < 0
		if !none {
			cand = sub[dot+1:]
			end = dot
		}
		z.depth[k].count(cand, none)
		if none {
			// Deeper depths are none as well.
			for j := k + 1; j < zoneDepths; j++ {
				z.depth[j].count(nil, true)
			}
			return
		}
	}
}

// count adds one vote for cand (none: no zone at this depth). An empty
// candidate (a label holding a '.' byte splits into empty text) counts as
// none, so that every candidate kept has text.
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

// drop takes n < v.votes or n == v.votes votes from the candidate, which
// leaves when none are left.
func (v *zoneVote) drop(n uint32) {
	v.votes -= n
	if v.votes == 0 {
		v.text, v.none = v.text[:0], false
	}
}

// zone returns the zone (nil: the registered domain itself, or no
// zone holds the votes).
func (z *zoneVotes) zone() []byte {
	zone, _ := z.find()
	return zone
}

// find returns the zone and whether the votes determine it: nil and true
// when the data is right under the registered domain, nil and false when
// no zone holds the votes. The zone's first label is the candidate that
// holds its share of the votes, which benign names that look like data do
// not move; each deeper label must keep every vote of the one above (no
// name of the zone disagrees, as with a common suffix), so that a channel
// whose data goes to sibling zones ("up.t1" and "down.t1") is reported in
// the zone above them. The result aliases z.
func (z *zoneVotes) find() ([]byte, bool) {
	v := &z.depth[0]
	if v.votes == 0 || uint64(v.votes)*zoneShareDen < uint64(z.names)*zoneShareNum {
		return nil, false
	}
	if v.none {
		return nil, true
	}
	best := v.text
	for k := 1; k < zoneDepths; k++ {
		w := &z.depth[k]
		if w.none || w.votes < v.votes {
			break
		}
		best, v = w.text, w
	}
	return best, true
}

// channelZone returns the zone of a channel from the votes of its
// data-like names and of the names in which a tool's protocol was
// recognised: where both determine one, their common trailing labels (the
// shallower when one lies in the other), so that both kinds of evidence
// are in it; where one does, that one. A few names of a tool's handshake beside benign hosts that look like
// data (a tunnel in raw mode sends almost nothing in names) are found
// in their zone.
func channelZone(data, tool *zoneVotes) []byte {
	dz, dok := data.find()
	tz, tok := tool.find()
	switch {
	case dok && tok:
		return commonSuffix(dz, tz)
	case tok:
		return tz
	}
	return dz
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
// candidates add, different ones cancel), and the bound of zoneShareNum
// holds for the union.
func (z *zoneVotes) merge(b *zoneVotes) {
	z.names += b.names
	for k := range z.depth {
		v, w := &z.depth[k], &b.depth[k]
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
}

// fromCommonZone sets the votes that a common zone of n subdomains stands
// for (a snapshot of version 11 or older kept only that): every depth of
// the zone has it as candidate, and the next depth none.
func (z *zoneVotes) fromCommonZone(zone []byte, n uint32) {
	*z = zoneVotes{names: n}
	if n == 0 {
		return
	}
	end := len(zone)
	for k := range zoneDepths {
		if end <= 0 {
			z.depth[k] = zoneVote{none: true, votes: n}
			return
		}
		dot := bytes.LastIndexByte(zone[:end], '.')
		if dot+1 == len(zone) {
			z.depth[k] = zoneVote{none: true, votes: n}
			return
		}
		z.depth[k] = zoneVote{text: append([]byte(nil), zone[dot+1:]...), votes: n}
		end = dot
	}
}

// bytes returns the memory the candidates hold beyond the struct, as
// their lengths (a restored engine's capacities differ).
func (z *zoneVotes) bytes() int {
	n := 0
	for k := range z.depth {
		n += len(z.depth[k].text)
	}
	return n
}

// zoneVotes reads zone votes z of d (snapshot version 12 and later).
func (r *dec) zoneVotes(d *domain, z *zoneVotes) {
	z.names = r.u32("zone voters")
	for k := range z.depth {
		v := &z.depth[k]
		v.votes = r.u32("zone votes")
		v.none = r.bool("zone depth without a zone")
		if t := r.bytes(maxZoneBytes, "zone candidate"); len(t) > 0 {
			v.text = append([]byte(nil), t...)
		}
		if r.err != nil {
			return
		}
		switch {
		case v.votes > z.names:
			r.fail("%s: %d votes for a zone of %d names", d.name, v.votes, z.names)
		case v.votes == 0 && (v.none || len(v.text) > 0):
			r.fail("%s: a zone candidate without votes", d.name)
		case v.none && len(v.text) > 0:
			r.fail("%s: a zone candidate both none and %q", d.name, v.text)
		case v.votes > 0 && !v.none && len(v.text) == 0:
			r.fail("%s: an empty zone candidate", d.name)
		}
	}
}
