package track

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"

	"github.com/liveloop/liveloop/internal/outbox"
	"github.com/liveloop/liveloop/internal/store"
)

// urlRE finds the http(s) links in a message: the characters a URL may
// hold (RFC 3986), ASCII only, so a link written against Chinese text
// ("https://a.cn/x，快来") ends where the text begins.
var urlRE = regexp.MustCompile(`https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+`)

// FindURLs returns the positions of the links in text (start, end pairs),
// each without the punctuation that ends a sentence after it.
func FindURLs(text string) [][2]int {
	var out [][2]int
	for _, m := range urlRE.FindAllStringIndex(text, -1) {
		u := trimURL(text[m[0]:m[1]])
		if i := strings.Index(u, "://"); len(u) > i+3 { // a host follows
			out = append(out, [2]int{m[0], m[0] + len(u)})
		}
	}
	return out
}

// trimURL drops trailing punctuation that belongs to the sentence: ".",
// ",", "!", "?", quotes, and a closing bracket the link did not open.
func trimURL(u string) string {
	for u != "" {
		last := u[len(u)-1]
		switch {
		case strings.IndexByte(".,;:!?'\"", last) >= 0:
			u = u[:len(u)-1]
		case last == ')' && strings.Count(u, "(") < strings.Count(u, ")"),
			last == ']' && strings.Count(u, "[") < strings.Count(u, "]"):
			u = u[:len(u)-1]
		default:
			return u
		}
	}
	return u
}

// RewriteTx replaces every http(s) link of text with its tracked link
// (spec with each link as its URL), inside the caller's transaction. Links
// that are tracked already, those in spec.Keep and those that cannot be
// targets (too long) stay as they are.
func (s *Service) RewriteTx(ctx context.Context, tx *store.Tx, tenantID int64, text string, spec Spec) (string, error) {
	spans := FindURLs(text)
	if len(spans) == 0 {
		return text, nil
	}
	var b strings.Builder
	done := map[string]string{}
	prev := 0
	for _, sp := range spans {
		u := text[sp[0]:sp[1]]
		short, ok := done[u]
		if !ok {
			short = u
			if !slices.Contains(spec.Keep, u) {
				one := spec
				one.URL = u
				var err error
				if short, err = s.LinkTx(ctx, tx, tenantID, one); errors.Is(err, ErrTarget) {
					short = u
				} else if err != nil {
					return "", err
				}
			}
			done[u] = short
		}
		b.WriteString(text[prev:sp[0]])
		b.WriteString(short)
		prev = sp[1]
	}
	b.WriteString(text[prev:])
	return b.String(), nil
}

// ItemTx tracks the links of an outbox item before it is queued, in the
// same transaction: its text's links and its card's button. The item's
// group, member and idempotency key fill spec's when spec has none.
func (s *Service) ItemTx(ctx context.Context, tx *store.Tx, it *outbox.Item, spec Spec) error {
	if spec.GroupID == 0 {
		spec.GroupID = it.GroupID
	}
	if spec.MemberID == 0 {
		spec.MemberID = it.MemberID
	}
	if spec.Ref == "" {
		spec.Ref = it.IdemKey
	}
	body, err := s.RewriteTx(ctx, tx, it.TenantID, it.Body, spec)
	if err != nil {
		return err
	}
	it.Body = body
	if it.Card != nil && it.Card.ButtonURL != "" {
		one := spec
		one.URL = it.Card.ButtonURL
		short, err := s.LinkTx(ctx, tx, it.TenantID, one)
		switch {
		case errors.Is(err, ErrTarget):
		case err != nil:
			return err
		default:
			card := *it.Card
			card.ButtonURL = short
			it.Card = &card
		}
	}
	return nil
}
