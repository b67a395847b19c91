package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/devproxy/devproxy/devproxy/config"
	"github.com/devproxy/devproxy/devproxy/importer"
)

const initUsage = `devproxy init writes a devproxy.yaml for a frontend project: it detects the dev
server from package.json and imports the proxy rules already there (Vite
server.proxy, Create React App's "proxy" and src/setupProxy.js, Angular's proxy
config, webpack-dev-server's devServer.proxy, Next.js rewrites to other hosts).
JavaScript configs are read with the project's own Node and packages. It also
writes devproxy.schema.json, so editors complete and check the config.

Examples:
  devproxy init              import the project in this folder
  devproxy init ./web        import the project in ./web
  devproxy init -print       print the config instead of writing it
  devproxy init -force       replace an existing devproxy.yaml

Usage:
  devproxy init [DIR] [flags]

Flags:
`

// schemaFile is the schema init writes next to the config.
const schemaFile = "devproxy.schema.json"

// runInit is devproxy init.
func runInit(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fset := newFlagSet("devproxy init", initUsage, stderr)
	force := fset.Bool("force", false, "replace an existing devproxy.yaml and "+schemaFile)
	printOnly := fset.Bool("print", false, "print the config on stdout and write nothing")
	node := fset.String("node", "", "the node `program` that reads JavaScript configs (default: node in PATH)")
	// Flags may come after DIR, as the usage shows.
	if code, ok := parseFlags(fset, args); !ok {
		return code
	}
	dir := "."
	if fset.NArg() > 0 {
		dir = fset.Arg(0)
		if code, ok := parseFlags(fset, fset.Args()[1:]); !ok {
			return code
		}
		if fset.NArg() > 0 {
			return fail(stderr, exitUsage, fmt.Sprintf("unexpected argument %q", fset.Arg(0)), "devproxy init takes one folder")
		}
	}
	res, err := importer.Import(ctx, dir, importer.Options{Node: *node})
	if err != nil {
		return fail(stderr, exitFailure, err.Error())
	}
	file := filepath.Join(dir, "devproxy.yaml")
	yaml := res.YAML(schemaFile)
	// What init writes must pass devproxy check; a failure here is a bug
	// of the importer, shown rather than written.
	if _, err := config.Parse(file, yaml, func(string) (string, bool) { return "", false }); err != nil {
		fmt.Fprintf(stderr, "%s\n%v\n", yaml, err)
		return fail(stderr, exitFailure, "the imported config is not valid", "please report this with the project's proxy config")
	}
	if *printOnly {
		stdout.Write(yaml)
		writeSummary(stderr, res, "")
		return exitOK
	}
	if err := writeNew(file, yaml, *force); err != nil {
		return writeFailed(stderr, file, err)
	}
	schemaPath := filepath.Join(dir, schemaFile)
	schemaNote := ""
	if err := writeNew(schemaPath, config.Schema(), *force); errors.Is(err, fs.ErrExist) {
		if old, _ := os.ReadFile(schemaPath); !bytes.Equal(old, config.Schema()) {
			schemaNote = fmt.Sprintf("kept the existing %s, which differs from this devproxy's; -force replaces it", schemaPath)
		}
	} else if err != nil {
		return writeFailed(stderr, schemaPath, err)
	}
	fmt.Fprintf(stdout, "wrote %s and %s\n", file, schemaPath)
	writeSummary(stdout, res, schemaNote)
	return 0
}

// writeNew writes data to a new file, or replaces one when force is set.
func writeNew(file string, data []byte, force bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(file, flags, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func writeFailed(stderr io.Writer, file string, err error) int {
	if errors.Is(err, fs.ErrExist) {
		return fail(stderr, exitFailure, file+" already exists", "run devproxy init -print to see what it would write, or -force to replace it")
	}
	return fail(stderr, exitFailure, err.Error())
}

// writeSummary lists what was imported and the notes.
func writeSummary(w io.Writer, res *importer.Result, extra string) {
	p := res.Project
	if p.Tool != "" {
		fmt.Fprintf(w, "dev server: %s", p.Tool)
		if p.Framework != "" {
			fmt.Fprintf(w, " (%s)", p.Framework)
		}
		if p.Port > 0 {
			fmt.Fprintf(w, " on port %d (%s)", p.Port, p.PortFrom)
		}
		fmt.Fprintln(w)
	}
	n := 0
	for _, r := range res.Routes {
		if !r.Disabled {
			n++
		}
	}
	fmt.Fprintf(w, "imported %d %s\n", n, plural(n, "route", "routes"))
	for _, r := range res.Routes {
		state := ""
		if r.Disabled {
			state = " (commented out)"
		}
		fmt.Fprintf(w, "  %s -> %s%s   from %s\n", r.Path, r.Target, state, r.From)
	}
	if fb := res.Fallback; fb != nil {
		fmt.Fprintf(w, "  frontend.fallback_api -> %s   from %s\n", fb.Target, fb.From)
	}
	if len(res.Notes) > 0 || extra != "" {
		fmt.Fprintln(w, "notes:")
		for _, note := range res.Notes {
			fmt.Fprintf(w, "  - %s\n", note)
		}
		if extra != "" {
			fmt.Fprintf(w, "  - %s\n", extra)
		}
	}
	switch {
	case p.Tool != "" && p.Command != "":
		fmt.Fprintf(w, "next: run devproxy; it starts the dev server (%s)\n", p.Command)
	case p.Command != "":
		fmt.Fprintf(w, "next: start the dev server (%s), then run devproxy\n", p.Command)
	}
}
