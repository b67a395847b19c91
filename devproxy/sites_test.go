package devproxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/devproxy/devproxy/internal/status"
)

// namedClient sends every request to devproxy's address at p.host, as a
// browser does with a *.localhost name, whatever name the URL has. jar,
// when not nil, keeps the cookies.
func namedClient(p *testProxy, jar http.CookieJar) *http.Client {
	var d net.Dialer
	tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, p.host)
	}}
	return &http.Client{Transport: tr, Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// siteURL is the URL of path on the site named host, on p's port.
func (p *testProxy) siteURL(host, path string) string {
	_, port, _ := net.SplitHostPort(p.host)
	return "http://" + net.JoinHostPort(host, port) + path
}

// sitesProxy serves a config with a top-level frontend and four sites, each
// backend answering with its name.
func sitesProxy(t *testing.T) *testProxy {
	t.Helper()
	config := fmt.Sprintf(`frontend: %s
sites:
  shop.localhost:
    frontend: %s
    routes:
      /api: %s
  admin.localhost:
    frontend: %s
  "*.tenants.localhost":
    frontend: %s
  "*.a.tenants.localhost":
    frontend: %s
`, namedBackend(t, "top").URL, namedBackend(t, "shop").URL, namedBackend(t, "shop-api").URL,
		namedBackend(t, "admin").URL, namedBackend(t, "tenants").URL, namedBackend(t, "deep").URL)
	return startProxy(t, config, nil)
}

func TestSitesRouteByHost(t *testing.T) {
	p := sitesProxy(t)
	c := namedClient(p, nil)
	_, port, _ := net.SplitHostPort(p.host)
	for _, tc := range []struct {
		host, path string
		want       string
	}{
		{"localhost", "/", "top"},
		{"127.0.0.1", "/", "top"},
		{"shop.localhost", "/", "shop"},
		{"shop.localhost", "/api/orders", "shop-api"},
		{"SHOP.localhost.", "/cart", "shop"},
		// A route of one site is no route of another.
		{"admin.localhost", "/api/orders", "admin"},
		{"x.tenants.localhost", "/", "tenants"},
		// The longest wildcard wins; a wildcard is not its own name.
		{"y.a.tenants.localhost", "/", "deep"},
		{"a.tenants.localhost", "/", "tenants"},
	} {
		res, body := fetch(t, c, "GET", "http://"+net.JoinHostPort(tc.host, port)+tc.path, nil, nil)
		if res.StatusCode != 200 || body != tc.want {
			t.Errorf("GET %s with Host %s: got %d %q, want 200 %q", tc.path, tc.host, res.StatusCode, body, tc.want)
		}
	}
}

func TestSitesUnknownNameListsSites(t *testing.T) {
	p := sitesProxy(t)
	c := namedClient(p, nil)
	for _, host := range []string{"tenants.localhost", "other.localhost", "shop.localhost.evil.localhost"} {
		u := p.siteURL(host, "/")
		res, body := fetch(t, c, "GET", u, nil, http.Header{"Accept": {"text/html"}, "Sec-Fetch-Mode": {"navigate"}})
		link := `href="` + p.siteURL("shop.localhost", "/")
		if res.StatusCode != http.StatusNotFound || !strings.Contains(body, "no site is named") || !strings.Contains(body, strings.TrimSuffix(link, "/")) ||
			!strings.Contains(body, "<code>*.tenants.localhost</code>") {
			t.Errorf("page load of %s: got %d %s, want 404 with links to the sites", u, res.StatusCode, body)
		}
		for _, app := range []string{">top<", ">shop<", ">admin<"} {
			if strings.Contains(body, app+"\n") {
				t.Errorf("page load of %s: body has another site's app %s", u, app)
			}
		}

		res, body = fetch(t, c, "GET", p.siteURL(host, "/api/orders"), nil, http.Header{"Accept": {"application/json"}})
		var got struct {
			Error string
			Sites []status.Site
		}
		if err := json.Unmarshal([]byte(body), &got); err != nil || res.StatusCode != http.StatusNotFound || len(got.Sites) != 4 ||
			got.Sites[0].Name != "shop.localhost" || got.Sites[0].URL != strings.TrimSuffix(p.siteURL("shop.localhost", "/"), "/") ||
			got.Sites[2].URL != "" {
			t.Errorf("fetch on %s: got %d %s, want 404 with the 4 sites in JSON", host, res.StatusCode, body)
		}

		res, body = fetch(t, c, "GET", p.siteURL(host, "/app.js"), nil, http.Header{"Sec-Fetch-Dest": {"script"}})
		if res.StatusCode != http.StatusNotFound || !strings.Contains(body, "  http://shop.localhost:") {
			t.Errorf("script load on %s: got %d %q, want 404 listing the sites as text", host, res.StatusCode, body)
		}
	}
}

func TestSitesTopLevelWithoutFrontendListsSites(t *testing.T) {
	config := fmt.Sprintf("sites:\n  shop.localhost: {frontend: %s}\n", namedBackend(t, "shop").URL)
	p := startProxy(t, config, nil)
	c := namedClient(p, nil)
	res, body := fetch(t, c, "GET", p.siteURL("localhost", "/"), nil, http.Header{"Accept": {"text/html"}})
	if res.StatusCode != 200 || !strings.Contains(body, `href="`+strings.TrimSuffix(p.siteURL("shop.localhost", "/"), "/")) {
		t.Errorf("GET / on localhost: got %d %s, want 200 with a link to shop.localhost", res.StatusCode, body)
	}
	res, body = fetch(t, c, "GET", p.siteURL("localhost", "/x"), nil, nil)
	if res.StatusCode != http.StatusNotFound || !strings.Contains(body, `"sites"`) {
		t.Errorf("GET /x on localhost: got %d %s, want 404 with the sites", res.StatusCode, body)
	}
	if got := p.log.waitFor(t, "➜ "+strings.TrimSuffix(p.siteURL("shop.localhost", "/"), "/")); !strings.Contains(got, "localhost lists the sites") {
		t.Errorf("banner:\n%s\nwant the top-level row saying localhost lists the sites", got)
	}
}

// TestSitesAreSeparateOrigins: a page on shop.localhost is another origin
// than admin.localhost for every cross-site check, as for the browser.
func TestSitesAreSeparateOrigins(t *testing.T) {
	ws, _ := echoingWS(t)
	config := fmt.Sprintf(`sites:
  shop.localhost:
    frontend: %s
    routes:
      /api:
        target: %s
        cors: {origins: "http://trusted.localhost:3000"}
  admin.localhost:
    frontend: %s
    routes:
      /api: %s
`, ws.URL, namedBackend(t, "shop-api").URL, ws.URL, namedBackend(t, "admin-api").URL)
	p := startProxy(t, config, nil)
	c := namedClient(p, nil)
	_, port, _ := net.SplitHostPort(p.host)
	shop := "http://shop.localhost:" + port
	admin := "http://admin.localhost:" + port
	for _, tc := range []struct {
		name, method, url string
		header            http.Header
		want              int
	}{
		{"POST from a page of shop to admin", "POST", admin + "/api/users", http.Header{"Origin": {shop}, "Sec-Fetch-Site": {"same-site"}}, 403},
		{"POST from shop to admin, no Sec-Fetch-Site", "POST", admin + "/api/users", http.Header{"Origin": {shop}}, 403},
		{"POST from admin to admin", "POST", admin + "/api/users", http.Header{"Origin": {admin}, "Sec-Fetch-Site": {"same-origin"}}, 200},
		{"POST from shop to shop", "POST", shop + "/api/users", http.Header{"Origin": {shop}, "Sec-Fetch-Site": {"same-origin"}}, 200},
		// shop's cors origins are trusted by shop, not by admin.
		{"POST from shop's cors origin to admin", "POST", admin + "/api/users", http.Header{"Origin": {"http://trusted.localhost:3000"}, "Sec-Fetch-Site": {"same-site"}}, 403},
		{"POST from shop's cors origin to shop", "POST", shop + "/api/users", http.Header{"Origin": {"http://trusted.localhost:3000"}, "Sec-Fetch-Site": {"same-site"}}, 200},
		{"script of admin loaded by shop", "GET", admin + "/src/main.js", http.Header{"Sec-Fetch-Mode": {"no-cors"}, "Sec-Fetch-Dest": {"script"},
			"Sec-Fetch-Site": {"same-site"}, "Referer": {shop + "/"}}, 403},
	} {
		res, body := fetch(t, c, tc.method, tc.url, nil, tc.header)
		if res.StatusCode != tc.want {
			t.Errorf("%s: status = %d, want %d; body %s", tc.name, res.StatusCode, tc.want, body)
		}
	}

	for _, tc := range []struct {
		host, origin string
		want         int
	}{
		{"admin.localhost", shop, http.StatusForbidden},
		{"admin.localhost", admin, http.StatusSwitchingProtocols},
		{"shop.localhost", shop, http.StatusSwitchingProtocols},
	} {
		conn, err := net.Dial("tcp", p.host)
		must(t, err)
		wc, res, err := wsHandshake(conn, "http://"+tc.host+":"+port+"/hmr", http.Header{"Origin": {tc.origin}})
		if err != nil {
			t.Fatalf("WebSocket to %s from %s: %v", tc.host, tc.origin, err)
		}
		if res.StatusCode != tc.want {
			t.Errorf("WebSocket to %s from %s: status = %d, want %d", tc.host, tc.origin, res.StatusCode, tc.want)
		}
		if wc != nil {
			wc.Close()
		}
		conn.Close()
	}
}

// TestSitesCookiesStayOnTheirSite: a cookie the shop's API sets for the
// target's host (localhost) stays on shop.localhost in a browser's jar.
func TestSitesCookiesStayOnTheirSite(t *testing.T) {
	api := namedHandlerServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/login" {
			w.Header().Add("Set-Cookie", "sid=shop-secret; Domain=localhost; Path=/")
		}
		fmt.Fprintf(w, "cookie=%q", r.Header.Get("Cookie"))
	}))
	u, _ := url.Parse(api)
	target := "http://localhost:" + u.Port()
	config := fmt.Sprintf("sites:\n  shop.localhost:\n    routes: {/api: %s}\n  admin.localhost:\n    routes: {/api: %s}\n", target, target)
	p := startProxy(t, config, nil)
	jar, err := cookiejar.New(nil)
	must(t, err)
	c := namedClient(p, jar)
	res, _ := fetch(t, c, "GET", p.siteURL("shop.localhost", "/api/login"), nil, nil)
	if sc := res.Header.Get("Set-Cookie"); strings.Contains(strings.ToLower(sc), "domain") {
		t.Errorf("Set-Cookie = %q, want no Domain, so the cookie stays on its site", sc)
	}
	if _, body := fetch(t, c, "GET", p.siteURL("shop.localhost", "/api/me"), nil, nil); body != `cookie="sid=shop-secret"` {
		t.Errorf("shop.localhost/api/me: got %s, want the shop's cookie", body)
	}
	if _, body := fetch(t, c, "GET", p.siteURL("admin.localhost", "/api/me"), nil, nil); body != `cookie=""` {
		t.Errorf("admin.localhost/api/me: got %s, want no cookie of the shop", body)
	}
}

func TestSitesHotReload(t *testing.T) {
	shop, shop2, admin := namedBackend(t, "shop").URL, namedBackend(t, "shop2").URL, namedBackend(t, "admin").URL
	p := startProxy(t, fmt.Sprintf("sites:\n  shop.localhost: {frontend: %s}\n  old.localhost: {frontend: %s}\n", shop, shop), nil)
	c := namedClient(p, nil)
	want := func(host string, status int, body string) {
		t.Helper()
		res, got := fetch(t, c, "GET", p.siteURL(host, "/"), nil, nil)
		if res.StatusCode != status || body != "" && got != body {
			t.Errorf("GET / on %s: got %d %q, want %d %q", host, res.StatusCode, got, status, body)
		}
	}
	want("shop.localhost", 200, "shop")
	want("old.localhost", 200, "shop")
	want("admin.localhost", 404, "")

	saveByRename(t, p.file, fmt.Sprintf("sites:\n  shop.localhost:\n    frontend: %s\n    routes: {/api: %s}\n  admin.localhost: {frontend: %s}\n", shop2, admin, admin))
	if err := p.waitReload(t); err != nil {
		t.Fatal(err)
	}
	want("shop.localhost", 200, "shop2")
	want("admin.localhost", 200, "admin")
	want("old.localhost", 404, "")
	if res, body := fetch(t, c, "GET", p.siteURL("shop.localhost", "/api/x"), nil, nil); body != "admin" {
		t.Errorf("GET /api/x on shop.localhost after the reload: got %d %q, want the new route's admin", res.StatusCode, body)
	}
	p.log.waitFor(t, "config reloaded: shop.localhost: added /api → "+admin, "shop.localhost: frontend "+shop+" → "+shop2,
		"added site admin.localhost", "removed site old.localhost")

	// A bad name keeps every site as it was.
	saveByRename(t, p.file, "sites:\n  shop.localhost:8080: {frontend: ./dist}\n")
	if err := p.waitReload(t); err == nil || !strings.Contains(err.Error(), `sites.shop.localhost:8080: "shop.localhost:8080" has a port`) {
		t.Errorf("reload with a port in a site's name: %v, want the config error", err)
	}
	want("admin.localhost", 200, "admin")
}

func TestSitesStatusAndBanner(t *testing.T) {
	p := sitesProxy(t)
	log := p.log.waitFor(t, "➜ "+strings.TrimSuffix(p.siteURL("admin.localhost", "/"), "/"))
	for _, want := range []string{
		"➜ " + strings.TrimSuffix(p.siteURL("shop.localhost", "/"), "/") + "\n    /api",
		"➜ " + strings.TrimSuffix(p.siteURL("*.tenants.localhost", "/"), "/") + "\n",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("banner:\n%s\nwant %q", log, want)
		}
	}
	res, body := fetch(t, namedClient(p, nil), "GET", p.siteURL("shop.localhost", status.Path), nil, nil)
	var st status.Status
	if err := json.Unmarshal([]byte(body), &st); err != nil || res.StatusCode != 200 || len(st.Sites) != 4 {
		t.Fatalf("GET %s: got %d %s, want the status with 4 sites", status.Path, res.StatusCode, body)
	}
	if s := st.Sites[0]; s.Name != "shop.localhost" || len(s.Routes) != 1 || s.Routes[0].Path != "/api" || s.Frontend == "" {
		t.Errorf("status site 0 = %+v, want shop.localhost with its /api route and frontend", s)
	}
}

func TestSitesHTTPSCertificates(t *testing.T) {
	p := startHTTPSProxy(t, "allowed_hosts: [shop.test]\nsites:\n  shop.localhost: {routes: {/x: {respond: {body: shop}}}}\n  shop.test: {routes: {/x: {respond: {body: test}}}}\n")
	for _, name := range []string{"shop.localhost", "shop.test"} {
		c, err := tls.Dial("tcp", p.host, &tls.Config{RootCAs: p.roots, ServerName: name})
		if err != nil {
			t.Errorf("handshake for %s: %v, want a trusted certificate", name, err)
			continue
		}
		if err := c.ConnectionState().PeerCertificates[0].VerifyHostname(name); err != nil {
			t.Errorf("certificate for %s: %v", name, err)
		}
		c.Close()
	}
	tr := p.h1.Transport.(*http.Transport).Clone()
	var d net.Dialer
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, p.host)
	}
	res, body := fetch(t, &http.Client{Transport: tr}, "GET", "https://shop.test:"+p.port+"/x", nil, nil)
	if res.StatusCode != 200 || body != "test" {
		t.Errorf("GET https://shop.test/x: got %d %q, want 200 test", res.StatusCode, body)
	}
}

// TestSitesInspector: the inspector answers on every site's name, guarded
// as that site, and shows that site's exchanges only: every site is a
// separate origin, so a page of shop.localhost must not read
// admin.localhost's headers and cookies through its own inspector. The
// inspector on localhost sees every exchange, with its site.
func TestSitesInspector(t *testing.T) {
	shopAPI, admin := namedBackend(t, "shop-api"), namedBackend(t, "admin")
	config := fmt.Sprintf(`frontend: %s
sites:
  shop.localhost:
    routes:
      /api: %s
  admin.localhost:
    frontend: %s
`, namedBackend(t, "top").URL, shopAPI.URL, admin.URL)
	p := startProxy(t, config, nil)
	c := namedClient(p, nil)
	_, port, _ := net.SplitHostPort(p.host)
	shop, adminSite, top := "http://shop.localhost:"+port, "http://admin.localhost:"+port, "http://localhost:"+port
	for _, u := range []string{shop + "/api/orders", adminSite + "/users", top + "/"} {
		h := http.Header{}
		if strings.HasPrefix(u, adminSite) {
			h.Set("Cookie", "admin_session=secret")
		}
		if res, body := fetch(t, c, "GET", u, nil, h); res.StatusCode != 200 {
			t.Fatalf("GET %s: got %d %q, want 200", u, res.StatusCode, body)
		}
	}

	// list waits for n finished entries in the inspector on origin.
	list := func(origin string, n int) []entry {
		t.Helper()
		var got []entry
		for deadline := time.Now().Add(waitTimeout); ; time.Sleep(5 * time.Millisecond) {
			res, body := fetch(t, c, "GET", origin+"/__devproxy/api/requests", nil, nil)
			if res.StatusCode != 200 {
				t.Fatalf("GET %s/__devproxy/api/requests: got %d %q, want 200", origin, res.StatusCode, body)
			}
			got = nil
			must(t, json.Unmarshal([]byte(body), &got))
			done := len(got) == n
			for _, e := range got {
				done = done && e.Status != 0
			}
			if done || time.Now().After(deadline) {
				return got
			}
		}
	}
	type want struct{ kind, route, target, site string }
	all := map[string]want{
		shop + "/api/orders": {"route", "/api", shopAPI.URL, "shop.localhost"},
		adminSite + "/users": {"frontend", "", admin.URL, "admin.localhost"},
		top + "/":            {"frontend", "", "", ""},
	}
	ids := map[string]uint64{}
	for _, tc := range []struct {
		origin string
		urls   []string
	}{
		{shop, []string{shop + "/api/orders"}},
		{adminSite, []string{adminSite + "/users"}},
		// localhost is the top-level origin: it sees every site.
		{top, []string{shop + "/api/orders", adminSite + "/users", top + "/"}},
	} {
		got := list(tc.origin, len(tc.urls))
		if len(got) != len(tc.urls) {
			t.Errorf("inspector on %s: %d entries %+v, want %v (the inspector's own requests are not listed)", tc.origin, len(got), got, tc.urls)
			continue
		}
		for _, e := range got {
			w, ok := all[e.URL]
			if !ok || !slices.Contains(tc.urls, e.URL) || e.Kind != w.kind || e.Route != w.route || e.Site != w.site ||
				(w.target != "" && e.Target != w.target) || e.Status != 200 {
				t.Errorf("inspector on %s: entry %s: kind %q route %q target %q site %q status %d, want %+v", tc.origin, e.URL, e.Kind, e.Route, e.Target, e.Site, e.Status, w)
			}
			ids[e.URL] = e.ID
		}
	}
	adminID := ids[adminSite+"/users"]

	// Nothing of admin's reaches a page of shop: not its details, a
	// replay, the HAR or the event stream.
	for _, tc := range []struct {
		method, url string
		want        int
		wantIn      string
	}{
		{"GET", fmt.Sprintf("%s/__devproxy/api/requests/%d", shop, adminID), 404, ""},
		{"POST", fmt.Sprintf("%s/__devproxy/api/requests/%d/replay", shop, adminID), 404, ""},
		{"GET", shop + "/__devproxy/api/har", 200, "/api/orders"},
		{"GET", fmt.Sprintf("%s/__devproxy/api/requests/%d", adminSite, adminID), 200, "admin_session=secret"},
		{"GET", fmt.Sprintf("%s/__devproxy/api/requests/%d", top, adminID), 200, "admin_session=secret"},
		{"GET", top + "/__devproxy/api/har", 200, "/users"},
	} {
		res, body := fetch(t, c, tc.method, tc.url, nil, http.Header{"Origin": {strings.SplitN(tc.url, "/__", 2)[0]}, "Sec-Fetch-Site": {"same-origin"}})
		if res.StatusCode != tc.want || !strings.Contains(body, tc.wantIn) {
			t.Errorf("%s %s: got %d %.300s, want %d with %q", tc.method, tc.url, res.StatusCode, body, tc.want, tc.wantIn)
		}
		if strings.HasPrefix(tc.url, shop) && (strings.Contains(body, "admin_session") || strings.Contains(body, "/users")) {
			t.Errorf("%s %s: shop's inspector shows admin's exchange: %.300s", tc.method, tc.url, body)
		}
	}
	// shop's event stream tells nothing of admin's requests: admin's
	// request goes first, so its event would come before shop's.
	req, err := http.NewRequest("GET", shop+"/__devproxy/api/events?kind=route,frontend", nil)
	must(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	stream, err := c.Do(req.WithContext(ctx))
	must(t, err)
	defer stream.Body.Close()
	events := bufio.NewReader(stream.Body)
	if line, err := events.ReadString('\n'); err != nil || !strings.HasPrefix(line, "retry:") {
		t.Fatalf("event stream on shop: first line %q, %v; want retry:", line, err)
	}
	for _, u := range []string{adminSite + "/users?again", shop + "/api/orders?again"} {
		if res, body := fetch(t, c, "GET", u, nil, nil); res.StatusCode != 200 {
			t.Fatalf("GET %s: got %d %q, want 200", u, res.StatusCode, body)
		}
	}
	for {
		line, err := events.ReadString('\n')
		if err != nil {
			t.Fatalf("event stream on shop: %v before shop's request", err)
		}
		if strings.Contains(line, "/users") {
			t.Errorf("event stream on shop: %s, an event of admin's request", line)
		}
		if strings.Contains(line, "/api/orders?again") {
			break
		}
	}

	// A replay from a site's inspector stays on its site.
	res, body := fetch(t, c, "POST", fmt.Sprintf("%s/__devproxy/api/requests/%d/replay", shop, ids[shop+"/api/orders"]),
		strings.NewReader(`{"url":"`+adminSite+`/users"}`), http.Header{"Content-Type": {"application/json"}})
	if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "replays to its own site") {
		t.Errorf("replay of shop's exchange to admin from shop's inspector: got %d %s, want 403", res.StatusCode, body)
	}

	// Clearing shop's list leaves admin's.
	if res, body := fetch(t, c, "DELETE", shop+"/__devproxy/api/requests", nil, nil); res.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE on shop: got %d %s, want 204", res.StatusCode, body)
	}
	if got := list(shop, 0); len(got) != 0 {
		t.Errorf("shop's inspector after its clear: %+v, want nothing", got)
	}
	if got := list(adminSite, 2); len(got) != 2 || got[1].ID != adminID {
		t.Errorf("admin's inspector after shop's clear: %+v, want its 2 entries, %d the first", got, adminID)
	}

	for _, tc := range []struct {
		name   string
		header http.Header
		want   int
	}{
		{"page of the same site", http.Header{"Origin": {shop}, "Sec-Fetch-Site": {"same-origin"}}, 200},
		{"page of another site", http.Header{"Origin": {adminSite}, "Sec-Fetch-Site": {"same-site"}}, 403},
		{"another site, no Sec-Fetch-Site", http.Header{"Origin": {adminSite}}, 403},
	} {
		u := shop + "/__devproxy/api/requests"
		if res, body := fetch(t, c, "GET", u, nil, tc.header); res.StatusCode != tc.want {
			t.Errorf("%s: GET %s: status = %d, want %d; body %.200s", tc.name, u, res.StatusCode, tc.want, body)
		}
	}
	if res, body := fetch(t, c, "DELETE", shop+"/__devproxy/api/requests", nil, http.Header{"Origin": {adminSite}, "Sec-Fetch-Site": {"same-site"}}); res.StatusCode != 403 {
		t.Errorf("DELETE on shop from a page of admin: status = %d, want 403; body %.200s", res.StatusCode, body)
	}
}

// TestSitesRouteFallbackField: the hint of a route fallback that fails
// names its key with the site, as the frontend's fallback_api's does.
func TestSitesRouteFallbackField(t *testing.T) {
	// The fallback speaks something else than HTTP.
	fallback := startRawBackend(t, func(c net.Conn, _ *bufio.Reader) {
		_, _ = c.Write([]byte("SSH-2.0-OpenSSH_9.6\r\n"))
	}).url
	down := "http://127.0.0.1:" + closedPort(t)
	config := fmt.Sprintf(`frontend: %s
routes:
  /api: {target: %s, fallback: %s}
sites:
  shop.localhost:
    routes:
      /api: {target: %s, fallback: %s}
`, namedBackend(t, "top").URL, down, fallback, down, fallback)
	p := startProxy(t, config, nil)
	c := namedClient(p, nil)
	for _, tc := range []struct{ host, want string }{
		{"localhost", "is it an HTTP server? check its code, or fix routes./api.fallback\""},
		{"shop.localhost", "is it an HTTP server? check its code, or fix sites.shop.localhost.routes./api.fallback\""},
	} {
		res, body := fetch(t, c, "GET", p.siteURL(tc.host, "/api/x"), nil, http.Header{"Accept": {"application/json"}})
		if res.StatusCode != http.StatusBadGateway || !strings.Contains(body, tc.want) {
			t.Errorf("GET /api/x on %s with a fallback that is no HTTP server: got %d %s, want 502 with %q", tc.host, res.StatusCode, body, tc.want)
		}
	}
}
