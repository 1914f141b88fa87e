package bot

import (
	"fmt"
	"slices"
	"strings"
)

// Template is an operator's message with placeholders: "{name}" is
// replaced by a value, "{{" writes a literal "{", a "{" not followed by a
// name is literal ("{:", "{价格}"), and "}" is always literal. A name is an
// ASCII letter or underscore followed by letters, digits or underscores.
type Template string

// Validate is ValidateTemplate(string(t), allowed...).
func (t Template) Validate(allowed ...string) error { return ValidateTemplate(string(t), allowed...) }

// Render is Render(string(t), vars).
func (t Template) Render(vars map[string]string) string { return Render(string(t), vars) }

// ValidateTemplate refuses a placeholder that is not allowed ("unknown
// placeholder {nmae} (use {name}, {group})") or not closed ("unclosed
// placeholder {name …").
func ValidateTemplate(t string, allowed ...string) error {
	var unknown []string
	err := scan(t, func(string) {}, func(name string) {
		if !slices.Contains(allowed, name) && !slices.Contains(unknown, name) {
			unknown = append(unknown, name)
		}
	})
	if err != nil {
		return err
	}
	if len(unknown) == 0 {
		return nil
	}
	word := "placeholder"
	if len(unknown) > 1 {
		word = "placeholders"
	}
	return fmt.Errorf("unknown %s %s (use %s)", word, braces(unknown), braces(allowed))
}

func braces(names []string) string {
	if len(names) == 0 {
		return "no placeholders"
	}
	return "{" + strings.Join(names, "}, {") + "}"
}

// Render replaces each placeholder by its value in vars in one pass (a value
// is never expanded again). A placeholder missing from vars, or an unclosed
// one, is kept as written so the mistake is visible.
func Render(t string, vars map[string]string) string {
	if !strings.Contains(t, "{") {
		return t
	}
	var b strings.Builder
	b.Grow(len(t))
	_ = scan(t, func(s string) { b.WriteString(s) }, func(name string) {
		if v, ok := vars[name]; ok {
			b.WriteString(v)
		} else {
			b.WriteString("{" + name + "}")
		}
	})
	return b.String()
}

// scan walks t, passing literal text to lit and placeholder names to ph. It
// returns an error for the first unclosed placeholder, which it passes on
// as literal text.
func scan(t string, lit func(string), ph func(name string)) error {
	var err error
	for i := 0; i < len(t); {
		j := strings.IndexByte(t[i:], '{')
		if j < 0 {
			lit(t[i:])
			break
		}
		j += i
		lit(t[i:j])
		if j+1 < len(t) && t[j+1] == '{' {
			lit("{")
			i = j + 2
			continue
		}
		k := j + 1
		for k < len(t) && isNameByte(t[k], k == j+1) {
			k++
		}
		switch {
		case k == j+1: // "{" followed by no name: literal
			lit("{")
		case k < len(t) && t[k] == '}':
			ph(t[j+1 : k])
			k++
		default:
			if err == nil {
				err = fmt.Errorf("unclosed placeholder %s: close it with } or write {{ for a literal {", t[j:k])
			}
			lit(t[j:k])
		}
		i = k
	}
	return err
}

func isNameByte(c byte, first bool) bool {
	return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || (!first && '0' <= c && c <= '9')
}
