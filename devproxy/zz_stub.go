package devproxy

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Temporary stand-ins until the real config parser and static handler land.

func LoadConfig(file string, lookupEnv func(string) (string, bool)) (*Config, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return ParseConfig(file, data, lookupEnv)
}

func ParseConfig(file string, data []byte, lookupEnv func(string) (string, bool)) (*Config, error) {
	var raw struct {
		Listen   string
		Frontend string
		Routes   map[string]yaml.Node
	}
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	abs, _ := filepath.Abs(file)
	cfg := &Config{File: file, Dir: filepath.Dir(abs), Listen: raw.Listen}
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	if raw.Frontend != "" {
		if strings.HasPrefix(raw.Frontend, "http") {
			u, _ := url.Parse(raw.Frontend)
			cfg.Frontend = &Frontend{URL: u}
		} else {
			cfg.Frontend = &Frontend{Dir: filepath.Join(cfg.Dir, raw.Frontend), SPA: true}
		}
	}
	for k, n := range raw.Routes {
		r := Route{Path: strings.TrimSuffix(k, "/"), Timeout: DefaultTimeout}
		var target string
		if n.Kind == yaml.ScalarNode {
			target = n.Value
		} else {
			var long struct {
				Target       string
				Strip_prefix bool
				Host         string
				Insecure     bool
				Timeout      string
				Headers      map[string]string
				Respond      *struct {
					Status int
					Body   string
					JSON   any `yaml:"json"`
					File   string
					Delay  string
				}
			}
			if err := n.Decode(&long); err != nil {
				return nil, err
			}
			target = long.Target
			r.StripPrefix, r.Insecure, r.PreserveHost = long.Strip_prefix, long.Insecure, long.Host == "preserve"
			if long.Timeout != "" {
				r.Timeout, _ = time.ParseDuration(long.Timeout)
			}
			for k, v := range long.Headers {
				r.Headers = append(r.Headers, Header{http.CanonicalHeaderKey(k), v})
			}
			if rs := long.Respond; rs != nil {
				r.Respond = &Respond{Status: rs.Status, Body: []byte(rs.Body), ContentType: "text/plain; charset=utf-8"}
				if rs.JSON != nil {
					r.Respond.Body, _ = json.Marshal(rs.JSON)
					r.Respond.ContentType = "application/json"
				}
				if rs.File != "" {
					r.Respond.File = filepath.Join(cfg.Dir, rs.File)
					r.Respond.ContentType = "application/json"
				}

				r.Respond.Delay, _ = time.ParseDuration(rs.Delay)
			}
		}
		if target != "" {
			r.Target, _ = url.Parse(target)
		}
		cfg.Routes = append(cfg.Routes, r)
	}
	return cfg, nil
}

type ConfigErrors []error

func (e ConfigErrors) Error() string { return "" }
