package runtime

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The port hand-over: freePort binds 127.0.0.1:0 and releases the port for
// the replica to bind, so another process may take it in between. A
// replica is only routed to once the process listening on its port is in
// the replica's process group (ownsListener); otherwise the probe reports
// it not ready and the replica restarts on another port.

// listenInodes are the socket inodes listening on TCP port (IPv4 and IPv6).
func listenInodes(port int) (map[string]bool, error) {
	want := fmt.Sprintf(":%04X", port)
	out := map[string]bool{}
	read := 0
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		read++
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			// sl local_address rem_address st tx:rx tr:tm retrnsmt uid timeout inode
			fs := strings.Fields(sc.Text())
			if len(fs) < 10 || fs[3] != "0A" || !strings.HasSuffix(fs[1], want) {
				continue
			}
			out[fs[9]] = true
		}
		fh.Close()
	}
	if read == 0 {
		return nil, fmt.Errorf("no /proc/net/tcp")
	}
	return out, nil
}

// ownsListener reports whether a process of process group pgid holds a
// socket listening on port. ok is true when it cannot be checked (no
// /proc): the probe alone decides then.
func ownsListener(pgid, port int) (ok bool, err error) {
	inodes, err := listenInodes(port)
	if err != nil {
		return true, err
	}
	if len(inodes) == 0 {
		return false, nil
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return true, err
	}
	for _, e := range procs {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || processGroup(pid) != pgid {
			continue
		}
		fds, err := os.ReadDir(filepath.Join("/proc", e.Name(), "fd"))
		if err != nil {
			continue
		}
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join("/proc", e.Name(), "fd", fd.Name()))
			if err == nil && strings.HasPrefix(link, "socket:[") && inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] {
				return true, nil
			}
		}
	}
	return false, nil
}

// processGroup is pid's process group (-1 when unknown).
func processGroup(pid int) int {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return -1
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return -1
	}
	fs := strings.Fields(s[i+1:]) // state ppid pgrp ...
	if len(fs) < 3 {
		return -1
	}
	g, err := strconv.Atoi(fs[2])
	if err != nil {
		return -1
	}
	return g
}
