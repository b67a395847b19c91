// Package doctor answers two questions without a browser. Diagnose: may a
// page on one origin call a URL with fetch, and if not, exactly why (in the
// browser's own words) and how to fix it (Verdict, WriteVerdict, the fix
// snippets in fixes.go). CheckConfig: does every target of a config answer,
// and can devproxy listen on its address (Finding).
//
// It returns values and errors; the devproxy command parses the flags,
// prints and picks the exit codes.
package doctor
