// Package config reads dnsieve's config.ini: the old tool's sections and
// keys ([files settings] pcap_dir, output_dir, ignore_parsed_pcaps;
// [whitelist settings] whitelist, enable_whitelist) and dnsieve's own
// ([files settings] recursive, rename_parsed; [checks]; [engine]; [network]).
//
// The syntax is the subset of Python's configparser that such files use:
// "[section]" headers, "key = value" or "key: value", comments starting
// with "#" or ";" on their own line or, after a space or tab, at the end of
// a key or section line (configparser's inline_comment_prefixes), trimmed
// values, case-insensitive section and key names, and configparser's
// booleans (1/yes/true/on, 0/no/false/off). Continuation lines are not
// supported.
package config
