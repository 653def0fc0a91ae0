package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/prescale/prescale/plugin/async"
)

// runDLQ inspects the async dead-letter stream:
//
//	prescale dlq [--data .prescale | --nats URL] list|show SEQ|replay SEQ...|--all|purge
//
// With --data it connects to the running plugin's embedded NATS (its URL is
// in DIR/nats/nats.url); when no plugin runs, it opens the store itself.
func runDLQ(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dlq", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data", ".prescale", "the plugin's data directory (NATS store in DIR/nats)")
	natsURL := fs.String("nats", "", "external NATS URL with JetStream (overrides --data)")
	asJSON := fs.Bool("json", false, "print entries as JSON")
	all := fs.Bool("all", false, "replay: every dead letter")
	timeout := fs.Duration("timeout", 30*time.Second, "overall timeout")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `usage: prescale dlq [flags] <command>

commands:
  list           one line per dead letter: seq, function, call id, attempts, status, error
  show SEQ       the dead letter in full (JSON, body included)
  replay SEQ...  requeue dead letters (or --all) with their call ids, then delete them
  purge          delete every dead letter

flags:`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errors.New("missing command (list, show, replay, purge)")
	}
	cmd, rest := fs.Arg(0), fs.Args()[1:]
	// flags may follow the command too
	if err := fs.Parse(rest); err != nil {
		return err
	}
	rest = fs.Args()
	switch cmd {
	case "list", "purge":
		if len(rest) > 0 {
			return fmt.Errorf("%s takes no arguments, got %q", cmd, rest)
		}
	case "show":
		if len(rest) != 1 {
			return errors.New("show needs one sequence number")
		}
	case "replay":
		if *all == (len(rest) > 0) {
			return errors.New("replay needs sequence numbers or --all (not both)")
		}
	default:
		return fmt.Errorf("unknown command %q (list, show, replay, purge)", cmd)
	}
	seqs := make([]uint64, 0, len(rest))
	for _, a := range rest {
		n, err := strconv.ParseUint(a, 10, 64)
		if err != nil || n == 0 {
			return fmt.Errorf("sequence %q: must be a positive integer (see dlq list)", a)
		}
		seqs = append(seqs, n)
	}

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	nc, closeFn, err := dlqConnect(*natsURL, *dataDir)
	if err != nil {
		return err
	}
	defer closeFn()
	d, err := async.OpenDLQ(ctx, nc, async.DefaultNames())
	if err != nil {
		return err
	}

	switch cmd {
	case "list":
		entries, err := d.List(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(stdout).Encode(entries)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SEQ\tFAILED\tFUNCTION\tCALL ID\tATTEMPTS\tSTATUS\tERROR")
		for _, e := range entries {
			l := e.Letter
			msg := l.LastError
			if e.Err != "" {
				msg = e.Err
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\t%s\n", e.Seq, e.Stored.UTC().Format(time.RFC3339), l.Request.Function,
				l.Request.CallID, l.Attempts, l.LastStatus, oneLine(msg, 80))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%d dead letters\n", len(entries))
	case "show":
		e, err := d.Get(ctx, seqs[0])
		if err != nil {
			return err
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(e); err != nil {
			return err
		}
		if !*asJSON {
			fmt.Fprintf(stdout, "body (%d bytes):\n%s\n", len(e.Letter.Request.Body), e.Letter.Request.Body)
		}
	case "replay":
		if *all {
			entries, err := d.List(ctx)
			if err != nil {
				return err
			}
			for _, e := range entries {
				seqs = append(seqs, e.Seq)
			}
		}
		var errs []error
		for _, s := range seqs {
			req, err := d.Replay(ctx, s)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			fmt.Fprintf(stdout, "replayed %d: %s call %s\n", s, req.Function, req.CallID)
		}
		return errors.Join(errs...)
	case "purge":
		n, err := d.Purge(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "purged %d dead letters\n", n)
	}
	return nil
}

// dlqConnect reaches NATS: the given URL, the running plugin's embedded
// server, or (none running) an embedded server opened on the store itself.
func dlqConnect(natsURL, dataDir string) (*nats.Conn, func(), error) {
	if natsURL != "" {
		nc, err := async.Connect(natsURL, "prescale-dlq")
		if err != nil {
			return nil, nil, err
		}
		return nc, nc.Close, nil
	}
	store := filepath.Join(dataDir, "nats")
	if b, err := os.ReadFile(filepath.Join(store, async.URLFile)); err == nil {
		if nc, err := nats.Connect(strings.TrimSpace(string(b)), nats.Name("prescale-dlq"), nats.Timeout(2*time.Second)); err == nil {
			return nc, nc.Close, nil
		}
	}
	if _, err := os.Stat(store); err != nil {
		return nil, nil, fmt.Errorf("no NATS store at %s (is --data the plugin's data directory?): %w", store, err)
	}
	emb, err := async.StartEmbedded(store, "127.0.0.1", 0, async.NewToken())
	if err != nil {
		return nil, nil, err
	}
	nc, err := emb.Connect("prescale-dlq")
	if err != nil {
		emb.Shutdown()
		return nil, nil, err
	}
	return nc, func() { nc.Close(); emb.Shutdown() }, nil
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n-1] + "…"
	}
	return s
}
