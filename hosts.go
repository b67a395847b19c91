package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/devproxy/devproxy/devproxy"
	"github.com/devproxy/devproxy/devproxy/config"
	"github.com/devproxy/devproxy/internal/hostsfile"
)

const hostsUsage = `devproxy hosts adds the names devproxy serves (the frontend's name and the
sites) to /etc/hosts, for the browsers and tools that do not resolve
*.localhost to this machine by themselves (Safari, older curl, some Node
resolvers). devproxy itself never needs them: it reaches its targets on
127.0.0.1 and ::1.

Examples:
  sudo devproxy hosts           add this project's names
  sudo devproxy hosts -remove   remove them again
  devproxy hosts -file hosts    edit another file

The lines go between "# devproxy begin CONFIG" and "# devproxy end CONFIG",
one block per config file; other lines are never changed. Without the
right to write the file, devproxy prints the lines to add.

Usage:
  devproxy hosts [flags]

Flags:
`

// runHosts is devproxy hosts: it writes (or removes) the config's block of
// the hosts file.
func runHosts(args []string, stdout, stderr io.Writer) int {
	fset := newFlagSet("devproxy hosts", hostsUsage, stderr)
	configFile := fset.String("config", "devproxy.yaml", "the config `file`")
	name := fset.String("name", "", "the frontend's `NAME`, as devproxy -name gives it")
	file := fset.String("file", "/etc/hosts", "the hosts `file` to edit")
	remove := fset.Bool("remove", false, "remove the config's lines instead of adding them")
	if code, ok := parseFlags(fset, args); !ok {
		return code
	}
	if fset.NArg() > 0 {
		return fail(stderr, exitUsage, fmt.Sprintf("unexpected argument %q", fset.Arg(0)), "run devproxy hosts -h for usage")
	}
	if *name != "" {
		if _, problem, hint := config.CheckName(*name); problem != "" {
			return fail(stderr, exitUsage, "-name "+problem, hint)
		}
	}
	cfg, err := config.Load(*configFile, nil)
	noFile := errors.Is(err, fs.ErrNotExist)
	if noFile {
		// devproxy -- npm run dev needs no file: the name is the flag's
		// or the checkout's.
		cfg, err = config.Parse(*configFile, nil, nil)
	}
	if err != nil {
		return configFailed(stderr, *configFile, err, "")
	}
	key, err := filepath.Abs(*configFile)
	if err != nil {
		return fail(stderr, exitFailure, err.Error())
	}
	var names []string
	if !*remove {
		var wildcards []string
		names, wildcards, err = devproxy.Names(cfg, *name, noFile)
		if err != nil {
			return fail(stderr, exitUsage, err.Error())
		}
		for _, w := range wildcards {
			fmt.Fprintf(stderr, "devproxy: warning: %s cannot go in a hosts file, which lists single names; add the names you use under sites: too\n", w)
		}
		if len(names) == 0 {
			return fail(stderr, exitFailure, "no names to add: the config has no name and no sites",
				"add name: or sites: to the config, or give -name")
		}
	}
	data, err := os.ReadFile(*file)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fail(stderr, exitFailure, "cannot read "+*file+": "+pathErr(err))
	}
	out, changed := hostsfile.Update(data, key, names)
	switch {
	case !changed && *remove:
		fmt.Fprintf(stdout, "%s has no lines of %s: nothing to remove\n", *file, key)
		return exitOK
	case !changed:
		fmt.Fprintf(stdout, "%s already lists %s\n", *file, strings.Join(names, " "))
		return exitOK
	}
	perm := fs.FileMode(0o644)
	if st, err := os.Stat(*file); err == nil {
		perm = st.Mode().Perm()
	}
	// Written in place, not renamed over: the file keeps its owner, and
	// a hosts file that is a mount (containers) stays one.
	if err := os.WriteFile(*file, out, perm); err != nil {
		hint := "run it as root: sudo devproxy hosts -remove"
		if !*remove {
			hint = "run it as root (sudo devproxy hosts), or add these lines to " + *file + " yourself:\n" +
				strings.Join(hostsfile.Lines(names), "\n")
		}
		return fail(stderr, exitFailure, "cannot write "+*file+": "+pathErr(err), hint)
	}
	if *remove {
		fmt.Fprintf(stdout, "removed the lines of %s from %s\n", key, *file)
	} else {
		fmt.Fprintf(stdout, "%s: %s now resolve to 127.0.0.1 and ::1\n", *file, strings.Join(names, " "))
	}
	return exitOK
}

// pathErr is err without the path, which the message already names.
func pathErr(err error) string {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return pe.Err.Error()
	}
	return err.Error()
}
