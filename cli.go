package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/devproxy/devproxy/devproxy/config"
	"github.com/devproxy/devproxy/devproxy/localca"
)

// Exit codes of every command.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// fail writes msg as devproxy's error line to stderr, then each hint that
// is not empty on a line of its own, and returns code for run to exit with.
func fail(stderr io.Writer, code int, msg string, hints ...string) int {
	fmt.Fprintf(stderr, "devproxy: error: %s\n", msg)
	for _, h := range hints {
		if h != "" {
			fmt.Fprintf(stderr, "devproxy: hint: %s\n", h)
		}
	}
	return code
}

// configFailed says why the config file could not be loaded. missingHint
// is what to try when there is no file at all, which differs by command.
func configFailed(stderr io.Writer, file string, err error, missingHint string) int {
	var cerrs config.Errors
	switch cae, isCA := errors.AsType[*localca.Error](err); {
	case isCA:
		// The local CA or a tls file: not the config file, even when
		// missing.
		return fail(stderr, exitFailure, "https: "+cae.Error(), cae.Hint)
	case errors.Is(err, fs.ErrNotExist):
		return fail(stderr, exitFailure, "no config file at "+file, missingHint)
	case errors.As(err, &cerrs):
		fmt.Fprintln(stderr, cerrs.Error())
		return fail(stderr, exitFailure, fmt.Sprintf("%s is not valid (%d %s)", file, len(cerrs), plural(len(cerrs), "problem", "problems")))
	}
	return fail(stderr, exitFailure, err.Error())
}

// newFlagSet returns the flag set of a command whose -h prints usage and
// then the flags.
func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fset := flag.NewFlagSet(name, flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.Usage = func() {
		fmt.Fprint(stderr, usage)
		fset.PrintDefaults()
	}
	return fset
}

// parseFlags parses args into fset. When it returns false the command ends
// with code: exitOK after -h, which printed the usage, exitUsage after a
// bad flag, which gets one error line and a hint rather than the whole
// usage: `unknown flag -lisen; did you mean -listen?`.
func parseFlags(fset *flag.FlagSet, args []string) (code int, ok bool) {
	stderr, usage := fset.Output(), fset.Usage
	// The flag package prints its error and the usage itself; quiet it
	// and say it in devproxy's words.
	fset.SetOutput(io.Discard)
	fset.Usage = func() {}
	err := fset.Parse(args)
	fset.SetOutput(stderr)
	fset.Usage = usage
	switch {
	case err == nil:
		return exitOK, true
	case errors.Is(err, flag.ErrHelp):
		usage()
		return exitOK, false
	}
	hint := "run " + fset.Name() + " -h for usage"
	if name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: "); ok {
		var known []string
		fset.VisitAll(func(f *flag.Flag) { known = append(known, f.Name) })
		msg := "unknown flag " + name
		if near := config.Nearest(strings.TrimLeft(name, "-"), known); near != "" {
			msg += "; did you mean -" + near + "?"
		}
		return fail(stderr, exitUsage, msg, hint), false
	}
	return fail(stderr, exitUsage, err.Error(), hint), false
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
