package doctor

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	"github.com/devproxy/devproxy/internal/printable"
)

// WriteVerdict writes v for people: what was sent and seen, the verdict
// with the browser's wording, why, and the fixes.
func WriteVerdict(w io.Writer, v *Verdict) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s from origin %s\n", v.Method, v.URL, v.Origin)
	writeExchange := func(label string, ex *Exchange) {
		if ex == nil {
			return
		}
		if ex.Error != "" {
			fmt.Fprintf(&b, "  %-10s %s → %s\n", label, ex.Method, ex.Error)
			return
		}
		fmt.Fprintf(&b, "  %-10s %s → %d %s\n", label, ex.Method, ex.Status, http.StatusText(ex.Status))
		names := make([]string, 0, len(ex.Headers))
		for name := range ex.Headers {
			names = append(names, name)
		}
		sort.Strings(names)
		if len(names) == 0 {
			fmt.Fprintf(&b, "  %-10s (no CORS headers)\n", "")
		}
		for _, name := range names {
			for _, val := range ex.Headers[name] {
				fmt.Fprintf(&b, "  %-10s %s: %s\n", "", name, printable.Escape(val))
			}
		}
	}
	writeExchange("preflight", v.Preflight)
	writeExchange("request", v.Request)
	fmt.Fprintf(&b, "%s: %s\n", v.Verdict, v.Reason)
	if v.Mistake != "" {
		fmt.Fprintf(&b, "  why:  %s\n", v.Mistake)
	}
	if v.Want != "" {
		fmt.Fprintf(&b, "  send: %s\n", v.Want)
	}
	for _, n := range v.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	if len(v.Fixes) > 0 {
		b.WriteString("fix it in:\n")
		for _, f := range v.Fixes {
			fmt.Fprintf(&b, "  %s\n", f.Where)
			for line := range strings.SplitSeq(f.Text, "\n") {
				fmt.Fprintf(&b, "    %s\n", line)
			}
		}
	}
	_, _ = io.WriteString(w, b.String())
}
