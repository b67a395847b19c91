package localca_test

import (
	"crypto/tls"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/devproxy/devproxy/devproxy/localca"
)

// A server that serves trusted HTTPS for localhost, *.localhost and one
// extra host: the CA from the user's config folder (a temporary one here),
// and an Issuer in the tls.Config.
func Example() {
	dir, err := os.MkdirTemp("", "devproxy-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ca, err := localca.Open(localca.Options{Dir: filepath.Join(dir, "devproxy")}) // Options{} in real use
	if err != nil {
		log.Fatal(err)
	}
	iss := localca.NewIssuer(ca, localca.IssuerOptions{Hosts: []string{"myapp.test"}})
	config := &tls.Config{GetCertificate: iss.GetCertificate, NextProtos: []string{"h2", "http/1.1"}}
	_ = config // for tls.NewListener, or http.Server.TLSConfig

	for _, name := range []string{"app.localhost", "myapp.test", "example.com"} {
		cert, err := iss.GetCertificate(&tls.ClientHelloInfo{ServerName: name})
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(cert.Leaf.DNSNames, cert.Leaf.NotAfter.Sub(cert.Leaf.NotBefore))
	}
	// Output:
	// [app.localhost] 169h0m0s
	// [myapp.test] 169h0m0s
	// no certificate for "example.com": devproxy certifies only localhost, *.localhost, 127.0.0.1, ::1 and allowed_hosts; to use this name for this machine, add it to allowed_hosts in the config: allowed_hosts: [example.com]
}
