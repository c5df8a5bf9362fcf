// Package allowlist reads the old tool's allowlist file and answers whether
// a query name is allowlisted.
//
// Format: one domain per line; "*.example.com" matches example.com and every
// name below it; a plain "example.com" matches that name only; "#" starts a
// comment; blank lines are ignored; case and a trailing dot do not matter.
// Allowlisted names are still counted by the scan, never flagged.
package allowlist
