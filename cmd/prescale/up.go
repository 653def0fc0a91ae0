package main

import (
	"context"
	"errors"
	"io"
)

// runUp is a placeholder until its issue lands; replace this file.
func runUp(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("not built yet")
}
