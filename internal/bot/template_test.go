package bot

import (
	"strings"
	"testing"
)

func TestRender(t *testing.T) {
	vars := map[string]string{"name": "小美", "group": "花漾{群}", "gift": ""}
	cases := []struct{ in, want string }{
		{"hi {name}", "hi 小美"},
		{"{name}{name}", "小美小美"},
		{"欢迎来到{group}", "欢迎来到花漾{群}"}, // values are not expanded again
		{"礼物：{gift}。", "礼物：。"},
		{"{{name}", "{name}"},                      // "{{" is a literal "{"
		{"{{{name}", "{小美"},                        // "{{" then {name}
		{"a}b", "a}b"},                             // "}" is literal
		{"{missing}", "{missing}"},                 // not in vars: kept as written
		{"{价格} {: } { name}", "{价格} {: } { name}"}, // "{" without a name is literal
		{"{name", "{name"},                         // unclosed: kept
		{"{", "{"},
		{"{name}!", "小美!"},
		{"", ""},
	}
	for _, c := range cases {
		if got := Render(c.in, vars); got != c.want {
			t.Errorf("Render(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := Template(c.in).Render(vars); got != c.want {
			t.Errorf("Template(%q).Render = %q", c.in, got)
		}
	}
}

func TestValidateTemplate(t *testing.T) {
	cases := []struct {
		in, want string // want "" = valid
	}{
		{"hi {name} in {group}", ""},
		{"literal {{name} and {价格}", ""},
		{"no placeholders", ""},
		{"{nmae}", "unknown placeholder {nmae} (use {name}, {group})"},
		{"{Name}", "unknown placeholder {Name}"},
		{"{a} {b}", "unknown placeholders {a}, {b} (use {name}, {group})"},
		{"hi {name", "unclosed placeholder {name: close it with } or write {{ for a literal {"},
		{"{name!}", "unclosed placeholder {name"},
	}
	for _, c := range cases {
		err := ValidateTemplate(c.in, "name", "group")
		switch {
		case c.want == "" && err != nil:
			t.Errorf("ValidateTemplate(%q) = %v", c.in, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("ValidateTemplate(%q) = %v, want %q", c.in, err, c.want)
		}
	}
	if err := Template("{x}").Validate(); err == nil || err.Error() != "unknown placeholder {x} (use no placeholders)" {
		t.Errorf("no allowed names: %v", err)
	}
}
