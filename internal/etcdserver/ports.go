package etcdserver

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"
)

// pickURLs parses the configured client and peer URLs, choosing a free
// loopback port for each one left empty; picked tells whether it chose one.
func pickURLs(client, peer string) (cu, pu url.URL, picked bool, err error) {
	var free []url.URL
	need := 0
	if client == "" {
		need++
	}
	if peer == "" {
		need++
	}
	if need > 0 {
		if free, err = FreeURLs(need); err != nil {
			return url.URL{}, url.URL{}, false, err
		}
		picked = true
	}
	next := func(s, what string) (url.URL, error) {
		if s == "" {
			u := free[0]
			free = free[1:]
			return u, nil
		}
		return parseURL(s, what)
	}
	if cu, err = next(client, "client"); err != nil {
		return
	}
	pu, err = next(peer, "peer")
	return
}

// parseURL checks a listen URL: http or https, an IP address and a port.
func parseURL(s, what string) (url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return url.URL{}, fmt.Errorf("etcdserver: %s URL %q: want http://IP:port", what, s)
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil || port == "" {
		return url.URL{}, fmt.Errorf("etcdserver: %s URL %q: want http://IP:port", what, s)
	}
	if net.ParseIP(host) == nil {
		return url.URL{}, fmt.Errorf("etcdserver: %s URL %q: the host must be an IP address, such as 127.0.0.1", what, s)
	}
	return url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}

// FreeURLs returns n distinct "http://127.0.0.1:port" URLs on ports that
// were free a moment ago. Another process may still take one before etcd
// binds it; callers detect that with IsAddrInUse and try again.
func FreeURLs(n int) ([]url.URL, error) {
	ls := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	urls := make([]url.URL, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("etcdserver: finding a free loopback port: %w", err)
		}
		ls = append(ls, l)
		urls = append(urls, url.URL{Scheme: "http", Host: l.Addr().String()})
	}
	return urls, nil
}

// IsAddrInUse reports whether err says a listener could not bind its
// address because something else holds it.
func IsAddrInUse(err error) bool {
	return errors.Is(err, syscall.EADDRINUSE) || strings.Contains(err.Error(), "address already in use")
}
