package main

import (
	"io"
	"log/slog"

	"github.com/paycreds/tms/tokenapi"
)

// maxRetries is the largest --retries, so that a call makes at most 10 attempts.
const maxRetries = 9

// reliabilityOptions returns the client options of --retries and --verbose. Verbose
// output goes to stderr, so that stdout keeps only the credentials.
func (f *getFlags) reliabilityOptions(stderr io.Writer) ([]tokenapi.Option, error) {
	var opts []tokenapi.Option
	switch {
	case f.retries < 0 || f.retries > maxRetries:
		return nil, usagef("--retries is %d; use 0 for no retries, or up to %d", f.retries, maxRetries)
	case f.retries > 0:
		opts = append(opts, tokenapi.WithRetry(tokenapi.RetryPolicy{MaxAttempts: f.retries + 1}))
	}
	if f.verbose {
		logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
		opts = append(opts, tokenapi.WithLogger(logger))
	}
	return opts, nil
}
