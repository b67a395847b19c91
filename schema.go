package main

import (
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
	fset := newFlagSet("devproxy schema", schemaUsage, stderr)
	if code, ok := parseFlags(fset, args); !ok {
		return code
	}
	if fset.NArg() > 0 {
		return fail(stderr, exitUsage, fmt.Sprintf("unexpected argument %q", fset.Arg(0)), "devproxy schema takes no arguments")
	}
	if _, err := stdout.Write(config.Schema()); err != nil {
		return fail(stderr, exitFailure, err.Error())
	}
	return exitOK
}
