// Package secretbox encrypts small secrets at rest (channel tokens and
// signing secrets) with AES-256-GCM from the standard library: a random
// nonce per value, and associated data that binds a value to the row it
// belongs to, so a ciphertext copied onto another tenant's row fails to
// open. Nothing here is hand-rolled cryptography: it is the stdlib AEAD
// with the key derived from the configured key by SHA-256.
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
)

// MinKeyLen is the shortest key material accepted.
const MinKeyLen = 32

// ErrOpen is returned for a value that does not open with the key: a wrong
// key, a value tampered with, or one moved to another row.
var ErrOpen = errors.New("secretbox: cannot decrypt (wrong key or altered value)")

// Box seals and opens values with one key.
type Box struct{ aead cipher.AEAD }

// New returns a Box for key material of at least MinKeyLen bytes.
func New(key []byte) (*Box, error) {
	if len(key) < MinKeyLen {
		return nil, fmt.Errorf("secretbox: key must have at least %d bytes", MinKeyLen)
	}
	k := sha256.Sum256(key)
	block, err := aes.NewCipher(k[:])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plain, bound to aad, as "v1:" + base64(nonce | ciphertext).
func (b *Box) Seal(plain []byte, aad string) string {
	nonce := make([]byte, b.aead.NonceSize())
	rand.Read(nonce) // crypto/rand.Read never fails (Go 1.24+)
	out := b.aead.Seal(nonce, nonce, plain, []byte(aad))
	return "v1:" + base64.RawStdEncoding.EncodeToString(out)
}

// Open decrypts a value Seal made with the same aad.
func (b *Box) Open(sealed, aad string) ([]byte, error) {
	raw, ok := strings.CutPrefix(sealed, "v1:")
	if !ok {
		return nil, ErrOpen
	}
	data, err := base64.RawStdEncoding.DecodeString(raw)
	if err != nil || len(data) < b.aead.NonceSize() {
		return nil, ErrOpen
	}
	plain, err := b.aead.Open(nil, data[:b.aead.NonceSize()], data[b.aead.NonceSize():], []byte(aad))
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}

// KeyFile returns the key kept in path, creating it (random, mode 0600)
// when it does not exist. An existing file with wider permissions is
// refused: a key others can read protects nothing.
func KeyFile(path string) ([]byte, error) {
	if st, err := os.Stat(path); err == nil {
		if st.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("secretbox: %s is readable by others (chmod 600 it)", path)
		}
		key, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		key = []byte(strings.TrimSpace(string(key)))
		if len(key) < MinKeyLen {
			return nil, fmt.Errorf("secretbox: %s holds fewer than %d characters", path, MinKeyLen)
		}
		return key, nil
	}
	raw := make([]byte, 32)
	rand.Read(raw)
	key := []byte(base64.RawURLEncoding.EncodeToString(raw))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return KeyFile(path) // another process created it first
	}
	if err != nil {
		return nil, fmt.Errorf("secretbox: create %s: %w", path, err)
	}
	defer f.Close()
	if _, err := f.Write(append(key, '\n')); err != nil {
		return nil, err
	}
	return key, f.Sync()
}
