// Package i18n holds the translation catalogues (zh-CN, zh-TW, en), embedded
// as JSON files per language and feature (locales/<lang>/<feature>.json,
// merged; a key defined twice is an error), and picks a language for a request: the
// account's choice first, then Accept-Language, then the tenant's default.
// Every string a person sees goes through a catalogue; a test checks that
// the three catalogues have the same keys.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"golang.org/x/text/language"
)

//go:embed locales
var files embed.FS

// Languages liveloop speaks, the first being the fallback.
var Languages = []string{"zh-CN", "zh-TW", "en"}

// Catalog is the loaded translations.
type Catalog struct {
	msgs map[string]map[string]string
}

// Load reads the embedded catalogues.
func Load() (*Catalog, error) {
	c := &Catalog{msgs: map[string]map[string]string{}}
	for _, lang := range Languages {
		names, err := fs.Glob(files, "locales/"+lang+"/*.json")
		if err != nil || len(names) == 0 {
			return nil, fmt.Errorf("i18n: no catalogue for %s", lang)
		}
		m := map[string]string{}
		for _, name := range names {
			b, err := files.ReadFile(name)
			if err != nil {
				return nil, fmt.Errorf("i18n: %s: %w", name, err)
			}
			part := map[string]string{}
			if err := json.Unmarshal(b, &part); err != nil {
				return nil, fmt.Errorf("i18n: %s: %w", name, err)
			}
			for k, v := range part {
				if _, dup := m[k]; dup {
					return nil, fmt.Errorf("i18n: %s: key %q is defined twice", name, k)
				}
				m[k] = v
			}
		}
		c.msgs[lang] = m
	}
	return c, nil
}

// MustLoad is Load for start-up, where a broken embedded catalogue is a
// build error.
func MustLoad() *Catalog {
	c, err := Load()
	if err != nil {
		panic(err)
	}
	return c
}

// Supported reports whether lang is one of Languages.
func Supported(lang string) bool {
	for _, l := range Languages {
		if l == lang {
			return true
		}
	}
	return false
}

// Pick chooses a language: the first supported explicit choice, else the
// best match for the Accept-Language header, else fallback.
func (c *Catalog) Pick(acceptLanguage, fallback string, choices ...string) string {
	for _, ch := range choices {
		if Supported(ch) {
			return ch
		}
	}
	// Accept-Language comes sorted by preference. Chinese is told apart by
	// script, not region (zh-HK and zh-MO read Traditional, zh-SG
	// Simplified), which is why this is not a plain language.Matcher: that
	// would take a later bare "zh" over an earlier zh-HK.
	if tags, _, err := language.ParseAcceptLanguage(acceptLanguage); err == nil {
		for _, tag := range tags {
			base, _ := tag.Base()
			switch base.String() {
			case "zh":
				if script, _ := tag.Script(); script.String() == "Hant" {
					return "zh-TW"
				}
				return "zh-CN"
			case "en":
				return "en"
			}
		}
	}
	if Supported(fallback) {
		return fallback
	}
	return Languages[0]
}

// T translates key into lang, formatting args with fmt verbs in the
// message. A missing key shows as the key itself, so it is seen and fixed.
func (c *Catalog) T(lang, key string, args ...any) string {
	msg, ok := c.msgs[lang][key]
	if !ok {
		msg, ok = c.msgs["en"][key]
	}
	if !ok {
		return key
	}
	if len(args) > 0 {
		return fmt.Sprintf(msg, args...)
	}
	return msg
}

// Has reports whether every language has key.
func (c *Catalog) Has(key string) bool {
	for _, l := range Languages {
		if _, ok := c.msgs[l][key]; !ok {
			return false
		}
	}
	return true
}

// Keys lists the keys of lang, sorted.
func (c *Catalog) Keys(lang string) []string {
	var out []string
	for k := range c.msgs[lang] {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Name is a language's own name, for the language picker.
func Name(lang string) string {
	switch strings.ToLower(lang) {
	case "zh-cn":
		return "简体中文"
	case "zh-tw":
		return "繁體中文"
	default:
		return "English"
	}
}
