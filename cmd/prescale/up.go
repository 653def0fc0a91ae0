package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/prescale/prescale/plugin"
)

// runUp runs the embedded OpenFaaS platform (the plugin) with a stack until
// ctx is cancelled (SIGINT/SIGTERM), then stops every replica.
//
//	prescale up -f stack.yml --port 8080 --data .prescale
func runUp(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := plugin.DefaultConfig()
	fs := flag.NewFlagSet("up", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.RegisterFlags(fs)
	verbose := fs.Bool("v", false, "verbose logs (debug level)")
	var demo demoConfig
	demo.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: prescale up [-f stack.yml] [--port 8080] [--data .prescale] [--demo] [flags]\n\n"+
			"Plain `prescale up` runs the platform with the stack; --demo (make up) also replays a\n"+
			"bursty trace window against hello-python and streams every scaler decision.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if err := errors.Join(cfg.Validate(), demo.validate()); err != nil {
		return err
	}
	stdout = &lockedWriter{w: stdout} // the demo's goroutines print too
	// The platform's log goes to DATA/prescale.log, so the terminal shows
	// what a person reads during a demo; -v shows it here, at debug level.
	level, logw, logFile := slog.LevelInfo, io.Writer(stderr), ""
	if *verbose {
		level = slog.LevelDebug
	} else {
		f, err := openLogFile(cfg.DataDir)
		if err != nil {
			return err
		}
		defer f.Close()
		logw, logFile = f, f.Name()
	}
	logger := slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: level}))

	p, err := plugin.New(cfg, logger)
	if err != nil {
		return err
	}
	defer func() {
		// Ctrl-C already cancelled ctx: stop with a fresh, bounded one.
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := p.Close(cctx); err != nil {
			fmt.Fprintf(stderr, "prescale up: shutdown: %v\n", err)
		}
		fmt.Fprintln(stdout, "prescale up: stopped")
	}()

	if logFile != "" {
		fmt.Fprintf(stdout, "platform log: %s (-v shows it here)\n", logFile)
	}
	fmt.Fprintf(stdout, "gateway: %s (building %s…)\n", p.URL(), cfg.StackFile)
	if err := p.Start(ctx); err != nil {
		if logFile != "" {
			return fmt.Errorf("%w (platform log: %s)", err, logFile)
		}
		return err
	}
	printLogin(stdout, p)
	fmt.Fprintf(stdout, "UI: %s (user %s, the same password)\n", p.UIURL(), p.User())
	printFunctions(ctx, stdout, p)
	// The demo's goroutines stop with ctx; they are waited for before the
	// deferred Close stops the platform.
	dctx, stopDemo := context.WithCancel(ctx)
	defer stopDemo()
	wait, err := afterStart(dctx, p, demo, stdout, stderr)
	if err != nil {
		return err
	}
	defer wait()
	defer stopDemo()
	fmt.Fprintln(stdout, "serving; Ctrl-C stops every process")
	return p.Wait(ctx)
}

// afterStart runs once the platform serves and the stack is deployed: it
// prints how to follow the decisions and, with --demo, replays a trace
// against the workload while streaming the scaler's decisions (demo.go).
// Its goroutines end when ctx ends; wait blocks until they have.
func afterStart(ctx context.Context, p *plugin.Platform, demo demoConfig, stdout, stderr io.Writer) (wait func(), err error) {
	return startDemo(ctx, p, demo, stdout, stderr)
}

func printLogin(w io.Writer, p *plugin.Platform) {
	if p.PasswordCreated() {
		fmt.Fprintf(w, "gateway credentials created; log in with:\n  %s\n", p.LoginCommand())
		return
	}
	fmt.Fprintf(w, "gateway user %s; password in %s; log in with:\n  cat %s | faas-cli login -u %s --password-stdin -g %s\n",
		p.User(), p.PasswordFile(), p.PasswordFile(), p.User(), p.URL())
}

// printFunctions waits briefly for replicas to become ready, then prints
// each function's state.
func printFunctions(ctx context.Context, w io.Writer, p *plugin.Platform) {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		ready := true
		for _, st := range p.Functions() {
			if st.AvailableReplicas < st.Replicas {
				ready = false
			}
		}
		if ready {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	fns := p.Functions()
	if len(fns) == 0 {
		fmt.Fprintln(w, "no functions deployed (deploy with: faas-cli deploy -f stack.yml -g "+p.URL()+")")
		return
	}
	fmt.Fprintf(w, "%-16s %-32s %8s %9s\n", "FUNCTION", "IMAGE", "REPLICAS", "AVAILABLE")
	for _, st := range fns {
		fmt.Fprintf(w, "%-16s %-32s %8d %9d\n", st.Spec.Name, st.Spec.Deployment.Image, st.Replicas, st.AvailableReplicas)
	}
}

// openLogFile opens DATA/prescale.log for appending (creating DATA).
func openLogFile(dataDir string) (*os.File, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dataDir, "prescale.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("platform log: %w", err)
	}
	return f, nil
}
