package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/devproxy/devproxy/devproxy/config"
)

const schemaUsage = `devproxy schema prints the JSON Schema (draft 2020-12) of devproxy.yaml, made
from the same key tables the config parser reads. Editors use it to complete
and check keys as you type; devproxy init writes it next to the config.

Examples:
  devproxy schema > devproxy.schema.json
  then start devproxy.yaml with the line
  # yaml-language-server: $schema=./devproxy.schema.json

Usage:
  devproxy schema
`

// runSchema is devproxy schema.
func runSchema(args []string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("devproxy schema", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.Usage = func() { fmt.Fprint(stderr, schemaUsage) }
	if err := fset.Parse(args); err != nil {
		return usageExit(err)
	}
	if fset.NArg() > 0 {
		fmt.Fprintf(stderr, "devproxy: error: unexpected argument %q\ndevproxy: hint: devproxy schema takes no arguments\n", fset.Arg(0))
		return 2
	}
	if _, err := stdout.Write(config.Schema()); err != nil {
		fmt.Fprintf(stderr, "devproxy: error: %v\n", err)
		return 1
	}
	return 0
}
