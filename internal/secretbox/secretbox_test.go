package secretbox_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/liveloop/liveloop/internal/secretbox"
)

func TestSealOpen(t *testing.T) {
	b, err := secretbox.New([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	s := b.Seal([]byte("123456:ABC-token"), "tenant:1")
	if strings.Contains(s, "ABC") {
		t.Fatal("plaintext visible in the sealed value")
	}
	if s == b.Seal([]byte("123456:ABC-token"), "tenant:1") {
		t.Fatal("two seals of one value are equal (nonce reused)")
	}
	got, err := b.Open(s, "tenant:1")
	if err != nil || string(got) != "123456:ABC-token" {
		t.Fatalf("open: %q %v", got, err)
	}
	other, _ := secretbox.New([]byte(strings.Repeat("x", 32)))
	flipped := s[:len(s)-2] + "AA"
	for name, open := range map[string]func() ([]byte, error){
		"another row":  func() ([]byte, error) { return b.Open(s, "tenant:2") },
		"another key":  func() ([]byte, error) { return other.Open(s, "tenant:1") },
		"altered":      func() ([]byte, error) { return b.Open(flipped, "tenant:1") },
		"not a value":  func() ([]byte, error) { return b.Open("plain-token", "tenant:1") },
		"short":        func() ([]byte, error) { return b.Open("v1:AAAA", "tenant:1") },
		"bad encoding": func() ([]byte, error) { return b.Open("v1:!!!", "tenant:1") },
	} {
		if _, err := open(); !errors.Is(err, secretbox.ErrOpen) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := secretbox.New([]byte("short")); err == nil {
		t.Fatal("short key accepted")
	}
}

func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "liveloop.db.key")
	k1, err := secretbox.KeyFile(path)
	if err != nil || len(k1) < 32 {
		t.Fatalf("create: %q %v", k1, err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode())
	}
	k2, err := secretbox.KeyFile(path)
	if err != nil || string(k1) != string(k2) {
		t.Fatal("the key changed on the second read")
	}
	os.Chmod(path, 0o644)
	if _, err := secretbox.KeyFile(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable key accepted: %v", err)
	}
}
