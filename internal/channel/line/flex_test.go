package line

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/liveloop/liveloop/internal/channel"
)

var card = Card{
	Title: "Silk scarf 真丝围巾", Subtitle: "Live price, today only", Price: "¥99",
	ImageURL: "https://cdn.example.com/scarf.jpg", ButtonLabel: "Buy now", ButtonURL: "https://shop.example.com/p/42",
}

func TestFlexCardShape(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(FlexCard(card))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Type string                     `json:"type"`
		Hero struct{ Type, URL string } `json:"hero"`
		Body struct {
			Type, Layout string
			Contents     []struct{ Type, Text string }
		} `json:"body"`
		Footer struct {
			Contents []struct {
				Type   string
				Action struct{ Type, Label, URI string }
			}
		} `json:"footer"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Type != "bubble" || got.Hero.Type != "image" || got.Hero.URL != card.ImageURL || got.Body.Type != "box" || got.Body.Layout != "vertical" {
		t.Fatalf("bubble %s", b)
	}
	var texts []string
	for _, c := range got.Body.Contents {
		if c.Type != "text" {
			t.Errorf("body component %+v", c)
		}
		texts = append(texts, c.Text)
	}
	if len(texts) != 3 || texts[0] != card.Title || texts[1] != card.Subtitle || texts[2] != card.Price {
		t.Errorf("texts %q", texts)
	}
	if f := got.Footer.Contents; len(f) != 1 || f[0].Type != "button" || f[0].Action.Type != "uri" ||
		f[0].Action.Label != "Buy now" || f[0].Action.URI != card.ButtonURL {
		t.Errorf("footer %s", b)
	}
	// Parts left empty are left out.
	b, _ = json.Marshal(FlexCard(Card{Title: "Coupon"}))
	var bare map[string]any
	_ = json.Unmarshal(b, &bare)
	if _, ok := bare["hero"]; ok {
		t.Errorf("bare card has a hero: %s", b)
	}
	if _, ok := bare["footer"]; ok {
		t.Errorf("bare card has a footer: %s", b)
	}
}

func TestSendFlex(t *testing.T) {
	t.Parallel()
	c, srv, _ := newLine(t)
	ctx := context.Background()
	if err := c.SendFlex(ctx, group, "card:42:group:5", "New: silk scarf ¥99", card); err != nil {
		t.Fatal(err)
	}
	if err := c.SendFlex(ctx, group, "card:42:group:5", "New: silk scarf ¥99", card); err != nil {
		t.Fatalf("retry: %v", err)
	}
	sent := srv.Sent()
	if len(sent) != 1 || sent[0].RetryKey != RetryKey("card:42:group:5", group) {
		t.Fatalf("sent %+v", sent)
	}
	var m struct {
		Type, AltText string
		Contents      struct{ Type string }
	}
	if err := json.Unmarshal(sent[0].Messages[0], &m); err != nil {
		t.Fatal(err)
	}
	if m.Type != "flex" || m.AltText != "New: silk scarf ¥99" || m.Contents.Type != "bubble" {
		t.Errorf("message %s", sent[0].Messages[0])
	}
	// Alt text defaults to the title; LINE needs one.
	if err := c.SendFlex(ctx, alice, "coupon:1", "", Card{Title: "10% off"}); err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string]Card{
		"no title":     {Price: "¥1"},
		"http image":   {Title: "x", ImageURL: "http://cdn.example.com/a.jpg"},
		"js button":    {Title: "x", ButtonURL: "javascript:alert(1)"},
		"data image":   {Title: "x", ImageURL: "data:image/png;base64,AAAA"},
		"relative url": {Title: "x", ButtonURL: "/p/42"},
	} {
		if err := c.SendFlex(ctx, alice, "bad:"+name, "alt", bad); !errors.Is(err, channel.ErrPermanent) {
			t.Errorf("%s: %v, want ErrPermanent", name, err)
		}
	}
	if err := c.SendFlex(ctx, alice, "", "alt", card); !errors.Is(err, channel.ErrPermanent) {
		t.Errorf("no idempotency key: %v", err)
	}
}
