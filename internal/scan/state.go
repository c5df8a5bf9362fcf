package scan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/dnsieve/dnsieve/internal/capture"
	"github.com/dnsieve/dnsieve/internal/output"
)

// StateFileName is the file in the output directory that records the
// captures already processed, for ignore_parsed_pcaps.
const StateFileName = "dnsieve-state.json"

// processedFile identifies one capture that was scanned to its end.
type processedFile struct {
	Path      string    `json:"path"`
	Size      int64     `json:"size"`
	ModTime   time.Time `json:"mtime"`
	SHA256    string    `json:"sha256,omitempty"` // "": not computed (the run did not ignore parsed captures)
	ScannedAt time.Time `json:"scanned_at"`
}

// State records the captures already processed into an output directory
// (the state file), so that no capture is analysed twice.
type State struct {
	Version int             `json:"version"`
	Files   []processedFile `json:"files"`

	byPath map[string]int
	byHash map[string]int
	bySize map[int64]bool
}

// LoadState reads the state file of an output directory (an empty state
// when there is none).
func LoadState(dir string) (*State, error) { return loadState(dir) }

// Seen reports whether the capture at path (absolute) was processed
// before, by path, size and time, or by content.
func (s *State) Seen(path string, fi os.FileInfo) (bool, error) { return s.seen(path, fi) }

// Record notes that the capture at path (absolute) was processed. It reads
// the file again to hash it; RecordRead does not.
func (s *State) Record(path string, fi os.FileInfo) {
	s.RecordRead(path, fi, nil)
}

// RecordRead notes that the capture at path (absolute) was processed, read
// by r, which was opened with capture.WithSHA256: the hash r computed while
// reading is used when r read the whole file, otherwise (or when r is nil)
// the file is read again to hash it. r may be closed already.
func (s *State) RecordRead(path string, fi os.FileInfo, r *capture.Reader) {
	rec := processedFile{Path: path, Size: fi.Size(), ModTime: fi.ModTime(), ScannedAt: time.Now().UTC()}
	rec.SHA256 = digestOrHash(readerDigest(r), path)
	s.record(rec)
}

// Save writes the state file atomically.
func (s *State) Save(dir string) error { return s.save(dir) }

func loadState(dir string) (*State, error) {
	st := &State{Version: 1}
	b, err := os.ReadFile(filepath.Join(dir, StateFileName))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return st, err
	}
	if err == nil {
		if err := json.Unmarshal(b, st); err != nil {
			return &State{Version: 1}, fmt.Errorf("%s: %w (starting with an empty state)", filepath.Join(dir, StateFileName), err)
		}
	}
	st.index()
	return st, nil
}

func (s *State) index() {
	s.byPath = map[string]int{}
	s.byHash = map[string]int{}
	s.bySize = map[int64]bool{}
	for i, f := range s.Files {
		s.byPath[f.Path] = i
		if f.SHA256 != "" { // recorded by a run without ignore_parsed_pcaps
			s.byHash[f.SHA256] = i
			s.bySize[f.Size] = true
		}
	}
}

// seen reports whether the capture at path (absolute) was processed
// before: the same path, size and modification time, or the same content
// under another name.
//
// Only the second case needs the file's hash before the scan, and only
// when a recorded capture has the same size: a new capture of a size never
// seen is not read twice. The modification time cannot narrow this down
// further: a copy (cp, scp, a download) has the content but not the time.
func (s *State) seen(path string, fi os.FileInfo) (bool, error) {
	if i, ok := s.byPath[path]; ok {
		f := s.Files[i]
		if f.Size == fi.Size() && f.ModTime.Equal(fi.ModTime()) {
			return true, nil
		}
	}
	if !s.bySize[fi.Size()] {
		return false, nil
	}
	h, err := hashFile(path)
	if err != nil {
		return false, err
	}
	_, ok := s.byHash[h]
	return ok, nil
}

// record adds or replaces the entry of a processed capture.
func (s *State) record(f processedFile) {
	if i, ok := s.byPath[f.Path]; ok {
		s.Files[i] = f
	} else {
		s.Files = append(s.Files, f)
	}
	s.index()
}

func (s *State) save(dir string) error {
	b, err := json.MarshalIndent(s, "", " ")
	if err != nil {
		return err
	}
	return output.WriteFileAtomic(filepath.Join(dir, StateFileName), append(b, '\n'))
}

// readerDigest returns the hex SHA-256 that r computed of the whole file
// it read, or "" when r is nil, was not opened with capture.WithSHA256 or
// did not read the file to its end.
func readerDigest(r *capture.Reader) string {
	if r == nil {
		return ""
	}
	sum, ok := r.SHA256()
	if !ok {
		return ""
	}
	return hex.EncodeToString(sum[:])
}

// digestOrHash returns digest, or when it is "" the hex SHA-256 of the
// file read again (as before the digest was computed while scanning), or
// "" when the file cannot be read.
func digestOrHash(digest, path string) string {
	if digest != "" {
		return digest
	}
	h, err := hashFile(path)
	if err != nil {
		return ""
	}
	return h
}

// hashFile returns the hex SHA-256 of a file's bytes, reading the whole
// file. A variable so that tests can count the reads.
var hashFile = sha256File

// sha256File returns the hex SHA-256 of a file's bytes.
func sha256File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
