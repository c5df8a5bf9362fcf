// Package ngram scores how much a DNS label looks like an ordinary host
// name, with a character bigram model of English words and public suffix
// labels. Encoded data (base32, base64, hex) scores far lower per character
// than names people choose.
//
// The model ships compiled into the binary (model_table.go) and is built
// reproducibly from Debian packages by
//
//	go run ./internal/ngram/gen -words /usr/share/dict/american-english \
//	    -psl /usr/share/publicsuffix/public_suffix_list.dat \
//	    -hosts internal/ngram/hostlabels.txt -o internal/ngram/model_table.go
//
// (Debian packages wamerican 2020.12.07-2 and publicsuffix 20230209.2326-1,
// and hostlabels.txt, the project's own list of common host labels). The
// same inputs always give the same file; TestModelReproducible checks it
// where the inputs are installed.
package ngram
