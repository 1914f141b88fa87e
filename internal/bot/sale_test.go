package bot

import (
	"testing"
	"time"
)

func TestChainReplies(t *testing.T) {
	labels := []string{"红色", "蓝色", "Large"}
	for _, c := range []struct {
		text string
		opt  int
		qty  int64
		ok   bool
	}{
		{"+1", 1, 1, true},
		{"+2", 1, 2, true},
		{"＋１", 1, 1, true},
		{"+ 3", 1, 3, true},
		{"+1 红色", 1, 1, true},
		{"+2 蓝色", 2, 2, true},
		{"+1 紅色", 1, 1, true},  // zh-TW
		{"+2 藍色！", 2, 2, true}, // zh-TW, punctuation
		{"+1 large", 3, 1, true},
		{"+1 LARGE", 3, 1, true},
		{"+1 l", 3, 1, true},
		{"+1 2", 2, 1, true},
		{"+1红色", 1, 1, true},
		{"红色+1", 1, 1, true},
		{"红色 +2", 1, 2, true},
		{"接龙+1", 1, 1, true},
		{"接龍 +1 藍色", 2, 1, true},
		{"跟团+2", 1, 2, true},
		{"+1 4", 0, 0, false},   // no fourth option
		{"+1 说得对", 0, 0, false}, // agreement, not an order
		{"+0", 0, 0, false},
		{"+100", 0, 0, false},
		{"1", 0, 0, false},
		{"我要+1个朋友", 0, 0, false},
		{"", 0, 0, false},
		{"+", 0, 0, false},
	} {
		opt, qty, ok := ParseChainReply(fold(c.text), labels)
		if opt != c.opt || qty != c.qty || ok != c.ok {
			t.Errorf("%q: %d×%d %v, want %d×%d %v", c.text, opt, qty, ok, c.opt, c.qty, c.ok)
		}
	}
	for text, want := range map[string]bool{"-1": true, "－１": true, "取消": true, "取消接龍": true, "Cancel!": true, "-2": false, "取消订单吗": false, "1": false} {
		if got := ParseChainCancel(fold(text)); got != want {
			t.Errorf("cancel %q: %v", text, got)
		}
	}
}

func TestSaleActions(t *testing.T) {
	chain := ChainOrder{ID: 4, Labels: []string{"A 红色", "B 蓝色"}, ClosesAt: noon.Add(time.Hour), PersonaID: pHost}
	flash := FlashSale{ID: 8, Keywords: []string{"秒杀", "搶", "grab"}, EndsAt: noon.Add(time.Hour), PersonaID: pBot}
	with := func(st State, s Sales) State { st.Sales = s; return st }
	both := Sales{Flash: []FlashSale{flash}, Chains: []ChainOrder{chain}}
	poll := Activity{ID: 5, Options: 3, ClosesAt: noon.Add(time.Hour)}
	runEval(t, []evalCase{
		{"+1 joins the chain", with(state(), both), say("+1", noon), []Action{ChainJoin{ChainID: 4, Option: 1, Qty: 1, PersonaID: pHost}}},
		{"+2 b", with(state(), both), say("+2 b", noon), []Action{ChainJoin{ChainID: 4, Option: 2, Qty: 2, PersonaID: pHost}}},
		{"-1 cancels", with(state(), both), say("-1", noon), []Action{ChainCancel{ChainID: 4, PersonaID: pHost}}},
		{"closed chain: chat", with(state(), both), say("+1", noon.Add(time.Hour)), nil},
		{"keyword claims", with(state(), both), say("秒杀！", noon), []Action{FlashClaim{SaleID: 8, PersonaID: pBot}}},
		{"zh-TW keyword", with(state(), both), say("搶", noon), []Action{FlashClaim{SaleID: 8, PersonaID: pBot}}},
		{"English keyword", with(state(), both), say("GRAB", noon), []Action{FlashClaim{SaleID: 8, PersonaID: pBot}}},
		{"keyword inside a sentence: chat", with(state(), both), say("秒杀什么时候开始", noon), nil},
		{"ended sale: chat", with(state(), both), say("秒杀", noon.Add(time.Hour)), nil},
		{"a vote stays a vote", func() State { s := with(state(), both); s.Activities = []Activity{poll}; return s }(), say("2", noon), []Action{Vote{PollID: 5, Choice: 2}}},
		{"staff never join", with(state(), both), func() Input { in := say("+1", noon); in.IsStaff = true; return in }(), nil},
	})
}
