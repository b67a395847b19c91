package config

import (
	"strconv"
	"strings"
)

// Error is one problem in a config file.
type Error struct {
	// File is the config file as the user named it.
	File string
	// Line and Col locate the problem, counting from 1; 0 when unknown.
	Line, Col int
	// Field is the path of the offending field, e.g. "routes./api.target";
	// empty for problems that belong to no field, such as YAML syntax.
	Field string
	// Msg says what is wrong, in lower case without a final period.
	Msg string
	// Hint says how to fix it; empty when no single fix can be named.
	Hint string
}

// Error formats e as "file:line:col: field: msg", followed by a second line
// "  hint: …" when e has a hint.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
		if e.Col > 0 {
			b.WriteString(":" + strconv.Itoa(e.Col))
		}
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	if e.Hint != "" {
		b.WriteString("\n  hint: " + e.Hint)
	}
	return b.String()
}

// Errors is every problem found in one file, sorted by line then
// column.
type Errors []*Error

// Error formats each problem as Error does, one after the other.
func (e Errors) Error() string {
	s := make([]string, len(e))
	for i, err := range e {
		s[i] = err.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap lets errors.As find the individual problems.
func (e Errors) Unwrap() []error {
	errs := make([]error, len(e))
	for i, err := range e {
		errs[i] = err
	}
	return errs
}
