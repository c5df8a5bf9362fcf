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
	SHA256    string    `json:"sha256"`
	ScannedAt time.Time `json:"scanned_at"`
}

// State records the captures already processed into an output directory
// (the state file), so that no capture is analysed twice.
type State struct {
	Version int             `json:"version"`
	Files   []processedFile `json:"files"`

	byPath map[string]int
	byHash map[string]int
}

// LoadState reads the state file of an output directory (an empty state
// when there is none).
func LoadState(dir string) (*State, error) { return loadState(dir) }

// Seen reports whether the capture at path (absolute) was processed
// before, by path, size and time, or by content.
func (s *State) Seen(path string, fi os.FileInfo) (bool, error) { return s.seen(path, fi) }

// Record notes that the capture at path (absolute) was processed.
func (s *State) Record(path string, fi os.FileInfo) {
	rec := processedFile{Path: path, Size: fi.Size(), ModTime: fi.ModTime(), ScannedAt: time.Now().UTC()}
	if h, err := hashFile(path); err == nil {
		rec.SHA256 = h
	}
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
	for i, f := range s.Files {
		s.byPath[f.Path] = i
		s.byHash[f.SHA256] = i
	}
}

// seen reports whether the capture at path (absolute) was processed
// before: the same path, size and modification time, or the same content
// under another name (then the hash is computed; only for files whose size
// matches a recorded one, so that most new files are not read twice).
func (s *State) seen(path string, fi os.FileInfo) (bool, error) {
	if i, ok := s.byPath[path]; ok {
		f := s.Files[i]
		if f.Size == fi.Size() && f.ModTime.Equal(fi.ModTime()) {
			return true, nil
		}
	}
	sizeKnown := false
	for _, f := range s.Files {
		if f.Size == fi.Size() {
			sizeKnown = true
			break
		}
	}
	if !sizeKnown {
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

// hashFile returns the hex SHA-256 of a file's bytes.
func hashFile(path string) (string, error) {
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
