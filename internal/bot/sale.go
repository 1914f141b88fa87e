package bot

import (
	"strconv"
	"strings"
	"time"
)

// The sales formats of a group (the sale package owns them; the core
// needs only what decides a claim or a chain reply): flash sales claimed
// by a keyword ("秒杀", "搶", "grab") and chain orders (接龙) joined by
// "+1", "+2 红色", "接龙+1", "＋１ red", cancelled by "-1" or "取消".

// FlashSale is a flash sale of the group not yet over (upcoming too: a
// keyword before the start is answered with the countdown).
type FlashSale struct {
	ID        int64
	Keywords  []string // any of them, as the whole message, claims
	EndsAt    time.Time
	PersonaID int64
}

// ChainOrder is an open chain order of the group.
type ChainOrder struct {
	ID        int64
	Labels    []string // the options, named in replies ("+1 红色") or numbered
	ClosesAt  time.Time
	PersonaID int64
}

// Sales are the group's open sales formats, oldest first.
type Sales struct {
	Flash  []FlashSale
	Chains []ChainOrder
}

// FlashClaim claims one unit of flash sale SaleID for the member; the
// shell confirms privately (or says why not: not started, sold out).
type FlashClaim struct {
	SaleID    int64
	PersonaID int64
}

// ChainJoin adds a line to chain ChainID: Option (1-based) × Qty. The
// shell refuses quantities over the chain's maximum.
type ChainJoin struct {
	ChainID   int64
	Option    int
	Qty       int64
	PersonaID int64
}

// ChainCancel cancels the member's latest line of chain ChainID.
type ChainCancel struct {
	ChainID   int64
	PersonaID int64
}

func (FlashClaim) action()  {}
func (ChainJoin) action()   {}
func (ChainCancel) action() {}

// sale handles flash-sale keywords and chain replies; the newest sale
// that takes the message wins.
func (e *eval) sale(msg *message) ([]Action, bool) {
	s := e.st.Sales
	for i := len(s.Chains) - 1; i >= 0; i-- {
		c := s.Chains[i]
		if !e.in.At.Before(c.ClosesAt) {
			continue
		}
		if ParseChainCancel(msg.folded) {
			return []Action{ChainCancel{ChainID: c.ID, PersonaID: c.PersonaID}}, true
		}
		if opt, qty, ok := ParseChainReply(msg.folded, c.Labels); ok {
			return []Action{ChainJoin{ChainID: c.ID, Option: opt, Qty: qty, PersonaID: c.PersonaID}}, true
		}
	}
	for i := len(s.Flash) - 1; i >= 0; i-- {
		f := s.Flash[i]
		if !f.EndsAt.IsZero() && !e.in.At.Before(f.EndsAt) {
			continue
		}
		for _, k := range f.Keywords {
			if k = Normalize(k); k != "" && (msg.norm == k || msg.compact == compact(k)) {
				return []Action{FlashClaim{SaleID: f.ID, PersonaID: f.PersonaID}}, true
			}
		}
	}
	return nil, false
}

// chainWords may precede a chain reply ("接龙+1", "跟团 +2").
var chainWords = []string{"接龙", "接龍", "跟团", "跟團", "jl"}

// ParseChainReply reads folded text (half-width, lower case) as a chain
// reply for options labelled labels: "+1", "+2 红色", "+1 2" (the second
// option), "红色+1", "接龙+1". No option is the first. Text after the
// quantity that names no option is not a reply ("+1 说得对" agrees).
func ParseChainReply(folded string, labels []string) (option int, qty int64, ok bool) {
	s := strings.TrimSpace(folded)
	for _, w := range chainWords {
		if rest, found := strings.CutPrefix(s, w); found {
			s = strings.TrimSpace(rest)
			break
		}
	}
	n, rest, ok := splitPlus(s)
	if !ok {
		return 0, 0, false
	}
	q, err := strconv.ParseInt(n, 10, 64)
	if err != nil || q < 1 {
		return 0, 0, false
	}
	rest = strings.TrimFunc(rest, isEdge)
	if rest == "" {
		return 1, q, true
	}
	if o, ok := optionOf(rest, labels); ok {
		return o, q, true
	}
	return 0, 0, false
}

// optionOf finds the option text names: its number, its label (simplified
// and traditional characters alike, case folded), or the one label that
// starts with it ("a" for "A 红色").
func optionOf(text string, labels []string) (int, bool) {
	if c, err := strconv.Atoi(text); err == nil {
		if c >= 1 && c <= len(labels) {
			return c, true
		}
		return 0, false
	}
	t := simplified(compact(text))
	found := 0
	for i, l := range labels {
		l = simplified(compact(Normalize(l)))
		if l == t {
			return i + 1, true
		}
		if strings.HasPrefix(l, t) || strings.HasPrefix(t, l) {
			if found != 0 {
				return 0, false // ambiguous
			}
			found = i + 1
		}
	}
	return found, found != 0
}

// ParseChainCancel reports whether folded text cancels a chain line:
// "-1", "取消", "取消接龙", "cancel".
func ParseChainCancel(folded string) bool {
	switch strings.TrimRightFunc(strings.TrimSpace(folded), isEdge) {
	case "-1", "- 1", "取消", "取消接龙", "取消接龍", "cancel", "撤销", "撤銷":
		return true
	}
	return false
}

// splitPlus splits "+2 红色" or "红色 +2" into the quantity's digits and
// the rest.
func splitPlus(s string) (n, rest string, ok bool) {
	digits := func(s string) (string, string) {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return s[:i], s[i:]
	}
	if after, found := strings.CutPrefix(s, "+"); found {
		n, rest = digits(strings.TrimLeft(after, " "))
		return n, rest, len(n) >= 1 && len(n) <= 2
	}
	i := strings.LastIndexByte(s, '+')
	if i <= 0 {
		return "", "", false
	}
	n, tail := digits(strings.TrimLeft(s[i+1:], " "))
	if tail != "" || len(n) < 1 || len(n) > 2 {
		return "", "", false
	}
	return n, s[:i], true
}

// tradToSimp maps the traditional characters common in option labels
// (colours, sizes, units) to simplified ones, so "+1 紅色" finds "红色".
var tradToSimp = strings.NewReplacer(
	"紅", "红", "藍", "蓝", "綠", "绿", "黃", "黄", "紫", "紫", "銀", "银", "淺", "浅", "褐", "褐",
	"號", "号", "碼", "码", "雙", "双", "個", "个", "條", "条", "張", "张", "裝", "装", "組", "组",
	"長", "长", "寬", "宽", "輕", "轻", "純", "纯", "經", "经", "典", "典", "優", "优", "質", "质",
	"點", "点", "蘋", "苹", "櫻", "樱", "桃", "桃", "釐", "厘", "斤", "斤", "盒", "盒", "瓶", "瓶",
	"試", "试", "體", "体", "驗", "验", "禮", "礼", "贈", "赠", "餅", "饼", "乾", "干", "鮮", "鲜",
)

func simplified(s string) string { return tradToSimp.Replace(s) }
