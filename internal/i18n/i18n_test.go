package i18n

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestCataloguesHaveTheSameKeys(t *testing.T) {
	c := MustLoad()
	en := c.Keys("en")
	for _, lang := range Languages {
		keys := c.Keys(lang)
		if strings.Join(keys, ",") != strings.Join(en, ",") {
			t.Errorf("%s has %d keys, en has %d: they must match", lang, len(keys), len(en))
		}
		for _, k := range keys {
			if strings.TrimSpace(c.T(lang, k)) == "" {
				t.Errorf("%s: %s is empty", lang, k)
			}
		}
	}
}

// Every key a template or handler names exists in every catalogue.
func TestEveryUsedKeyIsTranslated(t *testing.T) {
	c := MustLoad()
	re := regexp.MustCompile(`(?:\.T|T\((?:c\.Lang|lang|p\.Lang|mc\.Member\.Locale)?,?) "([a-z0-9_]+\.[a-z0-9_.]+)"|"((?:error|chat|login)\.[a-z_]+)"`)
	root := filepath.Join("..", "web")
	n := 0
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".html") || strings.HasSuffix(path, ".go")) || strings.HasSuffix(path, "_test.go") {
			return err
		}
		b, _ := os.ReadFile(path)
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			key := m[1] + m[2]
			if strings.HasSuffix(key, ".") {
				continue // a prefix completed at run time ("rule.kind." + kind)
			}
			n++
			if !c.Has(key) {
				t.Errorf("%s uses %q, missing from a catalogue", path, key)
			}
		}
		return nil
	})
	if n < 50 {
		t.Fatalf("found only %d key uses: the pattern is broken", n)
	}
}

func TestPick(t *testing.T) {
	c := MustLoad()
	cases := []struct{ accept, fallback, choice, want string }{
		{"zh-TW", "", "", "zh-TW"},
		{"zh-HK,zh;q=0.9", "", "", "zh-TW"},
		{"zh-Hant", "", "", "zh-TW"},
		{"zh-SG", "", "", "zh-CN"},
		{"zh", "", "", "zh-CN"},
		{"en-US,en;q=0.9", "zh-CN", "", "en"},
		{"fr-FR,en;q=0.5", "zh-CN", "", "en"},
		{"fr-FR", "zh-TW", "", "zh-TW"},
		{"", "", "", "zh-CN"},
		{"en", "", "zh-TW", "zh-TW"},
		{"en", "", "klingon", "en"},
	}
	for _, tc := range cases {
		var choices []string
		if tc.choice != "" {
			choices = append(choices, tc.choice)
		}
		if got := c.Pick(tc.accept, tc.fallback, choices...); got != tc.want {
			t.Errorf("Pick(%q, %q, %q) = %s, want %s", tc.accept, tc.fallback, tc.choice, got, tc.want)
		}
	}
}

func TestFormatting(t *testing.T) {
	c := MustLoad()
	if got := c.T("zh-CN", "members.total", 12); got != "共 12 人" {
		t.Fatal(got)
	}
	if got := c.T("en", "no.such.key"); got != "no.such.key" {
		t.Fatal(got)
	}
}
