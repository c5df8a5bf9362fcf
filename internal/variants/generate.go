package variants

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/dnsieve/dnsieve/internal/eval"
)

// LabelsName is the name of the labels file Generate writes in its output
// directory.
const LabelsName = "labels.json"

// Entry is one capture of the labels.json Generate writes: the labels of
// the original (same fields and meaning as eval's labels.json) plus the
// variant's kind and its source.
type Entry struct {
	File            string   `json:"file"`
	ExpectedVerdict string   `json:"expected_verdict"`
	Tool            string   `json:"tool,omitempty"`
	TunnelDomains   []string `json:"tunnel_domains"`
	TunnelRegex     string   `json:"tunnel_regex,omitempty"`
	RawTunnel       bool     `json:"raw_tunnel,omitempty"`
	// Variant is the kind of transformation.
	Variant Kind `json:"variant"`
	// Source is the original capture (absolute path); SourceFile is its
	// "file" in the original labels.
	Source     string `json:"source"`
	SourceFile string `json:"source_file"`
	// Frames counts the frames of the original and of the variant.
	SourceFrames int `json:"source_frames"`
	Frames       int `json:"frames"`
	// TruthFile: a "<file>.truth.tsv" was written beside the variant
	// (see Generate).
	TruthFile bool `json:"truth_file,omitempty"`
}

// Labels is the labels.json Generate writes.
type Labels struct {
	// Seed is the seed the variants were made with.
	Seed  uint64  `json:"seed"`
	Files []Entry `json:"files"`
}

// Generate writes, for every tunnel capture of the labels file, one variant
// per kind into outDir (keeping the capture's subdirectory relative to the
// labels file: <dir>/<stem>.<kind>.pcap), then outDir/labels.json listing
// them with the original's labels. progress, when not nil, gets a line per
// written file. Benign captures are skipped.
//
// Ground truth: eval reads "<capture>.truth.tsv" when present, else asks
// tshark. For the kinds tshark's default reading gets wrong, Generate
// writes that file: tcp-split (tshark with tcp.reassemble_out_of_order on)
// and off-port (the original's truth: frames map one to one).
func Generate(labelsPath, outDir string, kinds []Kind, opt Options, progress io.Writer) (*Labels, error) {
	l, err := eval.LoadLabels(labelsPath)
	if err != nil {
		return nil, err
	}
	opt = opt.withDefaults()
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, err
	}
	out := &Labels{Seed: opt.Seed, Files: []Entry{}}
	taken := map[string]bool{}
	cache := filepath.Join(outDir, ".truth-cache")
	if d, err := os.UserCacheDir(); err == nil {
		cache = filepath.Join(d, "dnsieve-truth")
	}
	for i := range l.Files {
		e := &l.Files[i]
		if e.ExpectedVerdict != "tunnel" {
			continue
		}
		src, err := filepath.Abs(e.Path())
		if err != nil {
			return nil, err
		}
		frames, err := ReadFrames(src)
		if err != nil {
			return nil, err
		}
		dir, stem := splitName(e.File)
		for _, k := range kinds {
			v, err := Apply(k, frames, e.File, opt)
			if err != nil {
				return nil, err
			}
			name := uniqueName(taken, filepath.Join(dir, stem+"."+string(k)), Ext(v))
			dst := filepath.Join(outDir, name)
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return nil, err
			}
			if err := WriteFrames(dst, v); err != nil {
				return nil, err
			}
			truth, err := writeTruth(k, src, dst, cache)
			if err != nil {
				return nil, err
			}
			if progress != nil {
				fmt.Fprintf(progress, "wrote %s (%d frames from %d)\n", dst, len(v), len(frames))
			}
			out.Files = append(out.Files, Entry{
				File:            filepath.ToSlash(name),
				ExpectedVerdict: e.ExpectedVerdict,
				Tool:            e.Tool,
				TunnelDomains:   e.TunnelDomains,
				TunnelRegex:     e.TunnelRegex,
				RawTunnel:       e.RawTunnel,
				Variant:         k,
				Source:          src,
				SourceFile:      e.File,
				SourceFrames:    len(frames),
				Frames:          len(v),
				TruthFile:       truth,
			})
		}
	}
	b, err := json.MarshalIndent(out, "", " ")
	if err != nil {
		return nil, err
	}
	tmp := filepath.Join(outDir, LabelsName+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return nil, err
	}
	return out, os.Rename(tmp, filepath.Join(outDir, LabelsName))
}

// splitName gives the subdirectory (relative, never leaving the output
// directory) and the stem of a labels "file": "ggy/iodine.pcap.gz" is
// ("ggy", "iodine").
func splitName(file string) (dir, stem string) {
	file = filepath.FromSlash(file)
	dir = filepath.Dir(file)
	if filepath.IsAbs(file) || !filepath.IsLocal(dir) {
		dir = ""
	}
	stem = filepath.Base(file)
	for _, ext := range []string{".gz", ".zst"} {
		stem = strings.TrimSuffix(stem, ext)
	}
	for _, ext := range []string{".pcapng", ".pcap", ".cap"} {
		if s := strings.TrimSuffix(stem, ext); s != "" {
			stem = s
		}
	}
	return dir, stem
}

// uniqueName returns base+ext, or base-2+ext, base-3+ext, ... when taken.
func uniqueName(taken map[string]bool, base, ext string) string {
	name := base + ext
	for n := 2; taken[name]; n++ {
		name = fmt.Sprintf("%s-%d%s", base, n, ext)
	}
	taken[name] = true
	return name
}
