package event

// Event types of the in-group sales formats (internal/sale): flash sales,
// chain orders (接龙) and presales. Their Source is SourceSale (or the
// channel a member acted through) and their Data is SaleData; the source
// id names the change (a member's n-th claim of a sale, a chain line, a
// reservation), so a retried change is stored once.
const (
	FlashClaimed     Type = "flash_claimed"
	FlashClosed      Type = "flash_closed"
	ChainJoined      Type = "chain_joined"
	ChainCancelled   Type = "chain_cancelled"
	ChainClosed      Type = "chain_closed"
	PresaleReserved  Type = "presale_reserved"
	PresaleEarlyTold Type = "presale_early_told"
)

// SourceSale is the source of the sales formats' own events.
const SourceSale = "sale"

// SaleData is the Data of the sales formats' events.
type SaleData struct {
	SaleID    int64   `json:"sale_id,omitempty"`    // flash_*
	ChainID   int64   `json:"chain_id,omitempty"`   // chain_*
	PresaleID int64   `json:"presale_id,omitempty"` // presale_*
	Seq       int64   `json:"seq,omitempty"`        // the claim's or the line's number
	Option    int     `json:"option,omitempty"`     // chain_joined: 1-based
	Qty       int64   `json:"qty,omitempty"`        // chain_joined
	Left      int64   `json:"left,omitempty"`       // flash_claimed: stock left after this claim
	Early     bool    `json:"early,omitempty"`      // presale_reserved
	Groups    []int64 `json:"groups,omitempty"`     // flash_*: the sale's groups
}
