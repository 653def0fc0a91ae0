package runtime

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/openfaas/faas-provider/logs"

	"github.com/prescale/prescale/internal/clock"
)

// maxLineBytes splits longer output lines.
const maxLineBytes = 16 * 1024

// followBuffer is how many lines a follower may lag before lines are dropped.
const followBuffer = 1024

type logLine struct {
	at       time.Time
	instance string
	text     string
}

// logBuffer keeps the last lines of a function's replicas and feeds followers.
type logBuffer struct {
	clk     clock.Clock
	notify  func() // a line was added
	mu      sync.Mutex
	lines   []logLine // ring
	next    int
	full    bool
	subs    map[chan logLine]struct{}
	closed  bool
	dropped uint64
}

func newLogBuffer(n int, clk clock.Clock, notify func()) *logBuffer {
	return &logBuffer{clk: clk, notify: notify, lines: make([]logLine, n), subs: map[chan logLine]struct{}{}}
}

func (b *logBuffer) add(instance, text string) {
	l := logLine{at: b.clk.Now().UTC(), instance: instance, text: text}
	defer b.notify()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines[b.next] = l
	b.next = (b.next + 1) % len(b.lines)
	if b.next == 0 {
		b.full = true
	}
	for ch := range b.subs {
		select {
		case ch <- l:
		default:
			b.dropped++
		}
	}
}

// readFrom adds every line read from r until EOF, then closes r.
func (b *logBuffer) readFrom(r io.ReadCloser, instance string) {
	defer r.Close()
	br := bufio.NewReaderSize(r, maxLineBytes)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			n := len(line)
			if line[n-1] == '\n' {
				n--
			}
			b.add(instance, string(line[:n]))
		}
		if err != nil && err != bufio.ErrBufferFull {
			return
		}
	}
}

// snapshot returns the kept lines in order and, when follow is set, a
// subscription registered atomically with the snapshot.
func (b *logBuffer) snapshot(follow bool) ([]logLine, chan logLine) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []logLine
	if b.full {
		out = append(out, b.lines[b.next:]...)
	}
	out = append(out, b.lines[:b.next]...)
	var ch chan logLine
	if follow && !b.closed {
		ch = make(chan logLine, followBuffer)
		b.subs[ch] = struct{}{}
	}
	return out, ch
}

func (b *logBuffer) unsubscribe(ch chan logLine) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.subs[ch]; ok {
		delete(b.subs, ch)
		close(ch)
	}
}

// close ends every follower (the function was removed or the runtime closed).
func (b *logBuffer) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for ch := range b.subs {
		delete(b.subs, ch)
		close(ch)
	}
}

// Logs answers faas-provider's logs.Requester: the function's replica
// stdout/stderr lines, filtered by instance (a replica ID) and since, limited
// to the last Tail lines (<= 0: all kept lines), then followed while ctx lives
// when Follow is set. The channel is closed at the end. A follower more than
// 1024 lines behind loses lines. ErrNotFound if the function is absent.
func (m *Manager) Logs(ctx context.Context, req logs.Request) (<-chan logs.Message, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fn, err := m.lookupLocked(req.Name)
	if err != nil {
		return nil, err
	}
	if m.closed {
		return nil, ErrClosed
	}
	if req.Namespace != "" && req.Namespace != fn.spec.Namespace {
		return nil, fmt.Errorf("function %q in namespace %q: %w", fn.name, req.Namespace, ErrNotFound)
	}
	keep := func(l logLine) bool {
		if req.Instance != "" && l.instance != req.Instance {
			return false
		}
		if req.Since != nil && l.at.Before(*req.Since) {
			return false
		}
		return true
	}
	hist, sub := fn.logs.snapshot(req.Follow)
	var sel []logLine
	for _, l := range hist {
		if keep(l) {
			sel = append(sel, l)
		}
	}
	if req.Tail > 0 && len(sel) > req.Tail {
		sel = sel[len(sel)-req.Tail:]
	}
	name, ns := fn.name, fn.spec.Namespace
	msg := func(l logLine) logs.Message {
		return logs.Message{Name: name, Namespace: ns, Instance: l.instance, Timestamp: l.at, Text: l.text}
	}
	out := make(chan logs.Message)
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer close(out)
		if sub != nil {
			defer fn.logs.unsubscribe(sub)
		}
		for _, l := range sel {
			select {
			case out <- msg(l):
			case <-ctx.Done():
				return
			case <-m.ctx.Done():
				return
			}
		}
		if sub == nil {
			return
		}
		for {
			select {
			case l, ok := <-sub:
				if !ok {
					return
				}
				if !keep(l) {
					continue
				}
				select {
				case out <- msg(l):
				case <-ctx.Done():
					return
				case <-m.ctx.Done():
					return
				}
			case <-ctx.Done():
				return
			case <-m.ctx.Done():
				return
			}
		}
	}()
	return out, nil
}
