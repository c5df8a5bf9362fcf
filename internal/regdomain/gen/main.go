// Command gen builds the regdomain package's public suffix tables
// (psl_depth.go) from the rule tree compiled into golang.org/x/net/publicsuffix
// (the module version in go.mod), so that the tables agree with the library
// that regdomain asks:
//
//   - ruleDepth: for the last two labels of every rule of two or more labels,
//     the most labels such a rule has ("*.foo.tld" counts three);
//   - wildDepth: for top-level domains with a wildcard rule ("*.ck"), the
//     labels of that rule;
//   - specialTLD: the top-level domains with a wildcard or an exception,
//     which the fast path leaves to the library;
//   - icannTLD: the top-level domains of the list's ICANN section, with a
//     rule of their own ("com"), a wildcard below them ("*.np") or only
//     rules below them ("za");
//   - maxRuleLabels: the most labels of a rule;
//   - deepBloom: a blocked Bloom filter over the keys of ruleDepth (see
//     bloom.go), which Split's fast path asks before trusting that a name's
//     last two labels are its registered domain.
//
// The library's tree is read from the module's publicsuffix/table.go (its
// constants) and publicsuffix/data/{text,nodes,children} (the format is in
// the module's publicsuffix/gen.go): every node is a label with its ICANN
// bit, its children's range, its type (a rule, an exception "!", or only a
// parent of rules) and a wildcard bit ("*." below it). The output is
// deterministic.
//
//	go run ./internal/regdomain/gen -o internal/regdomain/psl_depth.go
//	go run ./internal/regdomain/gen -rules rules.txt   (every rule, one a line)
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"log"
	"math/bits"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/dnsieve/dnsieve/internal/regdomain/bloomhash"
)

func main() {
	dir := flag.String("x", "", "directory of golang.org/x/net/publicsuffix (default: the go.mod version's, from go list -m)")
	out := flag.String("o", "psl_depth.go", "output Go file")
	rulesOut := flag.String("rules", "", "if set, write every rule of the library's tree (\"!\" and \"*.\" prefixes as in the list) to this file instead")
	flag.Parse()
	if *dir == "" {
		b, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "golang.org/x/net").Output()
		if err != nil || len(bytes.TrimSpace(b)) == 0 {
			log.Fatalf("cannot find golang.org/x/net (go mod download golang.org/x/net): %v", err)
		}
		*dir = filepath.Join(string(bytes.TrimSpace(b)), "publicsuffix")
	}
	t, err := load(*dir)
	if err != nil {
		log.Fatal(err)
	}
	rules := t.rules()
	if *rulesOut != "" {
		var b bytes.Buffer
		for _, r := range rules {
			b.WriteString(r.text + "\n")
		}
		if err := os.WriteFile(*rulesOut, b.Bytes(), 0o644); err != nil {
			log.Fatal(err)
		}
		return
	}
	src, err := generate(t.version, rules, t.icannTLDs())
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatal(err)
	}
}

// table is the library's rule tree, as embedded in the module.
type table struct {
	version             string
	consts              map[string]uint64
	text, nodes, childs string
}

// load reads the tree's constants and data files from dir.
func load(dir string) (*table, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filepath.Join(dir, "table.go"), nil, 0)
	if err != nil {
		return nil, err
	}
	t := &table{consts: map[string]uint64{}}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			v := s.(*ast.ValueSpec)
			for i, name := range v.Names {
				lit, ok := v.Values[i].(*ast.BasicLit)
				if !ok {
					return nil, fmt.Errorf("table.go: constant %s is not a literal", name.Name)
				}
				switch lit.Kind {
				case token.INT:
					n, err := strconv.ParseUint(lit.Value, 0, 64)
					if err != nil {
						return nil, err
					}
					t.consts[name.Name] = n
				case token.STRING:
					if name.Name == "version" {
						t.version, _ = strconv.Unquote(lit.Value)
					}
				}
			}
		}
	}
	for _, c := range []string{"nodesBits", "nodesBitsChildren", "nodesBitsICANN", "nodesBitsTextOffset", "nodesBitsTextLength",
		"childrenBitsWildcard", "childrenBitsNodeType", "childrenBitsHi", "childrenBitsLo", "numTLD",
		"nodeTypeNormal", "nodeTypeException", "nodeTypeParentOnly"} {
		if _, ok := t.consts[c]; !ok {
			return nil, fmt.Errorf("table.go: no constant %s (a table format this generator does not know)", c)
		}
	}
	if t.consts["nodesBits"] != 40 {
		return nil, fmt.Errorf("table.go: nodesBits %d, want 40", t.consts["nodesBits"])
	}
	for _, p := range []struct {
		dst  *string
		name string
	}{{&t.text, "text"}, {&t.nodes, "nodes"}, {&t.childs, "children"}} {
		b, err := os.ReadFile(filepath.Join(dir, "data", p.name))
		if err != nil {
			return nil, err
		}
		*p.dst = string(b)
	}
	if len(t.nodes)%5 != 0 || len(t.childs)%4 != 0 {
		return nil, fmt.Errorf("data/nodes or data/children has a partial entry")
	}
	return t, nil
}

// node is one decoded node of the tree.
type node struct {
	label    string
	icann    bool
	lo, hi   uint32 // the children's node numbers
	typ      uint64
	wildcard bool
}

func (t *table) node(i uint32) (node, error) {
	c := t.consts
	if int(i)*5+5 > len(t.nodes) {
		return node{}, fmt.Errorf("node %d out of range", i)
	}
	b := t.nodes[i*5:]
	x := uint64(b[0])<<32 | uint64(b[1])<<24 | uint64(b[2])<<16 | uint64(b[3])<<8 | uint64(b[4])
	length := x & (1<<c["nodesBitsTextLength"] - 1)
	x >>= c["nodesBitsTextLength"]
	off := x & (1<<c["nodesBitsTextOffset"] - 1)
	x >>= c["nodesBitsTextOffset"]
	if off+length > uint64(len(t.text)) {
		return node{}, fmt.Errorf("node %d: text out of range", i)
	}
	n := node{label: t.text[off : off+length], icann: x&(1<<c["nodesBitsICANN"]-1) != 0}
	x >>= c["nodesBitsICANN"]
	ci := x & (1<<c["nodesBitsChildren"] - 1)
	if int(ci)*4+4 > len(t.childs) {
		return node{}, fmt.Errorf("node %d: children %d out of range", i, ci)
	}
	cb := t.childs[ci*4:]
	u := uint32(cb[0])<<24 | uint32(cb[1])<<16 | uint32(cb[2])<<8 | uint32(cb[3])
	n.lo = u & (1<<c["childrenBitsLo"] - 1)
	u >>= uint32(c["childrenBitsLo"])
	n.hi = u & (1<<c["childrenBitsHi"] - 1)
	u >>= uint32(c["childrenBitsHi"])
	n.typ = uint64(u & (1<<c["childrenBitsNodeType"] - 1))
	u >>= uint32(c["childrenBitsNodeType"])
	n.wildcard = u&(1<<c["childrenBitsWildcard"]-1) != 0
	return n, nil
}

// rule is one rule of the list: its labels (the top-level domain last)
// and its text ("!" for exceptions, "*." for wildcards).
type rule struct {
	labels []string
	text   string
}

// rules walks the tree and returns its rules, sorted by text.
func (t *table) rules() []rule {
	var rules []rule
	var walk func(lo, hi uint32, suffix []string, depth int)
	walk = func(lo, hi uint32, suffix []string, depth int) {
		if depth > 16 || hi > uint32(len(t.nodes)/5) || lo > hi {
			log.Fatalf("malformed tree at %v", suffix)
		}
		for i := lo; i < hi; i++ {
			n, err := t.node(i)
			if err != nil {
				log.Fatal(err)
			}
			labels := append([]string{n.label}, suffix...)
			name := strings.Join(labels, ".")
			switch n.typ {
			case t.consts["nodeTypeNormal"]:
				rules = append(rules, rule{labels, name})
			case t.consts["nodeTypeException"]:
				rules = append(rules, rule{labels, "!" + name})
			case t.consts["nodeTypeParentOnly"]:
			default:
				log.Fatalf("node %s: unknown type %d", name, n.typ)
			}
			if n.wildcard {
				rules = append(rules, rule{append([]string{"*"}, labels...), "*." + name})
			}
			walk(n.lo, n.hi, labels, depth+1)
		}
	}
	walk(0, uint32(t.consts["numTLD"]), nil, 0)
	sort.Slice(rules, func(i, j int) bool { return rules[i].text < rules[j].text })
	return rules
}

// icannTLDs returns the top-level nodes of the tree in the ICANN section,
// sorted: those with a rule ("com"), a wildcard ("*.np") or only rules
// below them ("za", whose names the library's default rule then answers,
// as ICANN's).
func (t *table) icannTLDs() []string {
	var tlds []string
	for i := range uint32(t.consts["numTLD"]) {
		n, err := t.node(i)
		if err != nil {
			log.Fatal(err)
		}
		if n.icann && n.typ != t.consts["nodeTypeException"] {
			tlds = append(tlds, n.label)
		}
	}
	sort.Strings(tlds)
	return tlds
}

// generate returns psl_depth.go for rules.
func generate(version string, rules []rule, tlds []string) ([]byte, error) {
	byTwo := map[string]int{}
	wild := map[string]int{}
	special := map[string]int{} // top-level domains the fast path leaves to the library
	deepest := 0
	for _, r := range rules {
		n := len(r.labels)
		deepest = max(deepest, n)
		if n == 1 && strings.HasPrefix(r.text, "!") {
			special[r.labels[0]] = 1
		}
		if n < 2 {
			continue
		}
		if r.labels[n-2] == "*" {
			wild[r.labels[n-1]] = max(wild[r.labels[n-1]], n)
			special[r.labels[n-1]] = 1
			continue
		}
		if n == 2 && strings.HasPrefix(r.text, "!") {
			// The fast path takes ruleDepth 2 for a rule, not an exception.
			special[r.labels[n-1]] = 1
		}
		two := r.labels[n-2] + "." + r.labels[n-1]
		byTwo[two] = max(byTwo[two], n)
	}
	keys := sortedKeys(byTwo)
	bloom := buildBloom(keys)

	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by internal/regdomain/gen from %d rules of golang.org/x/net/publicsuffix; DO NOT EDIT.\n", len(rules))
	fmt.Fprintf(&b, "// Source: %s.\n\npackage regdomain\n\n", version)
	fmt.Fprintf(&b, "// maxRuleLabels is the most labels a rule has (\"*.\" included).\nconst maxRuleLabels = %d\n\n", deepest)
	b.WriteString("// ruleDepth maps the last two labels of public suffix rules to the most labels such a rule has.\nvar ruleDepth = map[string]uint8{\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "%q: %d,\n", k, byTwo[k])
	}
	b.WriteString("}\n\n// wildDepth maps a top-level domain to the most labels of its wildcard rules (\"*.ck\").\nvar wildDepth = map[string]uint8{\n")
	for _, k := range sortedKeys(wild) {
		fmt.Fprintf(&b, "%q: %d,\n", k, wild[k])
	}
	b.WriteString("}\n\n")
	b.WriteString("// specialTLD reports whether top-level domain s has a wildcard rule (\"*.ck\"),\n// an exception (\"!tld\") or an exception of two labels (\"!www.tld\").\nfunc specialTLD(s string) bool {\n\tswitch s {\ncase ")
	for i, k := range sortedKeys(special) {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", k)
	}
	b.WriteString(":\n\treturn true\n}\n\treturn false\n}\n\n")
	b.WriteString("// icannTLD reports whether s is a top-level domain of the list's ICANN section,\n// with a rule of its own (\"com\"), a wildcard below it (\"*.np\") or only rules below it (\"za\").\nfunc icannTLD(s string) bool {\n\tswitch s {\ncase ")
	for i, k := range tlds {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", k)
	}
	b.WriteString(":\n\treturn true\n}\n\treturn false\n}\n\n")
	fmt.Fprintf(&b, "// bloomBits is log2 of the number of words of deepBloom.\nconst bloomBits = %d\n\n", bits.Len(uint(len(bloom)))-1)
	fmt.Fprintf(&b, "// deepBloom is a blocked Bloom filter over the %d keys of ruleDepth (bloom.go).\nvar deepBloom = [1 << bloomBits]uint64{\n", len(keys))
	for i, w := range bloom {
		fmt.Fprintf(&b, "%#016x,", w)
		if i%4 == 3 {
			b.WriteString("\n")
		}
	}
	b.WriteString("}\n")
	return format.Source(b.Bytes())
}

// buildBloom sets the bits of every key in a filter of about 16 bits a key.
func buildBloom(keys []string) []uint64 {
	n := 64
	for n*64 < 16*len(keys) {
		n *= 2
	}
	shift := uint(64 - (bits.Len(uint(n)) - 1))
	f := make([]uint64, n)
	for _, k := range keys {
		h := bloomhash.Key([]byte(k))
		f[h>>shift] |= bloomhash.Mask(h)
	}
	return f
}

func sortedKeys(m map[string]int) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
