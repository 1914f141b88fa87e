package bot

import (
	"regexp"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// foldRune maps full-width ASCII to half-width, the ideographic space to a
// space, and letters to lower case.
func foldRune(r rune) rune {
	switch {
	case r > 0x3000 && r <= 0x9FFF, r >= 0xAC00 && r <= 0xD7A3: // CJK, kana, Hangul: no case
		return r
	case r >= 0xFF01 && r <= 0xFF5E:
		r -= 0xFEE0
	case r == 0x3000:
		return ' '
	}
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return r
	}
	return unicode.ToLower(r)
}

func isFullWidth(r rune) bool { return (r >= 0xFF01 && r <= 0xFF5E) || r == 0x3000 }

// fold returns s in the form messages are matched in: half-width, lower
// case, white space runs as one space, trimmed. Invalid UTF-8 becomes
// U+FFFD.
func fold(s string) string {
	if isFolded(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		r = foldRune(r)
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// isFolded reports whether fold(s) == s, without allocating.
func isFolded(s string) bool {
	prevSpace := true // a leading space is not folded
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return false
			}
		}
		if foldRune(r) != r {
			return false
		}
		if unicode.IsSpace(r) {
			if r != ' ' || prevSpace {
				return false
			}
			prevSpace = true
			continue
		}
		prevSpace = false
	}
	return s == "" || !prevSpace
}

// isEdge reports whether r is ignored at the ends of commands, answers and
// exact matches: white space, punctuation, symbols (emoji included) and
// the invisible characters of emoji sequences.
func isEdge(r rune) bool {
	return unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) ||
		r == 0xFE0E || r == 0xFE0F || unicode.Is(unicode.Cf, r) || r == utf8.RuneError
}

// Normalize returns the form in which commands, check-in answers and exact
// keywords are compared: folded (half-width, lower case, single spaces)
// and without punctuation, symbols or emoji at either end. "  签到！" and
// "签到" normalise alike, as do "ROSE～" and "rose".
func Normalize(s string) string { return strings.TrimFunc(fold(s), isEdge) }

// compact removes the spaces of folded text.
func compact(s string) string {
	if !strings.Contains(s, " ") {
		return s
	}
	return strings.ReplaceAll(s, " ", "")
}

// message is a member's text in the forms the rules compare, computed once.
type message struct {
	raw     string
	folded  string // fold(raw)
	norm    string // Normalize(raw)
	compact string // compact(folded)
}

func newMessage(raw string) *message {
	m := &message{raw: raw, folded: fold(raw)}
	m.norm = strings.TrimFunc(m.folded, isEdge)
	m.compact = compact(m.folded)
	return m
}

// Match reports whether text matches a keyword rule's pattern in mode; an
// unknown mode or an invalid pattern matches nothing. Text of any size or
// encoding is safe: patterns are RE2 (linear time).
func Match(mode MatchMode, pattern, text string) bool { return newMessage(text).match(mode, pattern) }

func (m *message) match(mode MatchMode, pattern string) bool {
	switch mode {
	case MatchExact:
		p := Normalize(pattern)
		return p != "" && m.norm == p
	case MatchContains:
		p := fold(pattern)
		return p != "" && strings.Contains(m.folded, p)
	case MatchPattern:
		re, err := compile(pattern)
		return err == nil && re.MatchString(m.folded)
	}
	return false
}

// regexps memoises compiled patterns (and their errors). It is bounded:
// when full it starts again, since rules change rarely.
var regexps = struct {
	sync.RWMutex
	m map[string]compiled
}{m: map[string]compiled{}}

type compiled struct {
	re  *regexp.Regexp
	err error
}

const maxCompiled = 4096

// errPatternTooLong is returned by compile for oversized patterns, which
// Validate refuses before they are saved.
var errPatternTooLong = &patternError{"pattern too long"}

type patternError struct{ s string }

func (e *patternError) Error() string { return e.s }

// compile returns the case-insensitive program of pattern.
func compile(pattern string) (*regexp.Regexp, error) {
	regexps.RLock()
	c, ok := regexps.m[pattern]
	regexps.RUnlock()
	if ok {
		return c.re, c.err
	}
	if utf8.RuneCountInString(pattern) > MaxPatternRunes {
		return nil, errPatternTooLong
	}
	c.re, c.err = regexp.Compile("(?i)" + pattern)
	regexps.Lock()
	if len(regexps.m) >= maxCompiled {
		regexps.m = map[string]compiled{}
	}
	regexps.m[pattern] = c
	regexps.Unlock()
	return c.re, c.err
}

// tlds are the endings of bare domains taken for links. Common words and
// names that follow a dot in ordinary writing ("in", "to", "is", "wang",
// "js") are left out.
const tlds = `com|net|org|edu|gov|cn|io|me|co|cc|tv|ly|gl|gd|info|biz|xyz|top|vip|shop|app|link|site|online|club|store|tech|` +
	`icu|hk|tw|mo|jp|kr|sg|uk|de|ru|ai|gg|ws|la|su|pro|mobi|asia|cloud|dev|fm|tk|ml|ga|cf|gq|cyou|buzz|bio`

// linkRE finds a scheme ("https://"), "www.", or a bare domain ending in
// one of tlds, in folded (lower-case, half-width) text.
var linkRE = regexp.MustCompile(`[a-z][a-z0-9+.-]*://[^\s/]|\bwww\.[a-z0-9-]|` +
	`(?:^|[^a-z0-9_.-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:` + tlds + `)(?:[^a-z0-9-]|$)`)

// HasLink reports whether text contains a link (see the package
// documentation for what counts).
func HasLink(text string) bool { return newMessage(text).hasLink() }

func (m *message) hasLink() bool {
	return strings.ContainsAny(m.folded, ".:") && linkRE.MatchString(m.folded)
}

// containsWord reports whether the message contains w, also with the
// message's spaces removed ("加 微 信" contains 加微信).
func (m *message) containsWord(w string) bool {
	w = fold(w)
	if w == "" {
		return false
	}
	return strings.Contains(m.folded, w) || (!strings.Contains(w, " ") && strings.Contains(m.compact, w))
}

// isSep reports whether r separates a command word from its argument:
// white space, punctuation ("：", "，", "、", "-", "】"), "+" or "=".
func isSep(r rune) bool {
	return unicode.IsSpace(r) || unicode.IsPunct(r) || r == '+' || r == '='
}

// startsWith reports cheaply whether cutWord(m.raw, word) could succeed.
func (m *message) startsWith(word string) bool { return strings.HasPrefix(m.norm, fold(word)) }

// cutWord reports whether s (after leading punctuation and spaces) starts
// with word, compared folded, followed by the end or a separator. It returns
// what follows in s as written, without leading separators and surrounding
// spaces.
func cutWord(s, word string) (rest string, ok bool) {
	w := fold(word)
	if w == "" {
		return "", false
	}
	i := strings.IndexFunc(s, func(r rune) bool { return !isEdge(foldRune(r)) })
	if i < 0 {
		return "", false
	}
	i, ok = matchFolded(s, i, w)
	if !ok {
		return "", false
	}
	if i < len(s) {
		r, _ := utf8.DecodeRuneInString(s[i:])
		if !isSep(foldRune(r)) {
			return "", false
		}
	}
	rest = strings.TrimLeftFunc(s[i:], func(r rune) bool { return isSep(foldRune(r)) })
	return strings.TrimSpace(rest), true
}

// matchFolded compares s from byte i with the folded word w rune by rune
// and returns the byte offset after the match. A space in w matches a run
// of white space in s.
func matchFolded(s string, i int, w string) (int, bool) {
	for _, wr := range w {
		if i >= len(s) {
			return i, false
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		r = foldRune(r)
		if wr == ' ' {
			if !unicode.IsSpace(r) {
				return i, false
			}
			for i < len(s) {
				r, size = utf8.DecodeRuneInString(s[i:])
				if !unicode.IsSpace(foldRune(r)) {
					break
				}
				i += size
			}
			continue
		}
		if r != wr {
			return i, false
		}
		i += size
	}
	return i, true
}
