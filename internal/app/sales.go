package app

import (
	"github.com/liveloop/liveloop/internal/i18n"
	"github.com/liveloop/liveloop/internal/sale"
)

// buildSales builds the in-group sales formats (flash sales, chain
// orders, presales): the runner posts their announcements, lists and
// results and tells presales' early audiences in its pass; a presale's
// tier audience asks commerce for a member's tier.
func (a *App) buildSales(cat *i18n.Catalog) {
	a.Sales = sale.New(a.DB, a.Log, a.Outbox, cat)
	if a.Commerce != nil {
		a.Sales.TierRank = a.Commerce.TierRank
	}
	a.Runner.Sales = a.Sales
}
