package tokenapi

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Environment is a named CyberSource API host. The zero value is not valid; use one of
// the variables below or ParseEnvironment.
type Environment struct {
	name string
	host string
}

// The CyberSource environments. All are reached over HTTPS.
var (
	// Sandbox is CyberSource's test environment, apitest.cybersource.com.
	Sandbox = Environment{name: "sandbox", host: "apitest.cybersource.com"}
	// Production is api.cybersource.com.
	Production = Environment{name: "production", host: "api.cybersource.com"}
	// ProductionIndia is api.in.cybersource.com, for merchants boarded in India.
	ProductionIndia = Environment{name: "production-india", host: "api.in.cybersource.com"}
	// VisaAcceptanceTest is apitest.visaacceptance.com.
	VisaAcceptanceTest = Environment{name: "visa-acceptance-test", host: "apitest.visaacceptance.com"}
	// VisaAcceptanceProduction is api.visaacceptance.com.
	VisaAcceptanceProduction = Environment{name: "visa-acceptance-production", host: "api.visaacceptance.com"}
	// MutualTLSTest is api-matest.cybersource.com. It requires a client certificate, so
	// pass an *http.Client configured with it through WithHTTPClient.
	MutualTLSTest = Environment{name: "mutual-tls-test", host: "api-matest.cybersource.com"}
	// MutualTLSProduction is api-ma.cybersource.com, which also requires a client certificate.
	MutualTLSProduction = Environment{name: "mutual-tls-production", host: "api-ma.cybersource.com"}
)

// Environments lists every named environment, in the order of the variables above.
func Environments() []Environment {
	return []Environment{
		Sandbox, Production, ProductionIndia,
		VisaAcceptanceTest, VisaAcceptanceProduction,
		MutualTLSTest, MutualTLSProduction,
	}
}

// ParseEnvironment returns the environment with the given name, such as "sandbox" or
// "production". Names are matched without regard to case.
func ParseEnvironment(name string) (Environment, error) {
	var names []string
	for _, env := range Environments() {
		if strings.EqualFold(env.name, name) {
			return env, nil
		}
		names = append(names, env.name)
	}
	return Environment{}, fmt.Errorf("%w: unknown environment %q; use one of %s",
		ErrInvalidOption, name, strings.Join(names, ", "))
}

// Name returns the environment's name, as accepted by ParseEnvironment.
func (e Environment) Name() string { return e.name }

// Host returns the API host name.
func (e Environment) Host() string { return e.host }

// BaseURL returns the environment's base URL, such as https://apitest.cybersource.com.
func (e Environment) BaseURL() string { return "https://" + e.host }

// String returns the name and the host.
func (e Environment) String() string {
	if e.host == "" {
		return "(no environment)"
	}
	return e.name + " (" + e.host + ")"
}

// parseBaseURL checks a base URL given with WithBaseURL. HTTPS is required except for
// loopback addresses, where plain HTTP serves local test servers.
func parseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: base URL %q is not a valid URL: %w", ErrInvalidOption, raw, err)
	}
	if u.Host == "" || u.Opaque != "" {
		return nil, fmt.Errorf("%w: base URL %q has no host; write it as https://host[:port][/path]", ErrInvalidOption, raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%w: base URL must not contain user information; credentials go in WithHTTPSignature", ErrInvalidOption)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%w: base URL %q must not have a query or fragment", ErrInvalidOption, raw)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopbackHost(u.Hostname()) {
			return nil, fmt.Errorf("%w: base URL %q uses plain http, which is accepted only for loopback IP addresses such as 127.0.0.1 or [::1]; use https", ErrInvalidOption, raw)
		}
	default:
		return nil, fmt.Errorf("%w: base URL %q must use https (or http for a loopback address)", ErrInvalidOption, raw)
	}
	return u, nil
}

// isLoopbackHost reports whether host is a loopback IP literal. Names such as localhost
// are not accepted, because a resolver may map them elsewhere.
func isLoopbackHost(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
