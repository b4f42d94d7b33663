// Command paycreds calls CyberSource's Generate Payment Credentials operation and decrypts
// the result.
//
//	paycreds demo                  run the whole flow against a local sandbox
//	paycreds get [flags] TOKEN_ID  generate payment credentials for a token
//	paycreds decrypt --key FILE    decrypt a saved JWE
//	paycreds sandbox [flags]       serve the sandbox on 127.0.0.1 for clients in any language
//	paycreds bench [flags]         measure calls per second, latency and CPU per call
//
// Run `paycreds COMMAND -h` for the flags of a command.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // an API, decryption or I/O error
	exitUsage = 2 // a flag, argument or configuration error
)

// env is the process environment, a map in tests.
type env func(name string) string

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, app *app, args []string) int
}

// app is the standard streams and environment of one run of the command.
type app struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv env

	// server names the server that returned an API error, such as "the server at
	// 127.0.0.1:8080". Empty means CyberSource.
	server string
}

func commands() []command {
	return []command{
		{"demo", "run the whole flow against a local sandbox with fresh keys", runDemo},
		{"get", "generate payment credentials for a token", runGet},
		{"decrypt", "decrypt a JWE saved from a 201 response", runDecrypt},
		{"sandbox", "serve the sandbox on 127.0.0.1 for clients in any language", runSandbox},
		{"bench", "load a local sandbox or --base-url and report throughput, latency and CPU", runBench},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &app{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, os.Args[1:])
	stop()
	os.Exit(code)
}

func run(ctx context.Context, a *app, args []string) int {
	if len(args) == 0 {
		a.usage(a.stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		a.usage(a.stdout)
		return exitOK
	case "version", "-version", "--version":
		fmt.Fprintln(a.stdout, "paycreds", version())
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, a, args[1:])
		}
	}
	fmt.Fprintf(a.stderr, "paycreds: unknown command %q\n\n", args[0])
	a.usage(a.stderr)
	return exitUsage
}

func (a *app) usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: paycreds COMMAND [flags] [arguments]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'paycreds COMMAND -h' for the flags of a command.")
}

// usageError is an error in flags or arguments; commands exit with exitUsage for it.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// fail prints err and returns the exit code for it.
func (a *app) fail(command string, err error) int {
	var usage *usageError
	if errors.As(err, &usage) {
		fmt.Fprintf(a.stderr, "paycreds %s: %s\n", command, usage.msg)
		fmt.Fprintf(a.stderr, "Run 'paycreds %s -h' for help.\n", command)
		return exitUsage
	}
	server := a.server
	if server == "" {
		server = "CyberSource"
	}
	printError(a.stderr, "paycreds "+command+": ", server, err)
	return exitError
}
