package capture

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// captureExts are the file-name endings Walk accepts inside directories,
// each optionally followed by one of compressExts.
var (
	captureExts  = []string{".pcap", ".pcapng", ".cap"}
	compressExts = []string{".gz", ".zst"}
)

// IsCaptureName reports whether a file name looks like a capture: it ends in
// .pcap, .pcapng or .cap, optionally followed by .gz or .zst, ignoring case.
func IsCaptureName(name string) bool {
	n := strings.ToLower(filepath.Base(name))
	for _, c := range compressExts {
		if strings.HasSuffix(n, c) {
			n = strings.TrimSuffix(n, c)
			break
		}
	}
	for _, e := range captureExts {
		if strings.HasSuffix(n, e) && len(n) > len(e) {
			return true
		}
	}
	return false
}

// Walk expands command-line paths into capture files. A path naming a file
// (or anything that is not a directory) is taken as is, whatever its name. A
// directory yields the files in it whose names satisfy IsCaptureName,
// descending into subdirectories only when recursive is set (symbolic links
// to directories are not followed inside a walk). The result is sorted and
// deduplicated; paths that cannot be read are returned as errors while the
// rest goes on.
func Walk(paths []string, recursive bool) (files []string, errs []error) {
	seen := make(map[string]bool)
	add := func(p string) {
		p = filepath.Clean(p)
		if !seen[p] {
			seen[p] = true
			files = append(files, p)
		}
	}
	var walkDir func(dir string)
	walkDir = func(dir string) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			errs = append(errs, err)
		}
		// ReadDir returns the entries it could read even on error.
		for _, e := range entries {
			p := filepath.Join(dir, e.Name())
			typ := e.Type()
			if typ&os.ModeSymlink != 0 {
				fi, err := os.Stat(p)
				if err != nil {
					if IsCaptureName(e.Name()) {
						errs = append(errs, err)
					}
					continue
				}
				if fi.IsDir() {
					continue
				}
				typ = fi.Mode().Type()
			}
			switch {
			case typ.IsDir():
				if recursive {
					walkDir(p)
				}
			case typ.IsRegular() && IsCaptureName(e.Name()):
				add(p)
			}
		}
	}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if fi.IsDir() {
			walkDir(p)
		} else {
			add(p)
		}
	}
	sort.Strings(files)
	return files, errs
}

// CaptureInSubdirectories reports whether a subdirectory of one of the
// directories in paths, at any depth, holds a file whose name satisfies
// IsCaptureName: what a walk with recursive set would find and one
// without would not. It stops at the first such file, and after looking
// at maxEntries directory entries in all (a search of a whole file system
// is not worth a hint), when it reports false. Unreadable directories
// and symbolic links to directories are skipped.
func CaptureInSubdirectories(paths []string, maxEntries int) bool {
	seen := 0
	var search func(dir string, nested bool) bool
	search = func(dir string, nested bool) bool {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if seen++; seen > maxEntries {
				return false
			}
			switch {
			case e.IsDir():
				if search(filepath.Join(dir, e.Name()), true) {
					return true
				}
			case nested && e.Type().IsRegular() && IsCaptureName(e.Name()):
				return true
			}
		}
		return false
	}
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil && fi.IsDir() && search(p, false) {
			return true
		}
	}
	return false
}
