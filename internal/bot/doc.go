// Package bot is the functional core of the community routine (seed 004:
// welcome, passphrase check-in, keyword replies, discussion points,
// wishlist, moderation). It owns the rule types and their validation, the
// message templates, text matching, and one pure function:
//
//	Evaluate(state, input) → []Action
//
// Evaluate reads nothing but its arguments: no database, no network, no
// clock (the input carries its time, the state its time zone), no
// randomness. The shell (package bot/runner) loads the State, calls
// Evaluate, and applies the actions in one transaction; anything that
// needs data the core does not have (the real balance, the leaderboard,
// the hint's wording, the language) is returned as a Command or CheckIn for
// the shell to answer. This package must not do I/O, read time.Now, or
// render any text other than the operator's own templates.
//
// The only shared state is a memo of compiled regular expressions (pure:
// the same pattern always compiles to the same program). Patterns use RE2
// syntax (package regexp), whose matching time is linear in the input, so an
// operator's pattern cannot make a member's message expensive.
//
// # Choices
//
// Order of a message's evaluation. Staff messages produce nothing. A muted
// member's message is hidden (Moderate{Action: "hide", Reason: "muted"})
// and nothing else happens. Moderation rules run next; a moderated message
// is hidden and earns no reply or reward. Then, and exclusively (they earn
// no discussion points and trigger no keyword reply): built-in commands,
// check-in answers, wishes. Otherwise the first matching keyword rule
// replies and the discussion rule awards points.
//
// Which rules apply. A rule applies when it is enabled, its GroupID is 0 or
// the input's group, and its configuration matches its Kind. Group-specific
// rules come before tenant-wide ones (each in the order given), so where
// one rule is chosen (check-in, discussion, wishlist, the first matching
// keyword) the group's own rule wins. Every applicable welcome rule greets;
// only the first gift is awarded, once per member and group ever (ledger ref
// "welcome:<group>:<member>"), so leaving and rejoining earns nothing.
//
// Normalisation. Text is matched in a folded form: full-width ASCII
// (ＡＢＣ，１２３) becomes half-width, letters are lower-cased, runs of
// white space become one space, and the ends are trimmed. Exact matches,
// commands and check-in answers also ignore punctuation, symbols and emoji
// at either end ("签到！", "积分?", "玫瑰红～"); answers ignore inner spaces.
// Regular expressions run on the folded text with (?i).
//
// Commands (the whole message): 积分/積分/points/我的积分 → "points";
// 排行/排行榜/排名/积分榜/rank/leaderboard → "rank"; 帮助/幫助/help → "help";
// 签到/簽到/打卡/checkin/check-in alone → "checkin_question" (or
// "checkin_closed", "checkin_done"). Punctuation around them is ignored, so
// "/points" and "积分？" work. Built-in commands take precedence over keyword
// rules (Validate refuses an exact keyword that is a command word), and
// check-in commands exist only where a check-in rule applies. Personas:
// check-in commands speak as the check-in rule's persona, "wish" as the
// wishlist rule's, and points/rank/help as the first keyword rule's (the
// bot persona of the seed), else the check-in rule's (the assistant), else
// the first applicable rule's.
//
// Check-in answers: "签到 X" with a separator (space, colon, comma, +, -,
// 、) is always an attempt, and a wrong X gets "checkin_wrong" (the shell
// replies with the hint). An accepted answer also counts glued to the word
// ("签到玫瑰红") or alone ("玫瑰红"), but other plain messages are chat, not
// wrong answers ("签到了吗"). Outside the window an attempt gets
// "checkin_closed", after today's check-in "checkin_done" (so a member
// repeating the passphrase is told, not rewarded twice).
//
// Wishes: a wishlist keyword, a separator and text ("心愿 粉底液色号",
// "心愿：…", "wish: …") is a Wish with the text as written; the keyword alone
// ("心愿", "心愿单", "wish list") is the "wish" command. Without a separator
// ("心愿是什么") it is chat.
//
// Keyword cooldowns are per rule and group (key CooldownKey(rule)); a
// Cooldown action is emitted only by rules with a cooldown. Discussion points
// count characters without spaces or end punctuation; MinRunes 0 rewards
// every message, stickers included.
//
// Links (moderation): a scheme ("http://", "https://", any "x://"), "www.",
// or a bare domain whose last label is a common TLD (com, cn, net, org, io,
// me, co, cc, tv, ly, top, vip, xyz, shop, hk, tw, …: see tlds) such as
// "abc.com/x", "t.me/x", "b23.tv". Decimals ("3.5折", "1.5元") and words
// joined by a dot with an uncommon ending ("node.js", "Mr.Wang") are not
// links. Full-width dots and slashes are folded first, so "abc．com" is a
// link; an e-mail address's domain counts as a link.
//
// Banned words match the folded text, and also the text with spaces
// removed, so "加 微 信" matches 加微信.
//
// Escalation: each offence counts the member's warnings younger than
// WarnDecayHours (all of them when 0). With fewer than WarnsBeforeMute
// active warnings the offence warns; otherwise it mutes for MuteMinutes,
// or removes the member if they were already muted MutesBeforeRemove times
// (0 = never remove automatically). Warnings keep counting after a mute, so
// the next offence inside the decay window mutes again. A flooding burst
// escalates once: a flood message within FloodSeconds of a warning is only
// hidden. Every moderated message is hidden.
//
// Check-in windows are [start, end) in the tenant's time zone. End before
// (or equal to) start crosses midnight: the check-in counts for the day the
// window opened, so with 20:00–02:00 a check-in at 01:00 counts for the
// previous day. Empty start and end mean all day. StreakBonus keys are
// exact streak lengths: {7: 20} pays on day 7 only; list 7, 14, 21… to pay
// weekly.
//
// Templates: "{name}" is a placeholder; "{{" is a literal "{"; a "{" not
// followed by a name is literal ("{:" "{价格}"); "}" is always literal. An
// unknown or unclosed placeholder is refused at save time.
package bot
