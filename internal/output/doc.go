// Package output writes dnsieve's result files in the formats of the old
// tool, so that scripts built around it keep working: out.csv (pipe
// separated, "^" as quote character, as Python's csv module writes it),
// stats.json, and the helpers they share: atomic file replacement and the
// neutralisation of attacker-controlled text.
package output
