package sdptest

import (
	"net/url"

	sdpetcd "github.com/sdpconfig/sdpconfig/internal/etcdserver"
)

// urlPair is the client and peer URL of one member.
type urlPair struct{ client, peer url.URL }

// freeURLPairs returns n client/peer URL pairs on distinct free ports.
func freeURLPairs(n int) ([]urlPair, error) {
	urls, err := sdpetcd.FreeURLs(2 * n)
	if err != nil {
		return nil, err
	}
	ps := make([]urlPair, n)
	for i := range ps {
		ps[i] = urlPair{client: urls[2*i], peer: urls[2*i+1]}
	}
	return ps, nil
}
