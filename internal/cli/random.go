package cli

import "crypto/rand"

func appRandom(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
