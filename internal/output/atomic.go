package output

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
)

// AtomicFile is a file written under a temporary name in its final
// directory and renamed into place by Commit, so that a crash never leaves
// a half-written file under the final name.
type AtomicFile struct {
	*bufio.Writer
	f     *os.File
	final string
	done  bool
}

// CreateAtomic starts writing the file that will become path.
func CreateAtomic(path string) (*AtomicFile, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, err
	}
	return &AtomicFile{Writer: bufio.NewWriterSize(f, 1<<20), f: f, final: path}, nil
}

// Commit flushes, syncs and renames the file to its final name.
func (a *AtomicFile) Commit() error {
	if a.done {
		return fmt.Errorf("%s: already closed", a.final)
	}
	a.done = true
	err := a.Flush()
	if err == nil {
		err = a.f.Sync()
	}
	if cerr := a.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		if err = os.Chmod(a.f.Name(), 0o644); err == nil {
			err = os.Rename(a.f.Name(), a.final)
		}
	}
	if err != nil {
		os.Remove(a.f.Name())
		return fmt.Errorf("writing %s: %w", a.final, err)
	}
	return nil
}

// Abort discards the file. It is safe to call after Commit (it then does
// nothing), so it can be deferred.
func (a *AtomicFile) Abort() {
	if a.done {
		return
	}
	a.done = true
	a.f.Close()
	os.Remove(a.f.Name())
}

// WriteFileAtomic writes data to path atomically.
func WriteFileAtomic(path string, data []byte) error {
	a, err := CreateAtomic(path)
	if err != nil {
		return err
	}
	defer a.Abort()
	if _, err := a.Write(data); err != nil {
		return err
	}
	return a.Commit()
}
