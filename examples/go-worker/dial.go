package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/url"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// dial connects to a taskwire server given as a URL. http:// speaks gRPC over HTTP/2
// without TLS (h2c, what the server listens for by default); https:// uses TLS.
func dial(apiURL string) (*grpc.ClientConn, error) {
	u, err := url.Parse(apiURL)
	if err != nil {
		return nil, err
	}
	var creds credentials.TransportCredentials
	port := u.Port()
	switch u.Scheme {
	case "http":
		creds = insecure.NewCredentials()
		if port == "" {
			port = "80"
		}
	case "https":
		creds = credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS12})
		if port == "" {
			port = "443"
		}
	default:
		return nil, fmt.Errorf("the scheme must be http or https, got %q", u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("no host in the URL")
	}
	return grpc.NewClient(net.JoinHostPort(u.Hostname(), port), grpc.WithTransportCredentials(creds))
}
