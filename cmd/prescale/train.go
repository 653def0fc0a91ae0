package main

import (
	"context"
	"errors"
	"io"
)

// runTrain is a placeholder until its issue lands; replace this file.
func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("not built yet")
}
