// Package status is the shape of devproxy's status endpoint, GET
// /__devproxy/status: the server writes it, and doctor reads it to tell
// devproxy on a port from another program.
package status

import "github.com/devproxy/devproxy/devproxy/config"

// Path is where devproxy answers with its Status.
const Path = config.ReservedPrefix + "/status"

// FrontendPath is where devproxy says whether the frontend dev server
// answers, always with 200 and a Frontend: the waiting page polls it, so
// that a dev server still down costs the browser no failed request (and
// no console error) every half second.
const FrontendPath = config.ReservedPrefix + "/frontend"

// Frontend is the body of GET FrontendPath.
type Frontend struct {
	// Up is true when the dev server answers HTTP, or when there is no
	// dev server to wait for (a folder, or no frontend).
	Up bool `json:"up"`
	// Target is the dev server's URL; empty without one.
	Target string `json:"target,omitempty"`
	// Error says why it does not answer; empty when Up.
	Error string `json:"error,omitempty"`
}

// Status is the body of GET Path.
type Status struct {
	Version string `json:"version"`
	Config  string `json:"config"`
	Listen  string `json:"listen"`
	// URL is the address to open: https://… when devproxy serves https.
	URL string `json:"url"`
	// Protocol is the protocol of the request that asked: "h2" over
	// HTTP/2, else "HTTP/1.1".
	Protocol string `json:"protocol"`
	// Name is the host name the frontend and routes are served as
	// besides localhost, such as "shop.localhost"; empty for none.
	Name     string  `json:"name,omitempty"`
	Frontend string  `json:"frontend"`
	Routes   []Route `json:"routes"`
	// Sites are the named sites of the sites block; empty when the
	// config has none.
	Sites  []Site `json:"sites,omitempty"`
	Reload Reload `json:"reload"`
	// Inspector is the state of the inspector, whose page shows it.
	Inspector Inspector `json:"inspector"`
}

// InspectorPath is where the inspector's page is; its API is under
// InspectorPath + "api/".
const InspectorPath = config.ReservedPrefix + "/"

// Inspector says where the inspector is and whether it captures.
type Inspector struct {
	// URL is the inspector's page.
	URL string `json:"url"`
	// Capture is false when inspect: false or -inspect=false turned the
	// capture of requests off.
	Capture bool `json:"capture"`
	// Requests is how many requests it keeps.
	Requests int `json:"requests"`
}

// Site is one named site of the config being served.
type Site struct {
	// Name is the site's host name, such as "shop.localhost", or a
	// wildcard such as "*.shop.localhost".
	Name string `json:"name"`
	// URL is the address to open the site at; empty for a wildcard.
	URL      string  `json:"url,omitempty"`
	Frontend string  `json:"frontend"`
	Routes   []Route `json:"routes"`
}

// Route is one route of the config being served.
type Route struct {
	Path    string `json:"path"`
	Target  string `json:"target,omitempty"`
	Respond bool   `json:"respond,omitempty"`
}

// Reload is the result of the last load or reload attempt.
type Reload struct {
	OK    bool   `json:"ok"`
	Error string `json:"error"`
	At    string `json:"at"`
}
