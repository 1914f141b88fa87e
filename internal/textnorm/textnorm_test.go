package textnorm

import (
	"strings"
	"testing"
)

func TestClean(t *testing.T) {
	cases := []struct{ in, want string }{
		{"hello", "hello"},
		{"a\x00b", "ab"},
		{"line1\r\nline2\rline3", "line1\nline2\nline3"},
		{"bad\xffutf8", "bad\uFFFDutf8"},
		{"\xed\xa0\x80surrogate", "\uFFFD\uFFFD\uFFFDsurrogate"},
		{"<script>alert(1)</script>", "<script>alert(1)</script>"},
		{"tab\there", "tab\there"},
		{"bell\a", "bell"},
		{"\u202Eevil", "\u202Eevil"},
	}
	for _, c := range cases {
		if got := Clean(c.in); got != c.want {
			t.Errorf("Clean(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestLine(t *testing.T) {
	if got := Line("  小\n美\t "); got != "小 美" {
		t.Fatalf("Line = %q", got)
	}
}

func FuzzClean(f *testing.F) {
	f.Add("hello\x00\xff")
	f.Fuzz(func(t *testing.T, s string) {
		out := Clean(s)
		if Clean(out) != out {
			t.Fatalf("not idempotent: %q", s)
		}
		for i := 0; i < len(out); i++ {
			if out[i] == 0 {
				t.Fatalf("NUL left in %q", out)
			}
		}
	})
}

func TestLinkProblem(t *testing.T) {
	for link, ok := range map[string]bool{
		"": true, "https://shop.example/p/1": true, "http://a.example": true,
		"javascript:alert(1)": false, "data:text/html,x": false, "/relative": false, "https://": false,
		"https://x.example/" + strings.Repeat("a", MaxLinkLength): false,
	} {
		if got := LinkProblem(link) == ""; got != ok {
			t.Errorf("LinkProblem(%.40q) fine = %v, want %v", link, got, ok)
		}
	}
}
