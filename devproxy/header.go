package devproxy

import "net/http"

// headerGet is h.Get(key) for a key already in canonical form, as every
// literal name devproxy looks up is: Get canonicalizes its key each time,
// a scan of the name that some twenty lookups per proxied request paid
// for (2% of devproxy's CPU on a page load). TestHeaderGetKeysAreCanonical
// holds the call sites to canonical names.
func headerGet(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}
