// Package train builds dnsieve's behaviour model from labelled captures
// and a deterministic synthetic set, and validates it.
//
// It runs captures through the same analysis as a scan (analyze, IP
// reassembly, DNS-over-TCP, the behavioural engine) to get one sample per
// capture and registered domain, plus early snapshots; fits an
// L2-regularised logistic regression by Newton's method in a fixed order
// (bit-for-bit reproducible); sets severity thresholds from out-of-fold
// benign false-positive rates; validates leave-one-tool-out and
// leave-one-network-out; and writes the Markdown report (docs/MODEL.md).
package train
