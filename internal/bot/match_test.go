package bot

import (
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	cases := []struct{ in, want string }{
		{"  签到！", "签到"},
		{"ROSE～", "rose"},
		{"ＰＯＩＮＴＳ", "points"},
		{"玫瑰\u3000 红", "玫瑰 红"},
		{"【签到】", "签到"},
		{"积分😊", "积分"},
		{"❤️积分❤️", "积分"},
		{"/points", "points"},
		{"c++ rocks!", "c++ rocks"},
		{"\xff签到\xfe", "签到"},
		{"", ""},
		{"!!!", ""},
	}
	for _, c := range cases {
		if got := Normalize(c.in); got != c.want {
			t.Errorf("Normalize(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestFold(t *testing.T) {
	for _, s := range []string{"", "abc", "a b", "你好 世界", "x\xffy", " a", "a ", "a  b", "A", "a\tb", "ａ"} {
		want := fold(s)
		if isFolded(s) != (want == s) {
			t.Errorf("isFolded(%q) = %v, fold = %q", s, isFolded(s), want)
		}
		if !isFolded(want) {
			t.Errorf("fold(%q) = %q is not folded", s, want)
		}
	}
}

func TestMatch(t *testing.T) {
	cases := []struct {
		mode          MatchMode
		pattern, text string
		want          bool
	}{
		{MatchExact, "发货", "发货？", true},
		{MatchExact, "发货", "发货吗", false},
		{MatchExact, "Hello World", "hello   world!", true},
		{MatchExact, "！", "！", false}, // a pattern of punctuation matches nothing
		{MatchContains, "VIP", "ｖｉｐ价格", true},
		{MatchContains, "发货", "请问发货", true},
		{MatchContains, "", "anything", false},
		{MatchPattern, `(敏感肌|过敏).*(能用|可以用)`, "我过敏，可以用吗", true},
		{MatchPattern, `^\d{11}$`, "13800138000", true},
		{MatchPattern, `SALE`, "big sale", true}, // case-insensitive
		{MatchPattern, `(a|b`, "a", false},       // invalid: nothing
		{MatchPattern, `(a+)+$`, strings.Repeat("a", 100000) + "!", false},
		{"fuzzy", "a", "a", false},
		{MatchContains, "a", "\xff\xfea", true},
	}
	for _, c := range cases {
		if got := Match(c.mode, c.pattern, c.text); got != c.want {
			t.Errorf("Match(%s, %q, %.40q) = %v, want %v", c.mode, c.pattern, c.text, got, c.want)
		}
	}
}

func TestHasLink(t *testing.T) {
	cases := []struct {
		text string
		want bool
	}{
		{"https://example.com", true},
		{"看这里http://a.b/c", true},
		{"HTTPS://EXAMPLE.COM", true},
		{"weixin://dl/chat", true},
		{"www.example", true},
		{"abc.com/x", true},
		{"abc.com", true},
		{"进群 t.me/deals", true},
		{"看b23.tv/abc", true},
		{"shop.taobao.com", true},
		{"mail me: kefu@brand.cn", true},
		{"ａｂｃ．ｃｏｍ", true},
		{"Bit.Ly/xyz", true},
		{"今天3.5折", false},
		{"1.5元包邮", false},
		{"满199减30", false},
		{"v1.2.3", false},
		{"e.g. this", false},
		{"学node.js", false},
		{"Mr.Wang 你好", false},
		{"好的.", false},
		{"com", false},
		{".com", false},
		{"https://", false},
		{"", false},
	}
	for _, c := range cases {
		if got := HasLink(c.text); got != c.want {
			t.Errorf("HasLink(%q) = %v, want %v", c.text, got, c.want)
		}
	}
}

func TestCutWord(t *testing.T) {
	cases := []struct {
		s, word, rest string
		ok            bool
	}{
		{"签到 玫瑰红", "签到", "玫瑰红", true},
		{"签到：玫瑰红", "签到", "玫瑰红", true},
		{"【签到】玫瑰红", "签到", "玫瑰红", true},
		{"签到", "签到", "", true},
		{"签到了", "签到", "", false},
		{"CHECK   IN rose", "check in", "rose", true},
		{"checking", "checkin", "", false},
		{"心愿 想要 A 和 B ", "心愿", "想要 A 和 B", true},
		{"", "签到", "", false},
		{"签", "签到", "", false},
		{"签到", "", "", false},
	}
	for _, c := range cases {
		rest, ok := cutWord(c.s, c.word)
		if ok != c.ok || rest != c.rest {
			t.Errorf("cutWord(%q, %q) = (%q, %v), want (%q, %v)", c.s, c.word, rest, ok, c.rest, c.ok)
		}
	}
}

func TestCompileCacheBounded(t *testing.T) {
	for i := range maxCompiled + 10 {
		if _, err := compile("a" + strings.Repeat("b", i%150) + string(rune('c'+i%20)) + strings.Repeat("d", i/150)); err != nil {
			t.Fatal(err)
		}
	}
	regexps.RLock()
	n := len(regexps.m)
	regexps.RUnlock()
	if n > maxCompiled {
		t.Fatalf("cache holds %d patterns", n)
	}
}
