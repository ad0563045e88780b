package rest

import (
	"bufio"
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
)

// Role is what an authenticated caller may do.
type Role int

// The roles: a read-only caller may only read (GET, HEAD, OPTIONS); an
// admin may do everything.
const (
	RoleReadOnly Role = iota + 1
	RoleAdmin
)

// credential is one user's or token's secret and role.
type credential struct {
	name   string
	secret string // a plain password or token; "MD5:<hex>" for a Jetty MD5 password
	role   Role
}

// Auth authenticates REST callers, as Kafka Connect's
// BasicAuthSecurityRestExtension does (HTTP Basic against a JAAS
// PropertyFileLoginModule credentials file) and with bearer tokens, and
// authorizes them by role: a caller without valid credentials is answered
// 401 with WWW-Authenticate, a read-only caller that writes 403. Requests
// forwarded by another coordinator are authenticated by their signature
// instead (VerifyForwarded, in front of Auth). The zero value lets
// everything through.
type Auth struct {
	basic  []credential
	bearer []credential
	// OpenPaths are served without credentials (e.g. /health, /metrics).
	OpenPaths []string
}

// Enabled says whether Auth asks for credentials at all.
func (a *Auth) Enabled() bool { return a != nil && (len(a.basic) > 0 || len(a.bearer) > 0) }

// LoadBasicAuthFile reads a JAAS PropertyFileLoginModule credentials file,
// as Connect's BasicAuthSecurityRestExtension takes: one `user: password`
// or `user: password,role,...` per line, `#` and `!` comments. A password
// may be plain or Jetty's "MD5:<hex>". A user with the role readonly (or
// read-only) and not admin is read-only; any other user is an admin, as
// every user is in Connect, so existing files keep working.
func (a *Auth) LoadBasicAuthFile(path string) error {
	creds, err := loadCredentials(path)
	if err != nil {
		return err
	}
	a.basic = append(a.basic, creds...)
	return nil
}

// LoadBearerTokensFile reads bearer tokens in the same format: one
// `name: token[,role...]` per line; name only names the caller in logs.
func (a *Auth) LoadBearerTokensFile(path string) error {
	creds, err := loadCredentials(path)
	if err != nil {
		return err
	}
	for _, c := range creds {
		if strings.HasPrefix(c.secret, "MD5:") {
			return fmt.Errorf("%s: token of %s: MD5: is for passwords, not tokens", path, c.name)
		}
		if len(c.secret) < 16 {
			return fmt.Errorf("%s: the token of %s is shorter than 16 characters", path, c.name)
		}
	}
	a.bearer = append(a.bearer, creds...)
	return nil
}

func loadCredentials(path string) ([]credential, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	creds, err := parseCredentials(bufio.NewScanner(f))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(creds) == 0 {
		return nil, fmt.Errorf("%s: no credentials", path)
	}
	return creds, nil
}

// parseCredentials parses `name: secret[,role...]` lines (`=` also
// separates, as in a properties file).
func parseCredentials(sc *bufio.Scanner) ([]credential, error) {
	var out []credential
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		i := strings.IndexAny(line, ":=")
		if i <= 0 {
			return nil, fmt.Errorf("line %d: want `user: password[,role...]`", n)
		}
		name := strings.TrimSpace(line[:i])
		parts := strings.Split(line[i+1:], ",")
		secret := strings.TrimSpace(parts[0])
		if secret == "" {
			return nil, fmt.Errorf("line %d: %s has no password", n, name)
		}
		if strings.HasPrefix(secret, "OBF:") || strings.HasPrefix(secret, "CRYPT:") {
			return nil, fmt.Errorf("line %d: %s: OBF: and CRYPT: passwords are not supported (use a plain or MD5: one)", n, name)
		}
		var roles []string
		for _, r := range parts[1:] {
			roles = append(roles, strings.ToLower(strings.TrimSpace(r)))
		}
		role := RoleAdmin
		if !slices.Contains(roles, "admin") && (slices.Contains(roles, "readonly") || slices.Contains(roles, "read-only")) {
			role = RoleReadOnly
		}
		out = append(out, credential{name: name, secret: secret, role: role})
	}
	return out, sc.Err()
}

// matches compares a presented secret with the stored one in constant time.
func (c credential) matches(presented string) bool {
	if hexsum, ok := strings.CutPrefix(c.secret, "MD5:"); ok {
		sum := md5.Sum([]byte(presented))
		return subtle.ConstantTimeCompare([]byte(strings.ToLower(hexsum)), []byte(hex.EncodeToString(sum[:]))) == 1
	}
	return subtle.ConstantTimeCompare([]byte(c.secret), []byte(presented)) == 1
}

// authenticate returns the caller's name and role, or ok false.
func (a *Auth) authenticate(r *http.Request) (string, Role, bool) {
	if user, pass, ok := r.BasicAuth(); ok {
		for _, c := range a.basic {
			if subtle.ConstantTimeCompare([]byte(c.name), []byte(user)) == 1 && c.matches(pass) {
				return c.name, c.role, true
			}
		}
		return "", 0, false
	}
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		found := credential{}
		for _, c := range a.bearer {
			if c.matches(strings.TrimSpace(tok)) {
				found = c
			}
		}
		return found.name, found.role, found.role != 0
	}
	return "", 0, false
}

// Wrap returns next behind authentication and authorization.
func (a *Auth) Wrap(next http.Handler) http.Handler {
	if !a.Enabled() {
		return next
	}
	challenge := []string{}
	if len(a.basic) > 0 {
		challenge = append(challenge, `Basic realm="sluice"`)
	}
	if len(a.bearer) > 0 {
		challenge = append(challenge, `Bearer realm="sluice"`)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A request another coordinator forwarded and signed
		// (VerifyForwarded): that coordinator authorized its caller.
		if slices.Contains(a.OpenPaths, r.URL.Path) || IsForwarded(r.Context()) {
			next.ServeHTTP(w, r)
			return
		}
		_, role, ok := a.authenticate(r)
		if !ok {
			for _, c := range challenge {
				w.Header().Add("WWW-Authenticate", c)
			}
			writeErrorMessage(w, http.StatusUnauthorized, "Authentication required: valid credentials are missing")
			return
		}
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			if role != RoleAdmin {
				writeErrorMessage(w, http.StatusForbidden, "Forbidden: a read-only user cannot "+r.Method+" "+r.URL.Path)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
