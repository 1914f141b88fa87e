package bot

import "strings"

// commandWords maps a whole normalised message to a command, in zh-CN,
// zh-TW and English.
var commandWords = map[string]string{
	"积分": CmdPoints, "積分": CmdPoints, "我的积分": CmdPoints, "我的積分": CmdPoints, "查积分": CmdPoints, "查積分": CmdPoints,
	"points": CmdPoints, "point": CmdPoints, "my points": CmdPoints,
	"排行": CmdRank, "排行榜": CmdRank, "排名": CmdRank, "积分榜": CmdRank, "積分榜": CmdRank, "rank": CmdRank, "leaderboard": CmdRank,
	"帮助": CmdHelp, "幫助": CmdHelp, "help": CmdHelp,
	"签到": cmdCheckIn, "簽到": cmdCheckIn, "打卡": cmdCheckIn, "checkin": cmdCheckIn, "check-in": cmdCheckIn, "check in": cmdCheckIn,
}

// cmdCheckIn is "签到" alone; it becomes one of the CmdCheckIn* commands.
const cmdCheckIn = "checkin"

// checkInWords start an explicit answer, "签到 X" (longest first, so
// "check in X" is not read as "check" + "in X").
var checkInWords = []string{"check-in", "check in", "checkin", "签到", "簽到", "打卡"}

// commands answers the built-in commands. "签到" alone is a command only
// where a check-in rule applies.
func (e *eval) commands(msg *message) ([]Action, bool) {
	name := commandWords[msg.norm]
	switch name {
	case "":
		return nil, false
	case cmdCheckIn:
		r, ok := e.first(KindCheckIn)
		if !ok {
			return nil, false
		}
		return e.checkInQuestion(r), true
	}
	return e.command(e.queryPersona(), name, ""), true
}

// queryPersona speaks for points, rank and help: the first keyword rule's
// persona (the seed's bot), else the check-in rule's (the assistant), else
// the first applicable rule's.
func (e *eval) queryPersona() int64 {
	for _, k := range []Kind{KindKeyword, KindCheckIn} {
		if r, ok := e.first(k); ok {
			return r.PersonaID
		}
	}
	return e.rules[0].PersonaID
}

// checkInAnswer handles "签到 X" (any X is an attempt), "签到玫瑰红" (an
// accepted answer glued to the word) and plain messages equal to an
// accepted answer.
func (e *eval) checkInAnswer(msg *message) ([]Action, bool) {
	r, ok := e.first(KindCheckIn)
	if !ok {
		return nil, false
	}
	for _, w := range checkInWords {
		if !msg.startsWith(w) {
			continue
		}
		if answer, ok := cutWord(msg.raw, w); ok && Normalize(answer) != "" {
			return e.checkInAttempt(r, answer, true)
		}
		if glued := strings.TrimPrefix(msg.norm, fold(w)); r.CheckIn.Accepts(glued) {
			return e.checkInAttempt(r, glued, false)
		}
	}
	return e.checkInAttempt(r, msg.raw, false)
}

// wish turns "心愿 <text>" into a Wish and the keyword alone ("心愿",
// "心愿单", "wish list") into the wish command.
func (e *eval) wish(msg *message) ([]Action, bool) {
	r, ok := e.first(KindWishlist)
	if !ok {
		return nil, false
	}
	keywords := r.Wishlist.Keywords
	if len(keywords) == 0 {
		keywords = DefaultWishKeywords
	}
	for _, k := range keywords {
		if !msg.startsWith(k) {
			continue
		}
		for _, w := range []string{k + "单", k + "單", k + " list", k + "list", k} {
			text, ok := cutWord(msg.raw, w)
			if !ok {
				continue
			}
			if Normalize(text) == "" {
				return e.command(r.PersonaID, CmdWish, ""), true
			}
			return []Action{Wish{PersonaID: r.PersonaID, Text: text}}, true
		}
	}
	return nil, false
}
