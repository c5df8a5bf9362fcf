// Package eval measures detection quality on labelled captures: it runs
// the scan on each capture of a labels.json, reads what it flagged, and
// compares with ground truth that does not come from the detector: the
// labels (tunnel domains, a name pattern, raw tunnel packets) applied to
// Wireshark's reading of each capture (a "<capture>.truth.tsv" beside it,
// or tshark when installed).
//
// Packet counts and flagged counts are computed exactly as
// ../shared/eval/score.py computes them, so the two agree file by file.
package eval
