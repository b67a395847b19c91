package hostsfile

import (
	"testing"
)

func TestUpdate(t *testing.T) {
	const user = "127.0.0.1 localhost\n::1 localhost\n# my own\n10.0.0.2 nas\n"
	const shop = "# devproxy begin /p/shop/devproxy.yaml\n127.0.0.1 shop.localhost admin.localhost\n::1 shop.localhost admin.localhost\n# devproxy end /p/shop/devproxy.yaml\n"
	const blog = "# devproxy begin /p/blog/devproxy.yaml\n127.0.0.1 blog.localhost\n::1 blog.localhost\n# devproxy end /p/blog/devproxy.yaml\n"
	for _, tc := range []struct {
		name, in string
		key      string
		names    []string
		want     string
		changed  bool
	}{
		{"add to the user's lines", user, "/p/shop/devproxy.yaml", []string{"shop.localhost", "admin.localhost"}, user + shop, true},
		{"add after a last line with no newline", "127.0.0.1 localhost", "/p/blog/devproxy.yaml", []string{"blog.localhost"}, "127.0.0.1 localhost\n" + blog, true},
		{"add to an empty file", "", "/p/blog/devproxy.yaml", []string{"blog.localhost"}, blog, true},
		{"again: nothing changes", user + shop, "/p/shop/devproxy.yaml", []string{"shop.localhost", "admin.localhost"}, user + shop, false},
		{"replace in place, other blocks kept", user + shop + blog, "/p/shop/devproxy.yaml", []string{"shop.localhost"},
			user + "# devproxy begin /p/shop/devproxy.yaml\n127.0.0.1 shop.localhost\n::1 shop.localhost\n# devproxy end /p/shop/devproxy.yaml\n" + blog, true},
		{"remove one block", user + shop + blog, "/p/shop/devproxy.yaml", nil, user + blog, true},
		{"remove what is not there", user, "/p/shop/devproxy.yaml", nil, user, false},
		{"CRLF lines kept", "127.0.0.1 localhost\r\n", "/p/blog/devproxy.yaml", []string{"blog.localhost"}, "127.0.0.1 localhost\r\n" + blog, true},
		{"a begin with no end keeps the lines after it", "# devproxy begin /p/blog/devproxy.yaml\n10.0.0.2 nas\n", "/p/blog/devproxy.yaml", nil, "10.0.0.2 nas\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, changed := Update([]byte(tc.in), tc.key, tc.names)
			if string(got) != tc.want || changed != tc.changed {
				t.Errorf("Update:\ngot (changed %t):\n%s\nwant (changed %t):\n%s", changed, got, tc.changed, tc.want)
			}
		})
	}
}
