package line

import (
	"context"
	"fmt"
	"strings"

	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"

	"github.com/liveloop/liveloop/internal/channel"
)

// Card is a product or coupon card, sent as a Flex bubble: the channel's
// card (Title required; ImageURL https; ButtonURL http(s), line:// or tel:).
type Card = channel.Card

// maxAltText is LINE's limit on a Flex message's alternative text, shown
// in notifications and chat lists.
const maxAltText = 1500

// FlexCard builds the Flex bubble for c: a hero image, a body with the
// title, subtitle and price, and a footer button that opens ButtonURL.
// Empty parts are left out; SendFlex requires the title.
func FlexCard(c Card) *messaging_api.FlexBubble {
	// Contents is never null: LINE wants an array, even an empty one.
	body := &messaging_api.FlexBox{Layout: messaging_api.FlexBoxLAYOUT_VERTICAL, Spacing: "sm",
		Contents: []messaging_api.FlexComponentInterface{}}
	add := func(text, size, weight, color string) {
		if text == "" {
			return
		}
		body.Contents = append(body.Contents, &messaging_api.FlexText{
			Text: text, Size: size, Weight: messaging_api.FlexTextWEIGHT(weight), Color: color, Wrap: true,
		})
	}
	add(c.Title, "xl", "bold", "")
	add(c.Subtitle, "sm", "", "#666666")
	add(c.Price, "lg", "bold", "#E03C31")
	b := &messaging_api.FlexBubble{Body: body}
	if c.ImageURL != "" {
		b.Hero = &messaging_api.FlexImage{Url: c.ImageURL, Size: "full", AspectRatio: "1:1", AspectMode: messaging_api.FlexImageASPECT_MODE_COVER}
	}
	if c.ButtonURL != "" {
		label := c.ButtonLabel
		if label == "" {
			label = "Open"
		}
		b.Footer = &messaging_api.FlexBox{Layout: messaging_api.FlexBoxLAYOUT_VERTICAL, Contents: []messaging_api.FlexComponentInterface{
			&messaging_api.FlexButton{Style: messaging_api.FlexButtonSTYLE_PRIMARY, Action: &messaging_api.UriAction{Label: Truncate(label, MaxButtonLabel), Uri: c.ButtonURL}},
		}}
	}
	return b
}

// SendFlex pushes card to to (a group, room or user id) as a Flex message
// with altText, under the retry key derived from idemKey — the same
// exactly-once rules as Send.
func (c *Channel) SendFlex(ctx context.Context, to, idemKey, altText string, card Card) error {
	_, err := c.Send(ctx, channel.Message{To: to, IdemKey: idemKey, Text: altText, Card: &card})
	return err
}

// flexMessage checks card and wraps it with its alternative text.
func flexMessage(altText string, card Card) (*messaging_api.FlexMessage, error) {
	if strings.TrimSpace(card.Title) == "" {
		return nil, fmt.Errorf("%w: line: card has no title", channel.ErrPermanent)
	}
	if strings.TrimSpace(altText) == "" {
		altText = card.Title
	}
	if card.ImageURL != "" && !strings.HasPrefix(card.ImageURL, "https://") {
		return nil, fmt.Errorf("%w: line: card image URL must be https", channel.ErrPermanent)
	}
	if u := card.ButtonURL; u != "" && !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") &&
		!strings.HasPrefix(u, "line://") && !strings.HasPrefix(u, "tel:") {
		return nil, fmt.Errorf("%w: line: card button URL must be http(s), line:// or tel:", channel.ErrPermanent)
	}
	return &messaging_api.FlexMessage{AltText: Truncate(altText, maxAltText), Contents: FlexCard(card)}, nil
}
