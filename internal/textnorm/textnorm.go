// Package textnorm normalises text that comes from outside (member messages,
// names, webhook payloads) once, at the edge, so that both databases accept
// it: PostgreSQL refuses NUL bytes in text and \u0000 or lone surrogates in
// jsonb, and an inbound platform would redeliver a refused event forever.
package textnorm

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Clean replaces invalid UTF-8 with U+FFFD and removes NUL and other C0
// control characters except tab and newline. Everything else — including
// markup, which is escaped on output, never stripped on input — is kept.
func Clean(s string) string {
	if !needsCleaning(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteRune(utf8.RuneError)
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r == '\r':
			// CRLF and lone CR become LF.
			if i < len(s) && s[i] == '\n' {
				continue
			}
			b.WriteByte('\n')
		case r < 0x20 || r == 0x7f:
			// drop NUL and other control characters
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func needsCleaning(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f {
			return true
		}
	}
	return false
}

// Line cleans s and folds it to one trimmed line (names, titles).
func Line(s string) string {
	s = Clean(s)
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return ' '
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// Limit reports whether s has at most n characters (runes).
func Limit(s string, n int) bool { return utf8.RuneCountInString(s) <= n }

// Blank reports whether s has no visible characters.
func Blank(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return !unicode.IsSpace(r) }) < 0
}

// MaxLinkLength is the longest link an operator may store.
const MaxLinkLength = 2000

// LinkProblem says what is wrong with an optional link an operator typed
// ("" when it is fine, or empty): only absolute http(s) links with a host,
// so a javascript: or data: link never reaches a page.
func LinkProblem(s string) string {
	if s == "" {
		return ""
	}
	if len(s) > MaxLinkLength {
		return fmt.Sprintf("is longer than %d characters", MaxLinkLength)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "must be an http(s) link"
	}
	return ""
}
