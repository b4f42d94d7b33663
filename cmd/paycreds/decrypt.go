package main

import (
	"context"
	"errors"
	"flag"

	"github.com/paycreds/tms/tokenapi"
)

func runDecrypt(_ context.Context, a *app, args []string) int {
	var (
		keys      stringList
		legacyJWE bool
		opts      printOptions
	)
	fs := newFlagSet("decrypt", "--key FILE [flags] [JWE_FILE|-]", a.stderr)
	fs.Var(&keys, "key", "PEM file of an MLE private key, or KID=FILE; repeat for several keys (or $"+envMLEKeyFile+"); an encrypted key's password comes from $"+envMLEKeyPassword)
	fs.BoolVar(&legacyJWE, "legacy-jwe", false, "also accept JWEs encrypted with RSA-OAEP (SHA-1) and A128GCM")
	fs.BoolVar(&opts.json, "json", false, "print JSON instead of a table")
	fs.BoolVar(&opts.reveal, "reveal", false, "print full card numbers, cryptograms and security codes")
	positional, err := parseInterspersed(fs, args, a.stdout)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return exitUsage
	}
	if len(positional) > 1 {
		return a.fail("decrypt", usagef("expected at most one JWE file, got %d", len(positional)))
	}
	input := "-"
	if len(positional) == 1 {
		input = positional[0]
	}

	mleKeys, err := loadMLEKeys("--key", keys, a.getenv)
	if err != nil {
		return a.fail("decrypt", err)
	}
	if len(mleKeys) == 0 {
		return a.fail("decrypt", usagef("no MLE private key: pass --key FILE or set %s", envMLEKeyFile))
	}
	decrypter, err := tokenapi.NewDecrypter(mleKeys, tokenapi.DecrypterOptions{AllowLegacyAlgorithms: legacyJWE})
	if err != nil {
		return a.fail("decrypt", usagef("%v", err))
	}
	data, err := readInput(input, a.stdin)
	if err != nil {
		return a.fail("decrypt", usagef("reading the JWE: %v", err))
	}

	creds, err := decrypter.Decrypt(string(data))
	if err != nil {
		return a.fail("decrypt", err)
	}
	if err := printCredentials(a.stdout, creds, opts); err != nil {
		return a.fail("decrypt", err)
	}
	return exitOK
}
