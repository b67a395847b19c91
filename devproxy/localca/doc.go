// Package localca is devproxy's local certificate authority: the one CA of a
// developer's machine that lets devproxy serve trusted https:// on localhost.
//
// Three parts, each usable alone:
//
//   - Open loads the CA from the user's config folder (ca.pem and
//     ca-key.pem under os.UserConfigDir()/devproxy), creating it on first
//     use: ECDSA P-256, valid 10 years, the key readable by its owner only.
//   - An Issuer mints short-lived leaf certificates in memory, per name, on
//     demand from the TLS handshake (its GetCertificate goes in a
//     tls.Config). It certifies localhost, *.localhost, 127.0.0.1, ::1 and the
//     hosts its caller allows (the config's allowed_hosts), and refuses every
//     other name. LoadKeyPair replaces it with a certificate and key from
//     files (one made by mkcert, say), served for every name.
//   - Trust and Untrust install and remove the CA where browsers and tools
//     look: the NSS databases of Chromium and Firefox, the system store.
//     Every step comes back as a Step that says what was done where, or the
//     command to run by hand; the package prints nothing.
//
// The CA has no name constraints. A constraint would have to list every
// name the CA may ever certify, but allowed_hosts changes with the config
// long after the CA is made; the limit is enforced instead by the Issuer,
// and the key never leaves the machine. The CA may not sign intermediate
// CAs (path length zero), so its only products are leaves.
package localca
