// Package checks holds the per-message checks that dnsieve inherited from
// the Python tool it replaces: label length, rare symbols, Shannon entropy,
// hex runs and UTF-8 validity of a query name.
//
// The checks look at one name at a time and allocate nothing. They are the
// first, cheap layer of detection; behaviour over time is judged elsewhere.
// One pass over the name settles most checks; the exact, slower ones run
// only when that pass cannot (see README.md).
package checks
