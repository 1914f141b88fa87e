package coupon_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/coupon"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
)

// A retried redemption answers exactly what the first did (but for
// replay): the shop may compare the answers, and redeemed_at is stored in
// milliseconds, so the first answer must not carry the clock's
// nanoseconds.
func TestRedeemReplayAnswersTheSame(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, "replay", 1)
		f.now = t0.Add(123456789 * time.Nanosecond)
		b := f.batch(t, coupon.Batch{Stock: 1})
		c, err := f.svc.Claim(ctx, f.tenant, b.ID, f.members[0])
		if err != nil {
			t.Fatal(err)
		}
		first, err := f.svc.Redeem(ctx, f.tenant, c.Code, "O-1", 6000)
		if err != nil {
			t.Fatal(err)
		}
		again, err := f.svc.Redeem(ctx, f.tenant, c.Code, "O-1", 6000)
		if err != nil || !again.Replay {
			t.Fatalf("replay: %+v %v", again, err)
		}
		again.Replay = false
		j1, _ := json.Marshal(first)
		j2, _ := json.Marshal(again)
		if string(j1) != string(j2) {
			t.Fatalf("the replay answers differently:\n first %s\n again %s", j1, j2)
		}
	})
}

// Bad input to the shop's calls is refused with its reason, and nothing
// is redeemed.
func TestRedeemBadInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, "badin", 1)
		for _, c := range []struct {
			code, order string
			amount      int64
			want        string
		}{
			{"", "O-1", 100, "code is missing"},
			{strings.Repeat("A", 41), "O-1", 100, "longer than 40"},
			{"ABC", "", 100, "order_id must be"},
			{"ABC", strings.Repeat("9", 101), 100, "order_id must be"},
			{"ABC", "O-1", -1, "non-negative"},
		} {
			_, err := f.svc.Redeem(ctx, f.tenant, c.code, c.order, c.amount)
			if !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%q %q %d: %v; want %q", c.code, c.order, c.amount, err, c.want)
			}
		}
	})
}

// A batch with a fixed end of validity takes no claim after it (its code
// would be expired on arrival) and is no longer offered; claims cannot be
// set to close after it.
func TestClaimsEndWithValidity(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, "validend", 2)
		b := f.batch(t, coupon.Batch{Stock: 5, ValidUntil: t0.Add(24 * time.Hour)})
		if !b.ClosesAt.Equal(b.ValidUntil) {
			t.Fatalf("claims close at %v; validity ends %v", b.ClosesAt, b.ValidUntil)
		}
		if _, err := f.svc.Claim(ctx, f.tenant, b.ID, f.members[0]); err != nil {
			t.Fatal(err)
		}
		f.now = t0.Add(25 * time.Hour)
		if _, err := f.svc.Claim(ctx, f.tenant, b.ID, f.members[1]); !errors.Is(err, coupon.ErrClosed) {
			t.Fatalf("claim after the validity: %v", err)
		}
		offers, err := f.svc.Offers(ctx, f.tenant, f.members[1])
		if err != nil || len(offers) != 0 {
			t.Fatalf("offers after the validity: %+v %v", offers, err)
		}
		f.now = t0
		_, err = f.svc.CreateBatch(ctx, coupon.Batch{TenantID: f.tenant, Name: "late", Kind: coupon.Amount, AmountMinor: 100, Stock: 1, PerMember: 1,
			ValidUntil: t0.Add(time.Hour), ClosesAt: t0.Add(2 * time.Hour)})
		if !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "by the end of validity") {
			t.Fatalf("claims closing after the validity: %v", err)
		}
	})
}
