package zeek

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// IsLogName reports whether a file name is one of Zeek's DNS logs: "dns"
// followed by '.', '_' or '-', ending in ".log", ".log.gz" or ".log.zst"
// (dns.log, dns.2024-01-01-00-00-00.log.gz, dns.00:00:00-01:00:00.log.gz
// as zeekctl archives them, dns_json.log). "dnsmasq.log" is not one.
func IsLogName(name string) bool {
	if len(name) < 4 || !strings.HasPrefix(name, "dns") {
		return false
	}
	if c := name[3]; c != '.' && c != '_' && c != '-' {
		return false
	}
	for _, ext := range []string{".log", ".log.gz", ".log.zst"} {
		if strings.HasSuffix(name, ext) && len(name) >= 3+len(ext) {
			return true
		}
	}
	return false
}

// Files returns the DNS logs of a Zeek log directory (not its
// subdirectories): the regular files whose names IsLogName accepts, sorted
// by name, which for rotated logs is the time of rotation (the live
// dns.log sorts after its dated siblings).
func Files(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		if !IsLogName(e.Name()) {
			continue
		}
		if !e.Type().IsRegular() {
			// Follow symbolic links to regular files.
			info, err := os.Stat(filepath.Join(dir, e.Name()))
			if err != nil || !info.Mode().IsRegular() {
				continue
			}
		}
		files = append(files, filepath.Join(dir, e.Name()))
	}
	sort.Strings(files)
	return files, nil
}
