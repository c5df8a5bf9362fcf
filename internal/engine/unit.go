package engine

import (
	"bytes"
	"fmt"
)

// A channel's zone judged as a unit of its own.
//
// The model judges a registered domain as a whole, so the ordinary
// lookups of its other hosts dilute a channel in one of its zones: they
// lower the shares the model weighs (data-like names, clients, record
// types). A channel of 300 TXT names under "t1" was high alone, medium
// beside 40 lookups of the domain's other hosts, low beside 80 and not
// found beside 100. So once a label below the registered domain holds two
// in three of the domain's data-like names by their votes (zone.go,
// unitZone: found for certain at five in six, less than a finding's zone
// needs, since a unit adds a judgement and takes none away), and the
// domain has traffic outside it (unitOutsideNames distinct names that are
// not data-like, data-like names elsewhere, or unitBystanders clients that
// only asked ordinary names), the zone gets a state of its own, a unit:
// every later message under the zone is observed by the domain as before
// and by the unit too, name for name as the domain sees it (zone labels
// included: the names' length and likeness to host names must not change
// by being counted apart). The unit is judged like a domain, and a finding
// is the unit's when its severity is above the domain's own, or as high
// while the domain's own zone is not decided and it has ordinary names
// (judgeUnit), so a unit only ever adds a verdict the dilution hid, or
// narrows the packets listed. A known service's and a search domain's caps
// hold for their units (unitCapped).
//
// A unit is not indexed and not evicted on its own: it lives and goes
// with its domain, shares its ID (out.csv's rows and alerts stay the
// domain's, limited to the finding's zone), and its memory counts in the
// domain's. It starts when its zone holds its share, so it does not hold
// the channel's first names; the domain does. A unit has no unit.
const (
	// unitNames is how many data-like names must have voted before a
	// zone can become a unit: enough that a few benign names that look
	// like data cannot make one (its label needs two in three of them).
	unitNames = 16
	// unitOutsideNames is the traffic outside the zone that makes a unit
	// worth its memory: distinct names that are not data-like; so are
	// data-like names outside it when they are too many for the zone to
	// be decided for a finding (zone.go).
	unitOutsideNames = 8
	// unitBystanders is how many clients that only looked up the
	// domain's ordinary names dilute it as much: the channel's clients
	// do not (a zone's names from many clients are the zone's own).
	unitBystanders = 3
)

// maybeUnit observes o, just observed by d, in d's unit: it starts the
// unit when a zone of d holds its share and d has traffic outside it
// (unitDue; dataBefore is d.dataNames before o, so that this is only
// looked at when a data-like name voted), and passes o to it when o's name
// lies under the unit's zone.
func (e *Engine) maybeUnit(d *domain, o *Observation, dataBefore uint64) {
	if d.unit == nil {
		if d.dataNames == dataBefore || !d.unitDue() {
			return
		}
		e.newUnit(d, o.Time)
	}
	if o.RegStart <= 1 {
		return
	}
	sub := o.Name[:o.RegStart-1]
	zone := d.unitZone
	if len(sub) <= len(zone) || !bytes.HasSuffix(sub, zone) || sub[len(sub)-len(zone)-1] != '.' {
		return
	}
	// The unit sees the name as its domain does, zone labels included,
	// so that what the names look like (their length, their likeness to
	// host names, their information) is measured alike in both and the
	// two differ only by the traffic outside the zone.
	u := d.unit
	before := u.mem
	u.observe(e, o)
	d.mem += u.mem - before
	e.mem += int64(u.mem - before)
	e.maybeJudge(u, o.Time)
}

// unitDue reports whether a zone below the registered domain holds its
// share of d's data-like names (unitZone) and should be judged on its own.
func (d *domain) unitDue() bool {
	if d.parent != nil || d.zones.names < unitNames {
		return false
	}
	if len(d.zones.unitZone()) == 0 {
		return false
	}
	_, decided := d.zones.find()
	// Data-like names outside the zone (one in ten or more), or ordinary
	// ones; or clients that only looked up ordinary names (counted at
	// every 16th data-like name: a walk of the client table).
	return !decided || d.ordinaryNames() >= unitOutsideNames ||
		d.dataNames%unitNames == 0 && d.bystanders() >= unitBystanders
}

// ordinaryNames counts d's distinct names that are neither data-like nor
// reversed addresses: its hosts.
func (d *domain) ordinaryNames() uint64 { return d.unique - d.ipShaped - d.dataNames }

// bystanders counts d's clients tracked one by one that never carried its
// channel (clientState.channel): hosts that looked up its ordinary names,
// such as www, and nothing else.
func (d *domain) bystanders() int {
	n := 0
	for _, c := range d.clients.all() {
		if c.channel == 0 {
			n++
		}
	}
	return n
}

// newUnit gives d a unit for the zone of its votes (unitZone), from time
// t.
func (e *Engine) newUnit(d *domain, t int64) {
	zone := d.zones.unitZone()
	d.unitZone = append([]byte(nil), zone...)
	u := &domain{id: d.id, name: string(zone) + "." + d.name, parent: d, first: t, last: t, winStart: t,
		day: d.day, alertSev: d.alertSev, announced: d.announced}
	u.names.limit = e.cfg.MaxNamesPerDomain
	u.answers.limit = e.cfg.MaxNamesPerDomain
	u.mem = baseDomainBytes + len(u.name)
	d.unit = u
	grow := u.mem + len(d.unitZone)
	d.mem += grow
	e.mem += int64(grow)
}

// registered returns the registered domain d belongs to: its name, or its
// domain's for a unit.
func (d *domain) registered() string {
	if d.parent != nil {
		return d.parent.name
	}
	return d.name
}

// raiseAlert records that d's verdict reached sev. A unit and its domain
// share their alert severity: an alert is the domain's, whichever of the
// two raised it, and neither announces a severity again.
func (d *domain) raiseAlert(sev Severity) {
	d.alertSev = sev
	if p := d.parent; p != nil {
		p.alertSev = max(p.alertSev, sev)
	}
	if u := d.unit; u != nil {
		u.alertSev = max(u.alertSev, sev)
	}
}

// judgeUnit returns the features and decision of d's unit when its
// severity is above sev (d's own), and ok false otherwise. At the same
// severity the unit's is taken while d's own zone is not decided and d has
// ordinary names (its finding would list every packet of the registered
// domain, the company's lookups too; the unit's, those of its zone and the
// packets with evidence of their own): not without ordinary names, where
// the names outside the zone are data-like, a second session of the same
// channel as often. df is d's features.
func (e *Engine) judgeUnit(d *domain, df *Features, sev Severity) (f Features, verdict string, usev Severity, score float64, rules []rule, why []string, ok bool) {
	u := d.unit
	if u == nil || !u.mayBeJudgeable() {
		return
	}
	f = e.features(u)
	verdict, usev, score, rules, why = e.decide(&f)
	if verdict == "" || usev < sev || e.unitCapped(df, &f) {
		return
	}
	if _, decided := d.zones.find(); usev == sev && (decided || d.ordinaryNames() < unitOutsideNames) {
		return
	}
	return f, verdict, usev, score, rules, why, true
}

// unitCapped reports whether a unit's verdict (f: its features) must not
// count beside its domain's (df), whose caps hold for the whole registered
// domain unless the unit proves a channel: a known service's (the unit
// would only add a suspicious finding the cap made), and a search domain's
// (the unit does not follow search-path expansions; expand.go).
func (e *Engine) unitCapped(df, f *Features) bool {
	if channelProven(f) {
		return false
	}
	return f.KnownService != "" && !e.cfg.JudgeKnownServices || searchExpanded(df)
}

// unitEvidence is the line of a unit's finding that says why its counts
// are the zone's, not the registered domain's.
func (e *Engine) unitEvidence(u *domain) string {
	p := u.parent
	n, est := p.clientCount()
	about := ""
	if est {
		about = "about "
	}
	return fmt.Sprintf("judged on its own: the zone %s holds the channel's data-like names, and the other lookups of %s "+
		"(%s distinct names in all, from %s%s client(s)) would dilute its behaviour; its counts start when the zone was decided, "+
		"after %d data-like names or more",
		u.name, p.name, comma(p.unique), about, comma(uint64(n)), unitNames)
}

// mergeUnits folds b's unit into d's, after merge folded b into d (both
// not units): units of one zone merge as domains do; of two zones, the
// one with more distinct names stays. The alert severity stays shared.
func (e *Engine) mergeUnits(d, b *domain) {
	bu := b.unit
	switch {
	case bu == nil:
	case d.unit == nil || !bytes.Equal(d.unitZone, b.unitZone) && bu.unique > d.unit.unique:
		d.unit, d.unitZone = bu, b.unitZone
		bu.parent, bu.id = d, d.id
	case bytes.Equal(d.unitZone, b.unitZone):
		e.merge(d.unit, bu, bu.names.appendTo(nil))
		d.unit.mem = memOf(d.unit)
	}
	if u := d.unit; u != nil {
		d.raiseAlert(max(d.alertSev, u.alertSev))
		u.announced = d.announced
	}
}
