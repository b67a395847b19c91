package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/devproxy/devproxy/devproxy/localca"
)

const trustUsage = `devproxy trust installs devproxy's local certificate authority where browsers
and tools look, so the https:// pages devproxy serves are trusted.

Examples:
  devproxy trust              create the CA if needed and install it
  devproxy trust -uninstall   remove it again

The CA lives in devproxy's folder under your config folder (ca.pem, and
ca-key.pem readable by you only). It goes into the NSS databases of Chromium
and Firefox (with certutil) and the system store; a step that cannot be done
prints the command to run instead.

Usage:
  devproxy trust [-uninstall]

Flags:
`

// runTrust is devproxy trust: it installs (or removes) the local CA and
// prints each store's outcome.
func runTrust(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fset := newFlagSet("devproxy trust", trustUsage, stderr)
	uninstall := fset.Bool("uninstall", false, "remove the CA from the stores instead of installing it")
	if code, ok := parseFlags(fset, args); !ok {
		return code
	}
	if fset.NArg() > 0 {
		return fail(stderr, exitUsage, fmt.Sprintf("unexpected argument %q", fset.Arg(0)), "run devproxy trust -h for usage")
	}
	open := localca.Open
	if *uninstall {
		open = localca.Load
	}
	ca, err := open(localca.Options{})
	var cerr *localca.Error
	switch {
	case *uninstall && errors.Is(err, fs.ErrNotExist) && errors.As(err, &cerr):
		fmt.Fprintf(stdout, "no local CA at %s: nothing to remove\n", cerr.Path)
		return exitOK
	case errors.As(err, &cerr):
		return fail(stderr, exitFailure, err.Error(), cerr.Hint)
	case err != nil:
		return fail(stderr, exitFailure, err.Error())
	}
	if ca.Created {
		fmt.Fprintf(stdout, "created the local CA %s\n", ca.CertPath)
	} else {
		fmt.Fprintf(stdout, "local CA %s\n", ca.CertPath)
	}
	steps := ca.Trust(ctx, localca.TrustOptions{})
	if *uninstall {
		steps = ca.Untrust(ctx, localca.TrustOptions{})
	}
	failed := 0
	for _, s := range steps {
		mark := "ok  "
		if !s.OK {
			mark = "FAIL"
			failed++
		}
		where := ""
		if s.Where != "" {
			where = " " + s.Where
		}
		fmt.Fprintf(stdout, "%s  %s%s: %s\n", mark, s.Store, where, s.Did)
		if s.Err != nil && s.Err.Error() != s.Did {
			fmt.Fprintf(stdout, "      error: %v\n", s.Err)
		}
		switch {
		case !s.OK && s.Command != "":
			fmt.Fprintf(stdout, "      run: %s\n", s.Command)
		case s.Command != "":
			fmt.Fprintf(stdout, "      %s\n", s.Command)
		}
	}
	if failed > 0 {
		return fail(stderr, exitFailure, fmt.Sprintf("%d of %d steps could not be done", failed, len(steps)),
			"run the commands above, then devproxy trust again to check")
	}
	return exitOK
}
