package sdptest

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"
)

// freeURLs returns n distinct "http://127.0.0.1:port" URLs on ports that
// were free a moment ago. Another process may still take one before etcd
// binds it; callers detect that with isAddrInUse and try again.
func freeURLs(n int) ([]url.URL, error) {
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
			return nil, fmt.Errorf("sdptest: finding a free loopback port: %w", err)
		}
		ls = append(ls, l)
		urls = append(urls, url.URL{Scheme: "http", Host: l.Addr().String()})
	}
	return urls, nil
}

// isAddrInUse reports whether err says a listener could not bind its
// address because something else holds it.
func isAddrInUse(err error) bool {
	return errors.Is(err, syscall.EADDRINUSE) || strings.Contains(err.Error(), "address already in use")
}

// urlPair is the client and peer URL of one member.
type urlPair struct{ client, peer url.URL }

// freeURLPairs returns n client/peer URL pairs on distinct free ports.
func freeURLPairs(n int) ([]urlPair, error) {
	urls, err := freeURLs(2 * n)
	if err != nil {
		return nil, err
	}
	ps := make([]urlPair, n)
	for i := range ps {
		ps[i] = urlPair{client: urls[2*i], peer: urls[2*i+1]}
	}
	return ps, nil
}
