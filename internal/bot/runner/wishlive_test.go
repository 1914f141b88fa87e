package runner

import "testing"

func TestWishMatches(t *testing.T) {
	for _, c := range []struct {
		wish, product string
		want          bool
	}{
		{"求 水光粉底液！", "品牌水光粉底液 30ml", true},
		{"想要粉底液", "粉底液", true},
		{"敏感肌粉底液", "粉底液", true}, // the wish names the product more fully
		{"口红", "丝绒口红 #12", true},
		{"ＬＩＰ　ＯＩＬ", "Lip oil · rose", true}, // full width and case folded
		{"口红", "修护精华", false},
		{"红", "丝绒口红", false}, // one character is too loose
		{"粉底液", "", false},
		{"", "粉底液", false},
	} {
		if got := WishMatches(normalizeWish(c.wish), c.product); got != c.want {
			t.Errorf("WishMatches(%q, %q) = %v, want %v", c.wish, c.product, got, c.want)
		}
	}
}
