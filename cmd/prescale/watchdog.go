package main

import (
	"context"
	"errors"
	"io"
)

// runWatchdog is a placeholder until its issue lands; replace this file.
func runWatchdog(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("not built yet")
}
