package demo

import (
	"context"
	"slices"
	"time"

	"github.com/liveloop/liveloop/internal/channel/webchat"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/referral"
	"github.com/liveloop/liveloop/internal/store"
)

// seedReferral gives the demo brand a group set (活码) over its referral
// group and an overflow group, with a link per source, and a referral
// campaign (裂变) whose invitees are members who joined the referral group
// this month: a few referrers, some invitees valid, the ones who left
// rejected with the reason, and the rewards the valid ones unlocked.
func (g *generator) seedReferral(ctx context.Context) error {
	if g.d.Loyalty == nil {
		return nil // the campaign rewards points
	}
	var ref community.Group
	for _, grp := range g.groups {
		if grp.Kind == community.Referral {
			ref = grp
			break
		}
	}
	if ref.ID == 0 {
		return nil
	}
	svc := referral.New(g.d.DB, g.d.Community, g.d.Loyalty, g.d.Log, nil, nil)
	clock := g.start
	svc.SetClock(func() time.Time { return clock })
	overflow, _, err := g.d.Community.CreateGroup(ctx, community.Group{TenantID: g.tenant.ID, Channel: webchat.Name,
		Name: "花漾福利 2 群", Kind: community.Referral, Promise: ref.Promise, Rules: ref.Rules, Capacity: 500, CreatedAt: g.start})
	if err != nil {
		return err
	}
	cur, err := g.d.Community.Group(ctx, g.tenant.ID, ref.ID)
	if err != nil {
		return err
	}
	st, _, err := svc.CreateSet(ctx, referral.Set{TenantID: g.tenant.ID, Name: "福利群活码", Groups: []referral.SetGroup{
		{GroupID: ref.ID, SoftCap: cur.MemberCount + 20, HardCap: 480},
		{GroupID: overflow.ID, SoftCap: 200, HardCap: 480},
	}})
	if err != nil {
		return err
	}
	for _, src := range []string{"海报 · 门店", "直播间", "员工 小花"} {
		if _, err := svc.NewSetJoinCode(ctx, g.tenant.ID, st.ID, src, time.Time{}); err != nil {
			return err
		}
	}
	camp, err := svc.CreateCampaign(ctx, referral.Campaign{TenantID: g.tenant.ID, Name: "邀请好友领积分", SetID: st.ID, StayDays: 3,
		StartsAt: g.start, EndsAt: g.end.AddDate(0, 0, 30),
		Rewards: []referral.Reward{{Threshold: 3, Points: 50}, {Threshold: 5, Points: 100, Gift: "定制化妆包"}}})
	if err != nil {
		return err
	}
	// Invitees: members who joined the referral group this month, in
	// order of joining, shared among a few early members as referrers.
	type joiner struct {
		id      int64
		at      time.Time
		already bool // a member before the month: rejected as such
	}
	var joiners, leavers []joiner
	var referrers []int64
	alreadyDone := false
	for _, m := range g.members {
		at, ok := m.joined[ref.ID]
		switch {
		case !ok:
		case at.Before(g.start) && len(referrers) < 4:
			if _, left := m.left[ref.ID]; !left {
				referrers = append(referrers, m.id)
			}
		case at.Before(g.start) && len(referrers) == 4 && !alreadyDone:
			joiners = append(joiners, joiner{m.id, g.start.Add(26 * time.Hour), true})
			alreadyDone = true
		case !at.Before(g.start):
			if left, ok := m.left[ref.ID]; ok && left.Sub(at) < 3*24*time.Hour && len(leavers) < 3 {
				leavers = append(leavers, joiner{id: m.id, at: at})
			} else {
				joiners = append(joiners, joiner{id: m.id, at: at})
			}
		}
	}
	if len(joiners) > 21 {
		joiners = joiners[:21]
	}
	joiners = append(joiners, leavers...)
	if len(referrers) == 0 {
		return nil
	}
	slices.SortFunc(joiners, func(a, b joiner) int { return a.at.Compare(b.at) })
	share := []int{0, 0, 0, 1, 1, 2, 0, 1, 3, 0, 2, 1} // the first referrer invites most
	for i, j := range joiners {
		referrerID := referrers[share[i%len(share)]%len(referrers)]
		clock = j.at
		if err := g.d.DB.InTx(ctx, func(tx *store.Tx) error {
			_, _, err := svc.RecordInviteTx(ctx, tx, referral.InviteRequest{Campaign: camp, ReferrerID: referrerID, InviteeID: j.id, GroupID: ref.ID,
				WasMember: j.already})
			return err
		}); err != nil {
			return err
		}
	}
	clock = g.end
	_, err = svc.Settle(ctx)
	return err
}
