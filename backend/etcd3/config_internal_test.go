package etcd3

import (
	"crypto/tls"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestConfigDefaults(t *testing.T) {
	c, err := Config{Prefix: "/"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.DialTimeout != DefaultDialTimeout || c.RequestTimeout != DefaultRequestTimeout ||
		c.MaxTxnOps != DefaultMaxTxnOps || c.Prefix != "" || c.Logger == nil ||
		c.Retry.MaxAttempts != 5 || c.Retry.InitialInterval != 50*time.Millisecond || c.Retry.MaxInterval != time.Second {
		t.Errorf("defaults: %+v", c)
	}
	for _, bad := range []string{"app", "/app/", "/a//b", "/a\nb"} {
		if _, err := (Config{Prefix: bad}).withDefaults(); err == nil {
			t.Errorf("prefix %q accepted", bad)
		}
	}
}

func TestClientConfigErrors(t *testing.T) {
	eps := []string{"http://127.0.0.1:2379"}
	for name, c := range map[string]Config{
		"no endpoints":      {},
		"user alone":        {Endpoints: eps, Username: "u"},
		"password alone":    {Endpoints: eps, Password: "secret-pw"},
		"cert without key":  {Endpoints: eps, TLS: TLSConfig{CertFile: "c.pem"}},
		"config and files":  {Endpoints: eps, TLS: TLSConfig{CAFile: "ca.pem", Config: &tls.Config{}}},
		"missing cert file": {Endpoints: eps, TLS: TLSConfig{CertFile: filepath.Join(t.TempDir(), "c.pem"), KeyFile: filepath.Join(t.TempDir(), "k.pem")}},
	} {
		_, err := c.clientConfig()
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if strings.Contains(err.Error(), "secret-pw") {
			t.Errorf("%s: error shows the password: %v", name, err)
		}
	}
	cc, err := Config{Endpoints: eps, TLS: TLSConfig{Config: &tls.Config{ServerName: "etcd"}}}.clientConfig()
	if err != nil || cc.TLS == nil || cc.TLS.ServerName != "etcd" {
		t.Errorf("TLS.Config: %v, %+v", err, cc.TLS)
	}
	cc, err = Config{Endpoints: eps}.clientConfig()
	if err != nil || cc.TLS != nil {
		t.Errorf("no TLS: %v, %+v", err, cc.TLS)
	}
}
