package main

import (
	"context"
	"errors"
	"io"
)

// runGen is a placeholder until its issue lands; replace this file.
func runGen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("not built yet")
}
