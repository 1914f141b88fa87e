package campaign

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Locales a content item has variants in.
const (
	LocaleZhCN = "zh-CN"
	LocaleZhTW = "zh-TW"
	LocaleEn   = "en"
)

// Locales lists the supported locales, the default first.
var Locales = []string{LocaleZhCN, LocaleZhTW, LocaleEn}

// Placeholders are the names a content text may use in braces.
//
//	{name}       the member's display name in a private message; in a group
//	             post, the group-neutral greeting ("大家" / "everyone"), so a
//	             text such as "{name}，晚上好" reads well in both
//	{live_title} the live's title
//	{live_time}  the live's start in the tenant's zone ("3月12日 20:00", "Mar 12, 20:00")
//	{countdown}  time left until the live's start when the message goes out
//	             ("3 天", "2 小时", "10 分钟"; "3 days", "2 hours", "10 minutes")
//	{link}       the tracked link handed in Vars
//	{brand}      the tenant's name
//
// A brace pair around anything other than letters, digits and underscores
// ("{^_^}") is plain text.
var Placeholders = []string{"name", "live_title", "live_time", "countdown", "link", "brand"}

var placeholderRE = regexp.MustCompile(`\{([A-Za-z0-9_]+)\}`)

// ValidateText refuses a text that uses a placeholder liveloop does not
// know, naming each unknown one; the error wraps store.ErrInvalid.
func ValidateText(text string) error {
	var unknown []string
	for _, m := range placeholderRE.FindAllStringSubmatch(text, -1) {
		if !slices.Contains(Placeholders, m[1]) && !slices.Contains(unknown, "{"+m[1]+"}") {
			unknown = append(unknown, "{"+m[1]+"}")
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("%w: unknown placeholder %s (known: {%s})", ErrInvalid, strings.Join(unknown, ", "),
			strings.Join(Placeholders, "}, {"))
	}
	return nil
}

// Vars are the values the placeholders take in one message.
type Vars struct {
	Name      string // the member's display name (a private message)
	Group     bool   // a group post: {name} becomes the group greeting
	Brand     string
	LiveTitle string
	LiveAt    time.Time      // the live's start (zero: no live; {live_time} and {countdown} are empty)
	Now       time.Time      // when the message goes out; {countdown} counts from it
	Loc       *time.Location // the tenant's zone, for {live_time} (nil: UTC)
	Link      string
}

// CanonicalLocale maps a language tag to one of Locales ("" when none
// fits): zh, zh-Hans, zh-CN → zh-CN; zh-Hant, zh-TW, zh-HK → zh-TW; en* → en.
func CanonicalLocale(tag string) string {
	t := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(tag), "_", "-"))
	switch {
	case t == "":
		return ""
	case t == "zh-tw" || t == "zh-hk" || t == "zh-mo" || strings.HasPrefix(t, "zh-hant"):
		return LocaleZhTW
	case t == "zh" || strings.HasPrefix(t, "zh-"):
		return LocaleZhCN
	case t == "en" || strings.HasPrefix(t, "en-"):
		return LocaleEn
	}
	return ""
}

// Variant picks the text of c for a reader: the requested locale, else the
// fallback, else zh-CN, else any variant (the first in locale order). It
// returns the locale it chose, so the words around the placeholders match.
func Variant(c Content, locale, fallback string) (text, chosen string) {
	for _, l := range []string{CanonicalLocale(locale), CanonicalLocale(fallback), LocaleZhCN} {
		if t := c.Variants[l]; l != "" && strings.TrimSpace(t) != "" {
			return t, l
		}
	}
	keys := make([]string, 0, len(c.Variants))
	for k := range c.Variants {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return localeRank(a) - localeRank(b) })
	for _, k := range keys {
		if strings.TrimSpace(c.Variants[k]) != "" {
			return c.Variants[k], k
		}
	}
	return "", LocaleZhCN
}

func localeRank(l string) int {
	if i := slices.Index(Locales, l); i >= 0 {
		return i
	}
	return len(Locales)
}

// Render is c as the reader sees it: the variant Variant picks, with the
// placeholders filled from v in that variant's language.
func Render(c Content, locale, fallbackLocale string, v Vars) string {
	text, chosen := Variant(c, locale, fallbackLocale)
	return Fill(text, chosen, v)
}

// Fill replaces the placeholders of text, in the words of locale.
func Fill(text, locale string, v Vars) string {
	w := wordsFor(locale)
	return placeholderRE.ReplaceAllStringFunc(text, func(m string) string {
		switch m[1 : len(m)-1] {
		case "name":
			if v.Group || strings.TrimSpace(v.Name) == "" {
				return w.everyone
			}
			return v.Name
		case "brand":
			return v.Brand
		case "live_title":
			return v.LiveTitle
		case "live_time":
			return liveTime(v, w)
		case "countdown":
			if v.LiveAt.IsZero() {
				return ""
			}
			return Countdown(v.LiveAt.Sub(v.Now), locale)
		case "link":
			return v.Link
		}
		return m
	})
}

type words struct {
	everyone, now                     string
	day, days, hour, hours, min, mins string
	dateFunc                          func(t time.Time) string
	cardButton                        string // the button of a product card
}

var wordsByLocale = map[string]words{
	LocaleZhCN: {everyone: "大家", now: "现在", day: "%d 天", days: "%d 天", hour: "%d 小时", hours: "%d 小时", min: "%d 分钟", mins: "%d 分钟",
		dateFunc: func(t time.Time) string { return fmt.Sprintf("%d月%d日 %s", t.Month(), t.Day(), t.Format("15:04")) }, cardButton: "查看"},
	LocaleZhTW: {everyone: "大家", now: "現在", day: "%d 天", days: "%d 天", hour: "%d 小時", hours: "%d 小時", min: "%d 分鐘", mins: "%d 分鐘",
		dateFunc: func(t time.Time) string { return fmt.Sprintf("%d月%d日 %s", t.Month(), t.Day(), t.Format("15:04")) }, cardButton: "查看"},
	LocaleEn: {everyone: "everyone", now: "now", day: "%d day", days: "%d days", hour: "%d hour", hours: "%d hours", min: "%d minute", mins: "%d minutes",
		dateFunc: func(t time.Time) string { return t.Format("Jan 2, 15:04") }, cardButton: "View"},
}

func wordsFor(locale string) words {
	if w, ok := wordsByLocale[CanonicalLocale(locale)]; ok {
		return w
	}
	return wordsByLocale[LocaleZhCN]
}

func liveTime(v Vars, w words) string {
	if v.LiveAt.IsZero() {
		return ""
	}
	loc := v.Loc
	if loc == nil {
		loc = time.UTC
	}
	return w.dateFunc(v.LiveAt.In(loc))
}

// Countdown words the time left d in locale: whole days from 23½ hours,
// whole hours from 59½ minutes, else minutes (at least 1), each rounded to
// the nearest — so a message due at T-3 and sent a few seconds late still
// says "3 days". Zero or less is "now".
func Countdown(d time.Duration, locale string) string {
	w := wordsFor(locale)
	plural := func(n int64, one, many string) string {
		if n == 1 {
			return fmt.Sprintf(one, n)
		}
		return fmt.Sprintf(many, n)
	}
	switch {
	case d <= 0:
		return w.now
	case d >= 23*time.Hour+30*time.Minute:
		return plural(int64((d+12*time.Hour)/(24*time.Hour)), w.day, w.days)
	case d >= 59*time.Minute+30*time.Second:
		return plural(int64((d+30*time.Minute)/time.Hour), w.hour, w.hours)
	}
	return plural(max(1, int64((d+30*time.Second)/time.Minute)), w.min, w.mins)
}
