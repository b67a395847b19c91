package web

import "testing"

func TestCanonicalOrigin(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"http://localhost:8080", "http://localhost:8080", true},
		{"HTTP://LocalHost:8080", "http://localhost:8080", true},
		{"http://localhost:80", "http://localhost", true},
		{"https://localhost:443", "https://localhost", true},
		{"https://localhost:80", "https://localhost:80", true},
		{"http://localhost:", "http://localhost", true},
		{"http://[::1]:8080", "http://[::1]:8080", true},
		{"http://[::1]:80", "http://[::1]", true},
		{"http://localhost:8080/", "http://localhost:8080", true},
		{"null", "", false},
		{"", "", false},
		{"ws://localhost:8080", "", false},
		{"http://localhost:8080/app", "", false},
		{"http://user@localhost:8080", "", false},
		{"http://localhost:8080?x", "", false},
	}
	for _, tt := range tests {
		got, ok := CanonicalOrigin(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("CanonicalOrigin(%q) = %q, %t; want %q, %t", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestLoopbackNames(t *testing.T) {
	for _, tt := range []struct {
		host                string
		localhost, loopback bool
	}{
		{"localhost", true, true},
		{"LOCALHOST.", true, true},
		{"app.localhost", true, true},
		{"localhost.evil.example", false, false},
		{"127.0.0.1", false, true},
		{"127.1.2.3", false, true},
		{"::1", false, true},
		{"192.168.1.2", false, false},
	} {
		if got := IsLocalhost(tt.host); got != tt.localhost {
			t.Errorf("IsLocalhost(%q) = %t, want %t", tt.host, got, tt.localhost)
		}
		if got := IsLoopback(tt.host); got != tt.loopback {
			t.Errorf("IsLoopback(%q) = %t, want %t", tt.host, got, tt.loopback)
		}
	}
}

func TestIsToken(t *testing.T) {
	for s, want := range map[string]bool{"X-Dev-User": true, "GET": true, "": false, "a b": false, "x:y": false, "ä": false} {
		if got := IsToken(s); got != want {
			t.Errorf("IsToken(%q) = %t, want %t", s, got, want)
		}
	}
}

func TestParseOrigin(t *testing.T) {
	tests := []struct {
		in, want    string
		fault       OriginFault
		write, more string
	}{
		{"HTTP://LocalHost:80", "http://localhost", 0, "", ""},
		{"https://admin.myapp.test:8443", "https://admin.myapp.test:8443", 0, "", ""},
		{"", "", OriginEmpty, "", ""},
		{"localhost:3000", "", OriginNoScheme, "", ""},
		{"http://a b", "", OriginNotURL, "", `invalid character " " in host name`},
		{"ftp://files.test", "", OriginScheme, "ftp://files.test", ""},
		{"http://", "", OriginNoHost, "", ""},
		{"https://user@host.test", "", OriginUser, "https://host.test", ""},
		{"http://localhost:3000?x=1", "", OriginQuery, "http://localhost:3000", ""},
		{"http://localhost:3000#top", "", OriginFragment, "http://localhost:3000", ""},
		{"http://localhost:3000/", "", OriginTrailingSlash, "http://localhost:3000", ""},
		{"http://localhost:3000/app", "", OriginPath, "http://localhost:3000", ""},
		{"http://localhost:", "", OriginEmptyPort, "http://localhost", ""},
		{"http://localhost:99999", "", OriginBadPort, "http://localhost:99999", "99999"},
	}
	for _, tt := range tests {
		got, p := ParseOrigin(tt.in)
		var fault OriginFault
		var write, more string
		if p != nil {
			fault, write, more = p.Fault, p.Write, p.Detail
		}
		if got != tt.want || fault != tt.fault || write != tt.write || more != tt.more {
			t.Errorf("ParseOrigin(%q) = %q, %+v; want %q, {%d %q %q}", tt.in, got, p, tt.want, tt.fault, tt.write, tt.more)
		}
	}
}
