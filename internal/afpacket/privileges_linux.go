//go:build linux

package afpacket

import (
	"errors"
	"fmt"
	"os/user"
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// DropPrivileges switches the whole process (every thread) to the given
// user and group, given by name or by numeric id, once the sockets are
// open. An empty group means the user's primary group. Supplementary groups
// are cleared, the real, effective and saved ids are all set (so the switch
// cannot be undone), and every capability is dropped on every thread.
//
// Open sockets stay usable: the kernel checks CAP_NET_RAW only when an
// AF_PACKET socket is created, so Next, Stats and Close keep working, but
// no new Source can be opened afterwards.
//
// It relies on Go's syscall.Setuid/Setgid/Setgroups, which apply to all
// threads since Go 1.16. Built with cgo, capabilities can only be checked,
// not dropped, on every thread: DropPrivileges then fails if any remain
// (they do not when switching away from root, where the kernel clears
// them itself).
func DropPrivileges(userName, groupName string) error {
	uid, gid, err := resolveIDs(userName, groupName)
	if err != nil {
		return err
	}
	if err := syscall.Setgroups(nil); err != nil {
		return fmt.Errorf("afpacket: dropping privileges: setgroups: %w", err)
	}
	if err := syscall.Setgid(gid); err != nil {
		return fmt.Errorf("afpacket: dropping privileges: setgid(%d): %w", gid, err)
	}
	if err := syscall.Setuid(uid); err != nil {
		return fmt.Errorf("afpacket: dropping privileges: setuid(%d): %w", uid, err)
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData // all zero: no capability at all
	_, _, e := syscall.AllThreadsSyscall(unix.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0)
	switch {
	case e == syscall.ENOTSUP:
		// cgo build: check that the kernel already cleared them.
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			return fmt.Errorf("afpacket: dropping privileges: capget: %w", err)
		}
		if data[0].Permitted|data[1].Permitted|data[0].Effective|data[1].Effective != 0 {
			return errors.New("afpacket: dropping privileges: capabilities remain and cannot be dropped on all threads in a cgo build")
		}
	case e != 0:
		return fmt.Errorf("afpacket: dropping privileges: capset: %w", e)
	}
	if unix.Getuid() != uid || unix.Geteuid() != uid || unix.Getgid() != gid || unix.Getegid() != gid {
		return fmt.Errorf("afpacket: dropping privileges: ids are %d/%d:%d/%d after switching to %d:%d",
			unix.Getuid(), unix.Geteuid(), unix.Getgid(), unix.Getegid(), uid, gid)
	}
	return nil
}

// resolveIDs turns a user and a group (names or numbers) into ids.
func resolveIDs(userName, groupName string) (uid, gid int, err error) {
	if userName == "" {
		return 0, 0, errors.New("afpacket: dropping privileges: no user given")
	}
	var u *user.User
	if n, ok := numericID(userName); ok {
		uid = n
	} else {
		if u, err = user.Lookup(userName); err != nil {
			return 0, 0, fmt.Errorf("afpacket: dropping privileges: %w", err)
		}
		if uid, err = strconv.Atoi(u.Uid); err != nil {
			return 0, 0, fmt.Errorf("afpacket: dropping privileges: user %q has uid %q", userName, u.Uid)
		}
	}
	switch n, ok := numericID(groupName); {
	case ok:
		gid = n
	case groupName != "":
		g, err := user.LookupGroup(groupName)
		if err != nil {
			return 0, 0, fmt.Errorf("afpacket: dropping privileges: %w", err)
		}
		if gid, err = strconv.Atoi(g.Gid); err != nil {
			return 0, 0, fmt.Errorf("afpacket: dropping privileges: group %q has gid %q", groupName, g.Gid)
		}
	default:
		if u == nil {
			if u, err = user.LookupId(strconv.Itoa(uid)); err != nil {
				return 0, 0, fmt.Errorf("afpacket: dropping privileges: no group given and %w", err)
			}
		}
		if gid, err = strconv.Atoi(u.Gid); err != nil {
			return 0, 0, fmt.Errorf("afpacket: dropping privileges: user %q has primary gid %q", userName, u.Gid)
		}
	}
	return uid, gid, nil
}

// numericID parses a decimal id that fits a uid_t/gid_t other than -1.
func numericID(s string) (int, bool) {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 1<<32-1 {
		return 0, false
	}
	return int(n), true
}
