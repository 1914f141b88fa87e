package live_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/live"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
)

func TestLotteryDraw(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, 30)
		l := f.schedule(t)
		for name, lt := range map[string]live.Lottery{
			"no prize":      {TenantID: f.tenant, LiveID: l.ID, WinnerCount: 1},
			"no winners":    {TenantID: f.tenant, LiveID: l.ID, Prize: "p"},
			"many winners":  {TenantID: f.tenant, LiveID: l.ID, Prize: "p", WinnerCount: live.MaxWinners + 1},
			"bad criteria":  {TenantID: f.tenant, LiveID: l.ID, Prize: "p", WinnerCount: 1, Criteria: live.Criteria{MinMemberDays: -1}},
			"their group":   {TenantID: f.other, LiveID: l.ID, Prize: "p", WinnerCount: 1},
			"foreign group": {TenantID: f.tenant, LiveID: l.ID, Prize: "p", WinnerCount: 1, Criteria: live.Criteria{GroupID: 999999}},
		} {
			if _, err := f.svc.Commit(ctx, lt); err == nil {
				t.Errorf("%s: committed", name)
			}
		}
		lt, err := f.svc.Commit(ctx, live.Lottery{TenantID: f.tenant, LiveID: l.ID, Prize: "口红一支", WinnerCount: 3,
			Criteria: live.Criteria{Commented: true, GroupID: f.group}})
		if err != nil {
			t.Fatal(err)
		}
		if len(lt.Commitment) != 64 || lt.Seed != nil {
			t.Fatalf("committed %+v", lt)
		}
		// Before the draw the seed stays secret.
		stored, err := f.svc.Lottery(ctx, f.tenant, lt.ID)
		if err != nil || stored.Seed != nil || stored.Drawn() || stored.Commitment != lt.Commitment || stored.Criteria.GroupID != f.group {
			t.Fatalf("before the draw: %+v %v", stored, err)
		}
		eligible := slices.Clone(f.members[:20])
		if _, err := f.svc.Draw(ctx, f.tenant, lt.ID, eligible); !errors.Is(err, live.ErrInvalid) || !strings.Contains(err.Error(), "only while the live is on") {
			t.Fatalf("draw before the start: %v", err)
		}
		if _, _, err := f.svc.Start(ctx, f.tenant, l.ID); err != nil {
			t.Fatal(err)
		}
		for name, el := range map[string][]int64{"no one": nil, "bad id": {-3, f.members[0]}} {
			if _, err := f.svc.Draw(ctx, f.tenant, lt.ID, el); !errors.Is(err, live.ErrInvalid) {
				t.Fatalf("%s: %v", name, err)
			}
		}
		if _, err := f.svc.Draw(ctx, f.other, lt.ID, eligible); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("other tenant's draw: %v", err)
		}
		slices.Reverse(eligible) // the order given does not matter
		// Racing draws: one wins, the others find it drawn.
		var wg sync.WaitGroup
		var mu sync.Mutex
		var drawn []live.Lottery
		for range 5 {
			wg.Go(func() {
				got, err := f.svc.Draw(ctx, f.tenant, lt.ID, eligible)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					drawn = append(drawn, got)
				case !errors.Is(err, live.ErrDrawn):
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if len(drawn) != 1 {
			t.Fatalf("%d draws succeeded", len(drawn))
		}
		d := drawn[0]
		if len(d.Winners) != 3 || len(d.Seed) != live.SeedSize || !slices.IsSorted(d.Eligible) || len(d.Eligible) != 20 {
			t.Fatalf("drawn %+v", d)
		}
		for _, w := range d.Winners {
			if !slices.Contains(f.members[:20], w) {
				t.Fatalf("winner %d was not eligible", w)
			}
		}
		// Anyone can recompute it from what is published.
		pub, err := f.svc.Lottery(ctx, f.tenant, lt.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := live.Verify(pub.Seed, lt.Commitment, pub.Eligible, pub.WinnerCount, pub.Winners); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(pub.Winners, d.Winners) || !slices.Equal(pub.Winners, live.Pick(pub.Seed, f.members[:20], 3)) {
			t.Fatalf("stored winners %v, drawn %v", pub.Winners, d.Winners)
		}
		if n := f.count(t, event.LotteryDrawn); n != 1 {
			t.Fatalf("%d lottery_drawn events", n)
		}
		ls, err := f.svc.Lotteries(ctx, f.tenant, l.ID)
		if err != nil || len(ls) != 1 || !ls[0].Drawn() {
			t.Fatalf("lotteries %+v %v", ls, err)
		}

		// A second lottery: RecentWinners feeds "not a winner in the last K".
		lt2, err := f.svc.Commit(ctx, live.Lottery{TenantID: f.tenant, LiveID: l.ID, Prize: "p2", WinnerCount: 50})
		if err != nil {
			t.Fatal(err)
		}
		recent, err := f.svc.RecentWinners(ctx, f.tenant, 5)
		if err != nil || len(recent) != 1 || !slices.Equal(recent[0], d.Winners) {
			t.Fatalf("recent winners %v %v", recent, err)
		}
		var cands []live.Candidate
		for _, m := range f.members {
			cands = append(cands, live.Candidate{MemberID: m})
		}
		el := live.Eligible(live.Criteria{NotWonInLast: 1}, pub.DrawnAt, recent, cands)
		if len(el) != 27 {
			t.Fatalf("%d eligible after excluding 3 winners", len(el))
		}
		// More winners than eligible: everyone wins.
		d2, err := f.svc.Draw(ctx, f.tenant, lt2.ID, el)
		if err != nil || len(d2.Winners) != 27 {
			t.Fatalf("draw 2: %v %v", d2.Winners, err)
		}
		for _, w := range d.Winners {
			if slices.Contains(d2.Winners, w) {
				t.Fatalf("a recent winner %d won again", w)
			}
		}
		if recent, _ := f.svc.RecentWinners(ctx, f.tenant, 5); len(recent) != 2 || len(recent[0]) != 27 {
			t.Fatalf("recent winners, newest first: %v", recent)
		}
		// Another tenant's member cannot be drawn.
		lt3, err := f.svc.Commit(ctx, live.Lottery{TenantID: f.tenant, LiveID: l.ID, Prize: "p3", WinnerCount: 5})
		if err != nil {
			t.Fatal(err)
		}
		theirs := addMembers(t, db, f.other, 1)
		if _, err := f.svc.Draw(ctx, f.tenant, lt3.ID, append(theirs, f.members[0])); !errors.Is(err, live.ErrInvalid) {
			t.Fatalf("foreign member drawn: %v", err)
		}
		if again, _ := f.svc.Lottery(ctx, f.tenant, lt3.ID); again.Drawn() || again.Seed != nil {
			t.Fatalf("a refused draw left %+v", again)
		}
	})
}

func TestClaimPrize(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, 2)
		l := f.schedule(t)
		if _, _, err := f.svc.Start(ctx, f.tenant, l.ID); err != nil {
			t.Fatal(err)
		}
		lt, err := f.svc.Commit(ctx, live.Lottery{TenantID: f.tenant, LiveID: l.ID, Prize: "p", WinnerCount: 1})
		if err != nil {
			t.Fatal(err)
		}
		winner := f.members[0]
		if _, err := f.svc.Draw(ctx, f.tenant, lt.ID, []int64{winner}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.ClaimPrize(ctx, f.tenant, lt.ID, f.members[1]); !errors.Is(err, live.ErrNotWinner) {
			t.Fatalf("a loser claims: %v", err)
		}
		// Winners must be in the live's groups to claim (seed 001's hook).
		if _, err := f.svc.ClaimPrize(ctx, f.tenant, lt.ID, winner); !errors.Is(err, live.ErrNotMember) || !errors.Is(err, store.ErrForbidden) {
			t.Fatalf("a non-member winner claims: %v", err)
		}
		f.join(t, winner)
		if claimed, err := f.svc.ClaimPrize(ctx, f.tenant, lt.ID, winner); err != nil || !claimed {
			t.Fatalf("claim: %v %v", claimed, err)
		}
		if claimed, err := f.svc.ClaimPrize(ctx, f.tenant, lt.ID, winner); err != nil || claimed {
			t.Fatalf("claim again: %v %v", claimed, err)
		}
		if _, err := f.svc.ClaimPrize(ctx, f.other, lt.ID, winner); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("other tenant: %v", err)
		}
	})
}
