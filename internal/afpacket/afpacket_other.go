//go:build !linux

package afpacket

import (
	"context"
	"errors"

	"github.com/dnsieve/dnsieve/internal/capture"
)

// ErrUnsupported is returned by Open and DropPrivileges outside Linux.
var ErrUnsupported = errors.New("afpacket: live capture needs Linux (AF_PACKET)")

// Source is a live capture; outside Linux it cannot be opened.
type Source struct{}

// Open fails with ErrUnsupported outside Linux.
func Open(cfg Config) (*Source, error) { return nil, ErrUnsupported }

// OpenContext fails with ErrUnsupported outside Linux.
func OpenContext(ctx context.Context, cfg Config) (*Source, error) { return nil, ErrUnsupported }

// Next fails with ErrUnsupported: no Source can be opened outside Linux.
func (s *Source) Next(rec *capture.Record) error { return ErrUnsupported }

// Stats returns zero counters.
func (s *Source) Stats() Stats { return Stats{} }

// Close does nothing.
func (s *Source) Close() error { return nil }

// DropPrivileges fails with ErrUnsupported outside Linux.
func DropPrivileges(userName, groupName string) error { return ErrUnsupported }
