package demo

import (
	"context"
	"fmt"

	"github.com/liveloop/liveloop/internal/live"
)

// seedRestock: the sample-size foundation on tomorrow's list is sold out
// already, and a few members pressed "notify me" — the live's console
// page offers them a re-sale. (The wishers of the foundation and the
// winter cream were told privately when the live was scheduled: the app's
// products hook matches wishes to the list.)
func (g *generator) seedRestock(ctx context.Context, l live.Live) error {
	var soldOut int64
	for _, p := range l.Products {
		if p.SoldOut() {
			soldOut = p.ID
		}
	}
	if soldOut == 0 {
		return nil
	}
	for i := 0; i < len(g.members) && i < 24; i += 3 {
		if _, err := g.d.Lives.RequestRestock(ctx, g.tenant.ID, l.ID, soldOut, g.members[i].id); err != nil {
			return fmt.Errorf("demo: restock request: %w", err)
		}
	}
	return nil
}
