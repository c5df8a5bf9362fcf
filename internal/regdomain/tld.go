package regdomain

// IsTLD reports whether label, in lower case, is a top-level domain of the
// public suffix list's ICANN section: one with a rule of its own ("com",
// "xn--p1ai"), a wildcard rule below it ("*.np": every name directly under
// it is a public suffix) or only rules below it ("za"). Private-section
// entries and names the list does not hold ("corp", "lan") are not. The answer comes from the
// tables generated out of golang.org/x/net/publicsuffix (psl_depth.go): no
// cache, no allocation, a fixed cost whatever the label.
func IsTLD(label []byte) bool { return icannTLD(string(label)) }
