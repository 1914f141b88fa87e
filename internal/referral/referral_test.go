package referral

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/channel"
	"github.com/liveloop/liveloop/internal/channel/webchat"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/i18n"
	"github.com/liveloop/liveloop/internal/loyalty"
	"github.com/liveloop/liveloop/internal/member"
	"github.com/liveloop/liveloop/internal/notify"
	"github.com/liveloop/liveloop/internal/outbox"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
	"github.com/liveloop/liveloop/internal/tenant"
)

func TestPick(t *testing.T) {
	g := func(id int64, soft, hard, active int) slot {
		return slot{SetGroup: SetGroup{GroupID: id, SoftCap: soft, HardCap: hard, Active: active, Capacity: 500}}
	}
	for _, tc := range []struct {
		name    string
		slots   []slot
		want    int64
		already bool
		err     error
	}{
		{"first below soft", []slot{g(1, 2, 3, 1), g(2, 2, 3, 0)}, 1, false, nil},
		{"next below soft", []slot{g(1, 2, 3, 2), g(2, 2, 3, 0)}, 2, false, nil},
		{"all at soft: first below hard", []slot{g(1, 2, 3, 2), g(2, 2, 4, 2)}, 1, false, nil},
		{"skip hard-full", []slot{g(1, 2, 3, 3), g(2, 2, 4, 2)}, 2, false, nil},
		{"all full", []slot{g(1, 2, 3, 3), g(2, 2, 2, 2)}, 0, false, ErrSetFull},
		{"capacity bounds the hard cap", []slot{{SetGroup: SetGroup{GroupID: 1, SoftCap: 5, HardCap: 9, Active: 4, Capacity: 4}}, g(2, 2, 2, 0)}, 2, false, nil},
		{"member already in a later group", []slot{g(1, 2, 3, 0), {SetGroup: SetGroup{GroupID: 2, SoftCap: 1, HardCap: 1, Active: 1}, in: true}}, 2, true, nil},
		{"removed is skipped", []slot{{SetGroup: SetGroup{GroupID: 1, SoftCap: 2, HardCap: 2}, removed: true}, g(2, 2, 2, 1)}, 2, false, nil},
		{"archived is skipped", []slot{{SetGroup: SetGroup{GroupID: 1, SoftCap: 2, HardCap: 2, Archived: true}}, g(2, 2, 2, 1)}, 2, false, nil},
		{"empty set", nil, 0, false, ErrSetFull},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, already, err := pick(tc.slots)
			if got != tc.want || already != tc.already || !errors.Is(err, tc.err) {
				t.Fatalf("pick = %d, %v, %v; want %d, %v, %v", got, already, err, tc.want, tc.already, tc.err)
			}
		})
	}
}

type fixture struct {
	db     *store.DB
	svc    *Service
	comm   *community.Service
	mem    *member.Service
	loy    *loyalty.Service
	tenant int64
	now    time.Time
	mu     sync.Mutex
}

func setup(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	log := event.NewLog(db, event.NewLocalBus())
	tn, err := tenant.NewService(db).Create(ctx, tenant.Tenant{Slug: "ref", Name: "Ref"})
	if err != nil {
		t.Fatal(err)
	}
	ob := outbox.New(db, channel.NewRegistry(webchat.New(log)), slog.New(slog.NewTextHandler(io.Discard, nil)))
	f := &fixture{db: db, comm: community.NewService(db, log), mem: member.NewService(db, log), loy: loyalty.NewService(db, log),
		tenant: tn.ID, now: time.Now().UTC().Truncate(time.Millisecond)} // leaves are stamped by the real clock
	f.svc = New(db, f.comm, f.loy, log, &notify.Notifier{Outbox: ob}, i18n.MustLoad())
	f.svc.SetClock(func() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now })
	return f
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

func (f *fixture) group(t *testing.T, name string) community.Group {
	t.Helper()
	g, _, err := f.comm.CreateGroup(context.Background(), community.Group{TenantID: f.tenant, Channel: webchat.Name, Name: name, Kind: community.Referral})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func (f *fixture) member(t *testing.T, name string) int64 {
	t.Helper()
	m, err := f.mem.Create(context.Background(), member.Member{TenantID: f.tenant, DisplayName: name},
		member.Identity{Channel: webchat.Name, ExternalID: "web-" + name})
	if err != nil {
		t.Fatal(err)
	}
	return m.ID
}

// joinSet routes and joins in one transaction, as the web join does.
func (f *fixture) joinSet(ctx context.Context, setID, memberID int64, jc community.JoinCode) (int64, error) {
	var gid int64
	err := f.db.InTx(ctx, func(tx *store.Tx) error {
		var already bool
		var err error
		if gid, already, err = f.svc.RouteTx(ctx, tx, f.tenant, setID, memberID); err != nil || already {
			return err
		}
		_, err = f.comm.JoinTx(ctx, tx, community.JoinRequest{TenantID: f.tenant, GroupID: gid, MemberID: memberID, JoinCode: jc, Source: "test"})
		return err
	})
	return gid, err
}

func TestSetRouting(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		a, b := f.group(t, "A"), f.group(t, "B")
		if _, _, err := f.svc.CreateSet(ctx, Set{TenantID: f.tenant, Name: "bad", Groups: []SetGroup{{GroupID: a.ID, SoftCap: 3, HardCap: 2}}}); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("hard < soft: %v", err)
		}
		if _, _, err := f.svc.CreateSet(ctx, Set{TenantID: f.tenant, Name: "bad", Groups: []SetGroup{{GroupID: 9999, SoftCap: 3}}}); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("foreign group: %v", err)
		}
		st, jc, err := f.svc.CreateSet(ctx, Set{TenantID: f.tenant, Name: "活码", Groups: []SetGroup{
			{GroupID: a.ID, SoftCap: 2, HardCap: 3}, {GroupID: b.ID, SoftCap: 2, HardCap: 3}}})
		if err != nil {
			t.Fatal(err)
		}
		if jc.SetID != st.ID || jc.GroupID != a.ID {
			t.Fatalf("set code %+v", jc)
		}
		// The group's own links do not list the set's code.
		if codes, _ := f.comm.JoinCodes(ctx, f.tenant, a.ID); len(codes) != 1 || codes[0].SetID != 0 {
			t.Fatalf("group codes %+v", codes)
		}
		want := []int64{a.ID, a.ID, b.ID, b.ID, a.ID, b.ID}
		var ids []int64
		for i, w := range want {
			m := f.member(t, fmt.Sprint("m", i))
			ids = append(ids, m)
			got, err := f.joinSet(ctx, st.ID, m, jc)
			if err != nil || got != w {
				t.Fatalf("join %d: group %d, %v; want %d", i, got, err, w)
			}
		}
		// Everyone full: refused, and the console is told.
		late := f.member(t, "late")
		if _, err := f.joinSet(ctx, st.ID, late, jc); !errors.Is(err, ErrSetFull) {
			t.Fatalf("full set: %v", err)
		}
		if err := f.svc.MarkFull(ctx, f.tenant, st.ID); err != nil {
			t.Fatal(err)
		}
		got, err := f.svc.Set(ctx, f.tenant, st.ID)
		if err != nil || got.FullSince.IsZero() || got.Groups[0].Active != 3 || got.Groups[1].State() != "full" {
			t.Fatalf("set after full: %+v %v", got, err)
		}
		// A member already in a group of the set goes back to it.
		if gid, err := f.joinSet(ctx, st.ID, ids[2], jc); err != nil || gid != b.ID {
			t.Fatalf("second join: %d %v", gid, err)
		}
		// Raising the caps opens room again and clears the warning.
		if err := f.svc.UpdateSet(ctx, Set{ID: st.ID, TenantID: f.tenant, Name: "活码", Groups: []SetGroup{
			{GroupID: b.ID, SoftCap: 4, HardCap: 4}, {GroupID: a.ID, SoftCap: 3, HardCap: 3}}}); err != nil {
			t.Fatal(err)
		}
		if gid, err := f.joinSet(ctx, st.ID, late, jc); err != nil || gid != b.ID {
			t.Fatalf("after edit: %d %v", gid, err)
		}
		if got, _ := f.svc.Set(ctx, f.tenant, st.ID); !got.FullSince.IsZero() || got.Groups[0].GroupID != b.ID {
			t.Fatalf("after edit: %+v", got)
		}
		// Another tenant's ids are not found.
		if _, err := f.svc.Set(ctx, f.tenant+1, st.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("foreign set: %v", err)
		}
	})
}

// TestSetRoutingConcurrent: joins racing through one set never put a group
// over its soft cap while a later group has room.
func TestSetRoutingConcurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		a, b, c := f.group(t, "A"), f.group(t, "B"), f.group(t, "C")
		st, jc, err := f.svc.CreateSet(ctx, Set{TenantID: f.tenant, Name: "s", Groups: []SetGroup{
			{GroupID: a.ID, SoftCap: 10, HardCap: 20}, {GroupID: b.ID, SoftCap: 10, HardCap: 20}, {GroupID: c.ID, SoftCap: 10, HardCap: 20}}})
		if err != nil {
			t.Fatal(err)
		}
		var members []int64
		for i := range 30 {
			members = append(members, f.member(t, fmt.Sprint("c", i)))
		}
		var wg sync.WaitGroup
		errs := make(chan error, len(members))
		for _, m := range members {
			wg.Go(func() {
				if _, err := f.joinSet(ctx, st.ID, m, jc); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		got, _ := f.svc.Set(ctx, f.tenant, st.ID)
		for _, g := range got.Groups {
			if g.Active != 10 {
				t.Fatalf("fill %+v", got.Groups)
			}
		}
	})
}

func TestCampaignSettle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		g := f.group(t, "裂变群")
		if _, err := f.svc.CreateCampaign(ctx, Campaign{TenantID: f.tenant, Name: "x", GroupID: g.ID, StayDays: 3,
			StartsAt: f.now, EndsAt: f.now.Add(time.Hour), Rewards: []Reward{{Threshold: 1, CouponBatchID: 5}}}); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("coupon without GrantCoupon: %v", err)
		}
		if _, err := f.svc.CreateCampaign(ctx, Campaign{TenantID: f.tenant, Name: "x", GroupID: g.ID, StayDays: 3,
			StartsAt: f.now, EndsAt: f.now.Add(time.Hour), Rewards: []Reward{{Threshold: 1}}}); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("empty reward: %v", err)
		}
		c, err := f.svc.CreateCampaign(ctx, Campaign{TenantID: f.tenant, Name: "春季邀请", GroupID: g.ID, StayDays: 3,
			StartsAt: f.now, EndsAt: f.now.Add(30 * 24 * time.Hour),
			Rewards: []Reward{{Threshold: 3, Points: 100, Gift: "化妆包"}, {Threshold: 2, Points: 50}}})
		if err != nil {
			t.Fatal(err)
		}
		jc, err := f.svc.JoinCode(ctx, c)
		if err != nil || jc.GroupID != g.ID {
			t.Fatalf("campaign code %+v %v", jc, err)
		}
		referrer := f.member(t, "referrer")
		if _, err := f.comm.Join(ctx, community.JoinRequest{TenantID: f.tenant, GroupID: g.ID, MemberID: referrer, Source: "test"}); err != nil {
			t.Fatal(err)
		}
		code, err := f.svc.CodeFor(ctx, f.tenant, c.ID, referrer)
		if err != nil {
			t.Fatal(err)
		}
		if again, _ := f.svc.CodeFor(ctx, f.tenant, c.ID, referrer); again.Code != code.Code {
			t.Fatalf("second code %q != %q", again.Code, code.Code)
		}
		if err := f.svc.SeeDevice(ctx, f.tenant, referrer, "dev-referrer"); err != nil {
			t.Fatal(err)
		}
		invite := func(name, ip, dev string) (int64, Invite) {
			t.Helper()
			m := f.member(t, name)
			var inv Invite
			err := db.InTx(ctx, func(tx *store.Tx) error {
				was, err := WasMemberTx(ctx, tx, f.tenant, m)
				if err != nil {
					return err
				}
				if _, err := f.comm.JoinTx(ctx, tx, community.JoinRequest{TenantID: f.tenant, GroupID: g.ID, MemberID: m, JoinCode: jc, Source: "test"}); err != nil {
					return err
				}
				inv, _, err = f.svc.RecordInviteTx(ctx, tx, InviteRequest{Campaign: c, ReferrerID: referrer, InviteeID: m, GroupID: g.ID,
					WasMember: was, IPHash: ip, DeviceHash: dev})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return m, inv
		}
		// Four joins from one address within ten minutes: the fourth is suspicious.
		_, i1 := invite("f1", "ip1", "d1")
		leaver, i2 := invite("f2", "ip1", "d2")
		_, i3 := invite("f3", "ip1", "d3")
		_, i4 := invite("f4", "ip1", "d4")
		if i1.Status != Pending || i2.Status != Pending || i3.Status != Pending || i4.Reason != ReasonManyJoins {
			t.Fatalf("address check: %v %v %v %v/%v", i1.Status, i2.Status, i3.Status, i4.Status, i4.Reason)
		}
		f.advance(11 * time.Minute)
		_, self := invite("same-phone", "ip2", "dev-referrer")
		if self.Reason != ReasonSelfDevice {
			t.Fatalf("self device: %+v", self)
		}
		// The referrer through their own link.
		err = db.InTx(ctx, func(tx *store.Tx) error {
			inv, _, err := f.svc.RecordInviteTx(ctx, tx, InviteRequest{Campaign: c, ReferrerID: referrer, InviteeID: referrer, GroupID: g.ID, WasMember: true, IPHash: "ip3"})
			if err == nil && inv.Reason != ReasonSelf {
				err = fmt.Errorf("self: %+v", inv)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		_, i5 := invite("f5", "ip4", "d5")
		// f2 leaves after a day: not counted.
		f.advance(24 * time.Hour)
		if err := f.comm.Leave(ctx, f.tenant, g.ID, leaver, "test"); err != nil {
			t.Fatal(err)
		}
		res, err := f.svc.Settle(ctx)
		if err != nil || res.Rejected != 1 || res.Validated != 0 {
			t.Fatalf("settle after a day: %+v %v", res, err)
		}
		f.advance(3 * 24 * time.Hour)
		for range 2 { // the loop may run twice: nothing is given twice
			if _, err := f.svc.Settle(ctx); err != nil {
				t.Fatal(err)
			}
		}
		n, err := f.svc.Count(ctx, f.tenant, c.ID, referrer)
		if err != nil || n.Valid != 3 || n.Rejected != 4 || n.Pending != 0 {
			t.Fatalf("counts %+v %v", n, err)
		}
		invs, _ := f.svc.Invites(ctx, f.tenant, c.ID, 0, 0)
		reasons := map[int64]string{}
		for _, inv := range invs {
			reasons[inv.ID] = inv.Reason
		}
		if reasons[i2.ID] != ReasonLeft || reasons[i1.ID] != "" || reasons[i5.ID] != "" {
			t.Fatalf("reasons %v", reasons)
		}
		grants, _ := f.svc.Grants(ctx, f.tenant, c.ID, 0)
		if len(grants) != 2 {
			t.Fatalf("grants %+v", grants)
		}
		if bal, _ := f.loy.Balance(ctx, f.tenant, referrer); bal != 150 {
			t.Fatalf("balance %d, want 150", bal)
		}
		var dms int
		db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE tenant_id = $1 AND member_id = $2`, f.tenant, referrer).Scan(&dms)
		if dms != 2 {
			t.Fatalf("DMs to the referrer: %d", dms)
		}
		lb, _ := f.svc.Leaderboard(ctx, f.tenant, c.ID, 10)
		if len(lb) != 1 || lb[0].Name != "referrer" || lb[0].Valid != 3 {
			t.Fatalf("leaderboard %+v", lb)
		}
		// The gift is handed over once; another campaign's grant is not found.
		for _, gr := range grants {
			if gr.Gift != "" {
				if err := f.svc.Fulfil(ctx, f.tenant, c.ID, gr.ID); err != nil {
					t.Fatal(err)
				}
				if err := f.svc.Fulfil(ctx, f.tenant+1, c.ID, gr.ID); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("foreign fulfil: %v", err)
				}
			}
		}
	})
}

// TestMergedSelfInvite: an invitee later merged into the referrer (the
// same person on two channels) is a self-invite.
func TestMergedSelfInvite(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		f.mem.OnMerge(community.MoveMemberships)
		g := f.group(t, "g")
		c, err := f.svc.CreateCampaign(ctx, Campaign{TenantID: f.tenant, Name: "c", GroupID: g.ID, StayDays: 0,
			StartsAt: f.now, EndsAt: f.now.Add(time.Hour), Rewards: []Reward{{Threshold: 1, Points: 10}}})
		if err != nil {
			t.Fatal(err)
		}
		ref, alt := f.member(t, "ref"), f.member(t, "alt")
		err = db.InTx(ctx, func(tx *store.Tx) error {
			if _, err := f.comm.JoinTx(ctx, tx, community.JoinRequest{TenantID: f.tenant, GroupID: g.ID, MemberID: alt, Source: "t"}); err != nil {
				return err
			}
			_, _, err := f.svc.RecordInviteTx(ctx, tx, InviteRequest{Campaign: c, ReferrerID: ref, InviteeID: alt, GroupID: g.ID})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.mem.Merge(ctx, f.tenant, ref, alt, 0); err != nil {
			t.Fatal(err)
		}
		if res, err := f.svc.Settle(ctx); err != nil || res.Rejected != 1 || res.Granted != 0 {
			t.Fatalf("settle: %+v %v", res, err)
		}
		invs, _ := f.svc.Invites(ctx, f.tenant, c.ID, 0, 0)
		if len(invs) != 1 || invs[0].Reason != ReasonSelfMerged {
			t.Fatalf("invites %+v", invs)
		}
	})
}

// TestCouponReward: a coupon reward goes through GrantCoupon inside the
// reward's transaction, once, with the reward's ref.
func TestCouponReward(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		var refs []string
		f.svc.GrantCoupon = func(ctx context.Context, tx *store.Tx, tenantID, batchID, memberID int64, ref string) error {
			if tenantID != f.tenant || batchID != 42 {
				return fmt.Errorf("grant %d/%d", tenantID, batchID)
			}
			refs = append(refs, ref)
			return nil
		}
		g := f.group(t, "g")
		c, err := f.svc.CreateCampaign(ctx, Campaign{TenantID: f.tenant, Name: "券", GroupID: g.ID, StayDays: 1,
			StartsAt: f.now, EndsAt: f.now.Add(time.Hour), Rewards: []Reward{{Threshold: 1, CouponBatchID: 42}}})
		if err != nil {
			t.Fatal(err)
		}
		ref, inv := f.member(t, "ref"), f.member(t, "inv")
		err = db.InTx(ctx, func(tx *store.Tx) error {
			if _, err := f.comm.JoinTx(ctx, tx, community.JoinRequest{TenantID: f.tenant, GroupID: g.ID, MemberID: inv, Source: "t"}); err != nil {
				return err
			}
			_, _, err := f.svc.RecordInviteTx(ctx, tx, InviteRequest{Campaign: c, ReferrerID: ref, InviteeID: inv, GroupID: g.ID})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if res, _ := f.svc.Settle(ctx); res.Validated != 0 {
			t.Fatalf("valid before the stay: %+v", res)
		}
		f.advance(25 * time.Hour)
		for range 2 {
			if _, err := f.svc.Settle(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if want := Ref(c.ID, ref, 1); len(refs) != 1 || refs[0] != want {
			t.Fatalf("coupon grants %v, want [%s]", refs, want)
		}
	})
}

// TestSettleCouponTrouble: a coupon reward whose batch cannot give a
// coupon (sold out, gone) stands without it, with a note, and an invite
// whose reward fails outright does not stop the pass from deciding the
// invites after it.
func TestSettleCouponTrouble(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		f.svc.GrantCoupon = func(ctx context.Context, tx *store.Tx, tenantID, batchID, memberID int64, ref string) error {
			switch batchID {
			case 7:
				return fmt.Errorf("%w: all coupons of this batch are taken", ErrCouponUnavailable)
			case 9:
				return errors.New("boom")
			}
			return nil
		}
		g := f.group(t, "g")
		mk := func(name string, rw Reward) Campaign {
			c, err := f.svc.CreateCampaign(ctx, Campaign{TenantID: f.tenant, Name: name, GroupID: g.ID, StayDays: 1,
				StartsAt: f.now, EndsAt: f.now.Add(time.Hour), Rewards: []Reward{rw}})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		broken := mk("broken", Reward{Threshold: 1, CouponBatchID: 9})
		soldOut := mk("sold out", Reward{Threshold: 1, Points: 10, CouponBatchID: 7})
		invite := func(c Campaign, ref, inv int64) {
			t.Helper()
			err := db.InTx(ctx, func(tx *store.Tx) error {
				if _, err := f.comm.JoinTx(ctx, tx, community.JoinRequest{TenantID: f.tenant, GroupID: g.ID, MemberID: inv, Source: "t"}); err != nil {
					return err
				}
				_, _, err := f.svc.RecordInviteTx(ctx, tx, InviteRequest{Campaign: c, ReferrerID: ref, InviteeID: inv, GroupID: g.ID})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		r1, r2 := f.member(t, "r1"), f.member(t, "r2")
		invite(broken, r1, f.member(t, "i1")) // decided first: its reward fails
		invite(soldOut, r2, f.member(t, "i2"))
		f.advance(25 * time.Hour)
		res, err := f.svc.Settle(ctx)
		if err == nil || !strings.Contains(err.Error(), "boom") {
			t.Fatalf("settle should report the broken reward: %v", err)
		}
		if res.Validated != 1 || res.Granted != 1 {
			t.Fatalf("settle %+v: the invite after the broken one was not decided", res)
		}
		if n, _ := f.svc.Count(ctx, f.tenant, broken.ID, 0); n.Pending != 1 {
			t.Fatalf("the broken invite is left pending for the next pass: %+v", n)
		}
		grants, err := f.svc.Grants(ctx, f.tenant, soldOut.ID, 0)
		if err != nil || len(grants) != 1 || !strings.Contains(grants[0].Note, "coupon not given") {
			t.Fatalf("grants %+v %v", grants, err)
		}
		if bal, _ := f.loy.Balance(ctx, f.tenant, r2); bal != 10 {
			t.Fatalf("points %d, want 10", bal)
		}
		var dm string
		db.R.QueryRowContext(ctx, `SELECT body FROM outbox WHERE tenant_id = $1 AND member_id = $2`, f.tenant, r2).Scan(&dm)
		if dm == "" || strings.Contains(dm, "coupon") || strings.Contains(dm, "券") {
			t.Fatalf("the DM must not promise the coupon: %q", dm)
		}
	})
}
