// Package inspect is devproxy's inspector: it keeps the last exchanges
// devproxy carried, within bounded memory, and serves a page and a JSON API
// to look at them, replay them and export them as HAR 1.2.
//
// The core calls the hooks of an Exchange on the request path; none of
// them buffers or waits, so a stream reaches the client write by write and
// a large download at full speed. A nil *Store (capture off) returns nil
// exchanges, whose hooks do nothing, so the core calls them
// unconditionally:
//
//	ServeHTTP, once the route is known:
//	    ex := store.Begin(r, inspect.Where{Kind: inspect.KindRoute, Route: "/api", Target: target})
//	    r.Body = ex.TeeRequestBody(r.Body)
//	recorder.WriteHeader(code >= 200), or the first Write:
//	    ex.ResponseHeader(code, rec.Header())
//	recorder.Write, after the write:
//	    ex.ResponseBody(p[:n])
//	ReverseProxy.ModifyResponse, for a 101 (the writer's header is empty
//	until after the hijack):
//	    ex.ResponseHeader(101, res.Header)
//	recorder.Hijack, around the connection it returns:
//	    up, down := ex.WSFrames(inspect.ToServer), ex.WSFrames(inspect.ToClient)
//	    conn.Read: up.Write(b[:n]); conn.Write: down.Write(b[:n])
//	the one failure writer:
//	    ex.Fail(what, hint)
//	ServeHTTP, at the very end (a WebSocket's copy has ended by then):
//	    ex.Finish(bytesWritten, nil)
//
// The handler of NewHandler is mounted at /__devproxy/ and answers:
//
//	GET  /__devproxy/                      the page (embedded, no build step)
//	GET  /__devproxy/api/requests          the list, newest first; filters q, route, status (2xx…5xx, failed), kind
//	DELETE /__devproxy/api/requests        forget everything (a site's inspector: that site's)
//	GET  /__devproxy/api/requests/{id}     one exchange with headers, query, bodies (base64 unless text), messages
//	POST /__devproxy/api/requests/{id}/replay   send it again through devproxy; a JSON body may override method, url, headers, body
//	GET  /__devproxy/api/events            server-sent events: new, update, done (the entry's summary), clear, reset
//	GET  /__devproxy/api/har               HAR 1.2 of all or the filtered entries; secrets masked unless ?secrets=1
//	POST /__devproxy/api/har               import a HAR to view it
//
// It answers its own origin only (Origin and Sec-Fetch-Site are checked on
// everything but a navigation to the page) and sends no CORS headers; the
// core's Host guard runs before it. Its own requests never reach Begin.
//
// Each named site is a separate origin: the core marks an exchange with
// its site (Where.Site) and passes a request to a site's inspector through
// ForSite, and that inspector then lists, shows, replays, streams, exports,
// imports and clears the site's exchanges only. The top-level origin
// (localhost) sees them all.
package inspect
