package main

import (
	"flag"
	"io"
	"strings"
)

// newFlagSet returns a flag set that reports errors instead of exiting and prints its
// usage to w.
func newFlagSet(name, synopsis string, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(w)
	fs.Usage = func() {
		io.WriteString(fs.Output(), "Usage: paycreds "+name+" "+synopsis+"\n\nFlags:\n")
		fs.PrintDefaults()
	}
	return fs
}

// parseInterspersed parses flags that may come before or after the positional arguments,
// as in `paycreds get TOKEN_ID --json`. A "--" ends the flags. When help is requested, the
// usage goes to stdout so that it can be paged; errors go to the flag set's output.
func parseInterspersed(fs *flag.FlagSet, args []string, stdout io.Writer) ([]string, error) {
	if requestsHelp(args) {
		fs.SetOutput(stdout)
	}
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if len(args) > 0 && len(rest) < len(args) && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// requestsHelp reports whether args ask for help before any "--".
func requestsHelp(args []string) bool {
	for _, arg := range args {
		switch arg {
		case "--":
			return false
		case "-h", "-help", "--help", "--h":
			return true
		}
	}
	return false
}

// stringList is a flag that may be repeated.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(value string) error {
	*l = append(*l, value)
	return nil
}
