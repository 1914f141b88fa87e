package linetest

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf16"
)

// detail is one entry of a 400's "details", as LINE reports them.
type detail struct {
	Message  string `json:"message"`
	Property string `json:"property"`
}

// Limits from the message-object reference.
const (
	maxMessages     = 5
	maxText         = 5000
	maxQuickReplies = 13
	maxActionLabel  = 20
	maxPostbackData = 300
	maxAltText      = 1500
	maxSenderName   = 20
	maxFlexButton   = 40
)

// lineLen counts characters as LINE does (UTF-16 code units).
func lineLen(s string) int { return len(utf16.Encode([]rune(s))) }

// validateMessages checks the messages of a push or reply the way the
// reference describes them; it knows text and Flex messages, the two
// liveloop sends, and refuses other types.
func validateMessages(raws []json.RawMessage) []detail {
	var v validator
	if len(raws) == 0 || len(raws) > maxMessages {
		v.fail("messages", "Size must be between 1 and %d", maxMessages)
	}
	for i, raw := range raws {
		var m map[string]any
		if json.Unmarshal(raw, &m) != nil {
			v.fail(fmt.Sprintf("messages[%d]", i), "Must be an object")
			continue
		}
		v.message(fmt.Sprintf("messages[%d]", i), m)
	}
	return v.details
}

type validator struct{ details []detail }

func (v *validator) fail(prop, format string, args ...any) {
	v.details = append(v.details, detail{Message: fmt.Sprintf(format, args...), Property: prop})
}

func (v *validator) message(p string, m map[string]any) {
	switch str(m["type"]) {
	case "text":
		text := str(m["text"])
		if text == "" || lineLen(text) > maxText {
			v.fail(p+".text", "Length must be between 1 and %d", maxText)
		}
	case "flex":
		alt := str(m["altText"])
		if alt == "" || lineLen(alt) > maxAltText {
			v.fail(p+".altText", "Length must be between 1 and %d", maxAltText)
		}
		v.container(p+".contents", obj(m["contents"]))
	default:
		v.fail(p+".type", "Must be one of the supported message types")
		return
	}
	if s, ok := m["sender"]; ok {
		v.sender(p+".sender", obj(s))
	}
	if q, ok := m["quickReply"]; ok {
		v.quickReply(p+".quickReply", obj(q))
	}
}

func (v *validator) sender(p string, s map[string]any) {
	if name, ok := s["name"]; ok && (str(name) == "" || lineLen(str(name)) > maxSenderName || strings.Contains(strings.ToUpper(str(name)), "LINE")) {
		v.fail(p+".name", "Invalid sender name")
	}
	if icon, ok := s["iconUrl"]; ok && !strings.HasPrefix(str(icon), "https://") {
		v.fail(p+".iconUrl", "Must be an HTTPS URL")
	}
}

func (v *validator) quickReply(p string, q map[string]any) {
	items, _ := q["items"].([]any)
	if len(items) == 0 || len(items) > maxQuickReplies {
		v.fail(p+".items", "Size must be between 1 and %d", maxQuickReplies)
	}
	for i, it := range items {
		ip := fmt.Sprintf("%s.items[%d]", p, i)
		item := obj(it)
		if str(item["type"]) != "action" {
			v.fail(ip+".type", "Must be action")
		}
		v.action(ip+".action", obj(item["action"]), maxActionLabel, true)
	}
}

// action checks a postback or URI action; quick-reply actions need a label.
func (v *validator) action(p string, a map[string]any, maxLabel int, needLabel bool) {
	label := str(a["label"])
	if (needLabel && label == "") || lineLen(label) > maxLabel {
		v.fail(p+".label", "Length must be between 1 and %d", maxLabel)
	}
	switch str(a["type"]) {
	case "postback":
		if d := str(a["data"]); d == "" || lineLen(d) > maxPostbackData {
			v.fail(p+".data", "Length must be between 1 and %d", maxPostbackData)
		}
	case "uri":
		u := str(a["uri"])
		if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "tel:") && !strings.HasPrefix(u, "line://") {
			v.fail(p+".uri", "Must be an http, https, line or tel URI")
		}
	case "message":
		if str(a["text"]) == "" {
			v.fail(p+".text", "May not be empty")
		}
	default:
		v.fail(p+".type", "Must be one of the supported action types")
	}
}

func (v *validator) container(p string, c map[string]any) {
	switch str(c["type"]) {
	case "bubble":
		v.bubble(p, c)
	case "carousel":
		bubbles, _ := c["contents"].([]any)
		if len(bubbles) == 0 || len(bubbles) > 12 {
			v.fail(p+".contents", "Size must be between 1 and 12")
		}
		for i, b := range bubbles {
			v.bubble(fmt.Sprintf("%s.contents[%d]", p, i), obj(b))
		}
	default:
		v.fail(p+".type", "Must be bubble or carousel")
	}
}

func (v *validator) bubble(p string, b map[string]any) {
	if str(b["type"]) != "bubble" {
		v.fail(p+".type", "Must be bubble")
	}
	for _, block := range []string{"header", "body", "footer"} {
		if x, ok := b[block]; ok {
			box := obj(x)
			if str(box["type"]) != "box" {
				v.fail(p+"."+block+".type", "Must be box")
			}
			v.component(p+"."+block, box)
		}
	}
	if h, ok := b["hero"]; ok {
		v.component(p+".hero", obj(h))
	}
}

func (v *validator) component(p string, c map[string]any) {
	switch str(c["type"]) {
	case "box":
		switch str(c["layout"]) {
		case "horizontal", "vertical", "baseline":
		default:
			v.fail(p+".layout", "Must be horizontal, vertical or baseline")
		}
		contents, ok := c["contents"].([]any)
		if !ok {
			v.fail(p+".contents", "Must be an array")
		}
		for i, x := range contents {
			v.component(fmt.Sprintf("%s.contents[%d]", p, i), obj(x))
		}
	case "text":
		if str(c["text"]) == "" && c["contents"] == nil {
			v.fail(p+".text", "May not be empty")
		}
	case "image":
		if !strings.HasPrefix(str(c["url"]), "https://") {
			v.fail(p+".url", "Must be an HTTPS URL")
		}
	case "button":
		v.action(p+".action", obj(c["action"]), maxFlexButton, true)
	case "separator", "filler", "icon", "span", "video":
	default:
		v.fail(p+".type", "Must be a Flex component type")
	}
}

func str(x any) string {
	s, _ := x.(string)
	return s
}

func obj(x any) map[string]any {
	m, _ := x.(map[string]any)
	return m
}
