package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/reserveeasy/gateway/config"
)

// embeddedAddrFile is where a gateway running the embedded Redis writes its
// URL, with the password generated at start (mode 0600), so that `gateway
// events`, `inspect`, `replay` and `demo` run from another terminal of the
// same user find it, and nobody else can.
var embeddedAddrFile = filepath.Join(filepath.Dir(config.DefaultSQLitePath), "embedded-redis.url")

// publishEmbeddedRedis writes the embedded Redis URL and returns a
// function that removes it.
func (a *app) publishEmbeddedRedis() func() {
	if err := os.MkdirAll(filepath.Dir(embeddedAddrFile), 0o700); err == nil {
		os.Remove(embeddedAddrFile) // WriteFile keeps an existing file's mode
		err = os.WriteFile(embeddedAddrFile, []byte(a.redis.EmbeddedURL+"\n"), 0o600)
		if err != nil {
			a.log.Warn("could not publish the embedded redis address", "file", embeddedAddrFile, "err", err)
		}
	}
	return func() { os.Remove(embeddedAddrFile) }
}

// redisURLForTools is REDIS_URL, else the embedded Redis of a gateway
// running from this directory.
func redisURLForTools(cfg config.Config) (string, error) {
	if cfg.RedisURL != "" {
		return cfg.RedisURL, nil
	}
	b, err := os.ReadFile(embeddedAddrFile)
	if err != nil {
		return "", fmt.Errorf("REDIS_URL is unset and no gateway with an embedded Redis runs from this directory (%s): start `make run` or set REDIS_URL", embeddedAddrFile)
	}
	return strings.TrimSpace(string(b)), nil
}
