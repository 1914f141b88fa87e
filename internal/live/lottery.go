package live

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/textnorm"
)

// Limits of a lottery.
const (
	MaxPrizeRunes = 100
	MaxWinners    = 100
	MaxEligible   = 200_000 // published with the draw: a few MB of JSON at most
)

// Errors of lotteries.
var (
	ErrDrawn     = fmt.Errorf("live: %w: the lottery has already been drawn", store.ErrConflict)
	ErrNotWinner = fmt.Errorf("live: %w: this member did not win the lottery", store.ErrForbidden)
	ErrNotMember = fmt.Errorf("live: %w: join the group to claim the prize", store.ErrForbidden)
)

// Lottery is a provably fair draw of a live. Before the draw only its
// Commitment is public; the draw reveals Seed and stores Eligible, from
// which Pick recomputes Winners.
type Lottery struct {
	ID          int64
	TenantID    int64
	LiveID      int64
	Prize       string
	WinnerCount int
	Criteria    Criteria
	Commitment  string
	Seed        []byte  // nil until drawn: the secret that makes the draw
	Eligible    []int64 // sorted; nil until drawn
	Winners     []int64 // in draw order; nil until drawn
	CreatedAt   time.Time
	DrawnAt     time.Time // zero until drawn
}

// Drawn reports whether the lottery has been drawn.
func (l Lottery) Drawn() bool { return !l.DrawnAt.IsZero() }

// Commit creates a lottery of a live that has not ended, with a fresh
// secret seed, and returns it with its commitment (to show before the
// draw) and without the seed.
func (s *Service) Commit(ctx context.Context, lt Lottery) (Lottery, error) {
	lt.Prize = textnorm.Line(lt.Prize)
	var problems []string
	switch {
	case lt.Prize == "":
		problems = append(problems, "prize is empty")
	case !textnorm.Limit(lt.Prize, MaxPrizeRunes):
		problems = append(problems, fmt.Sprintf("prize is longer than %d characters", MaxPrizeRunes))
	}
	if lt.WinnerCount < 1 || lt.WinnerCount > MaxWinners {
		problems = append(problems, fmt.Sprintf("number of winners must be 1 to %d", MaxWinners))
	}
	problems = append(problems, lt.Criteria.problems()...)
	if len(problems) > 0 {
		return lt, fmt.Errorf("%w: %s", ErrInvalid, strings.Join(problems, "; "))
	}
	seed := NewSeed()
	lt.Commitment, lt.CreatedAt = Commitment(seed), s.now().UTC()
	lt.Seed, lt.Eligible, lt.Winners, lt.DrawnAt = nil, nil, nil, time.Time{}
	criteria, _ := json.Marshal(lt.Criteria)
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		l, err := get(ctx, tx, lt.TenantID, lt.LiveID)
		if err != nil {
			return err
		}
		if l.State == StateEnded {
			return fmt.Errorf("live %d: %w", l.ID, ErrEnded)
		}
		if g := lt.Criteria.GroupID; g != 0 {
			if ok, err := store.Exists(ctx, tx, `SELECT COUNT(*) FROM community_groups WHERE tenant_id = $1 AND id = $2`, lt.TenantID, g); err != nil || !ok {
				return orInvalid(err, "eligibility group %d is not one of yours", g)
			}
		}
		return tx.QueryRowContext(ctx, `INSERT INTO live_lotteries (tenant_id, live_id, prize, winners, eligibility, commitment, seed, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, lt.TenantID, lt.LiveID, lt.Prize, lt.WinnerCount, string(criteria),
			lt.Commitment, hex.EncodeToString(seed), store.Millis(lt.CreatedAt)).Scan(&lt.ID)
	})
	return lt, err
}

// Draw draws the lottery once, while its live is on, from the eligible
// member ids (Eligible's output; their order does not matter): the winners
// are Pick(seed, eligible, WinnerCount). It stores the winners and the
// eligible list, reveals the seed and appends lottery_drawn, in one
// transaction; a second draw fails with ErrDrawn and changes nothing.
func (s *Service) Draw(ctx context.Context, tenantID, lotteryID int64, eligible []int64) (Lottery, error) {
	list := sortedUnique(eligible)
	switch {
	case len(list) == 0:
		return Lottery{}, fmt.Errorf("%w: no one is eligible, loosen the criteria", ErrInvalid)
	case len(list) > MaxEligible:
		return Lottery{}, fmt.Errorf("%w: more than %d eligible members", ErrInvalid, MaxEligible)
	case list[0] <= 0:
		return Lottery{}, fmt.Errorf("%w: eligible member id %d is not valid", ErrInvalid, list[0])
	}
	var lt Lottery
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var seed []byte
		var err error
		lt, seed, err = getLottery(ctx, tx, tenantID, lotteryID)
		if err != nil {
			return err
		}
		if lt.Drawn() {
			return ErrDrawn
		}
		l, err := get(ctx, tx, tenantID, lt.LiveID)
		if err != nil {
			return err
		}
		if l.State != StateLive {
			return fmt.Errorf("%w: a lottery is drawn only while the live is on (it is %s)", ErrInvalid, l.State)
		}
		winners := Pick(seed, list, lt.WinnerCount)
		for _, m := range winners {
			if ok, err := store.Exists(ctx, tx, `SELECT COUNT(*) FROM members WHERE tenant_id = $1 AND id = $2`, tenantID, m); err != nil || !ok {
				return orInvalid(err, "eligible member %d is not one of yours", m)
			}
		}
		now := s.now().UTC()
		elig, _ := json.Marshal(list)
		res, err := tx.ExecContext(ctx, `UPDATE live_lotteries SET drawn_at = $3, eligible = $4 WHERE tenant_id = $1 AND id = $2 AND drawn_at = 0`,
			tenantID, lotteryID, store.Millis(now), string(elig))
		if err != nil {
			return fmt.Errorf("live: draw %d: %w", lotteryID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrDrawn // a racing draw committed first
		}
		for i, m := range winners {
			if _, err := tx.ExecContext(ctx, `INSERT INTO live_lottery_winners (tenant_id, lottery_id, member_id, place) VALUES ($1, $2, $3, $4)`,
				tenantID, lotteryID, m, i+1); err != nil {
				return fmt.Errorf("live: draw %d: winner: %w", lotteryID, err)
			}
		}
		lt.Seed, lt.Eligible, lt.Winners, lt.DrawnAt = seed, list, winners, store.Time(store.Millis(now))
		e := event.Event{TenantID: tenantID, Type: event.LotteryDrawn, Source: event.SourceLive, SourceID: fmt.Sprintf("drawn:%d", lotteryID),
			At: now, Data: event.MustData(event.LiveData{LiveID: lt.LiveID, LotteryID: lotteryID, Winners: winners})}
		_, err = s.log.AppendTx(ctx, tx, &e)
		return err
	})
	return lt, err
}

const lotteryCols = `id, tenant_id, live_id, prize, winners, eligibility, commitment, seed, eligible, created_at, drawn_at`

// scanLottery reads a lottery; seed is returned apart, and put in the
// Lottery only once it is drawn, so an undrawn seed never leaves by
// accident.
func scanLottery(r interface{ Scan(...any) error }) (lt Lottery, seed []byte, err error) {
	var criteria, seedHex, elig string
	var created, drawn int64
	err = r.Scan(&lt.ID, &lt.TenantID, &lt.LiveID, &lt.Prize, &lt.WinnerCount, &criteria, &lt.Commitment, &seedHex, &elig, &created, &drawn)
	if errors.Is(err, sql.ErrNoRows) {
		return lt, nil, store.ErrNotFound
	}
	if err != nil {
		return lt, nil, err
	}
	lt.CreatedAt, lt.DrawnAt = store.Time(created), store.Time(drawn)
	if err := json.Unmarshal([]byte(criteria), &lt.Criteria); err != nil {
		return lt, nil, fmt.Errorf("lottery %d: criteria: %w", lt.ID, err)
	}
	if seed, err = hex.DecodeString(seedHex); err != nil {
		return lt, nil, fmt.Errorf("lottery %d: seed: %w", lt.ID, err)
	}
	if lt.Drawn() {
		lt.Seed = seed
		if err := json.Unmarshal([]byte(elig), &lt.Eligible); err != nil {
			return lt, nil, fmt.Errorf("lottery %d: eligible: %w", lt.ID, err)
		}
	}
	return lt, seed, nil
}

func getLottery(ctx context.Context, q store.Querier, tenantID, id int64) (Lottery, []byte, error) {
	return scanLottery(q.QueryRowContext(ctx, `SELECT `+lotteryCols+` FROM live_lotteries WHERE tenant_id = $1 AND id = $2`, tenantID, id))
}

// Lottery returns one lottery of the tenant, with its seed, eligible list
// and winners once drawn.
func (s *Service) Lottery(ctx context.Context, tenantID, id int64) (Lottery, error) {
	lt, _, err := getLottery(ctx, s.db.R, tenantID, id)
	if err != nil || !lt.Drawn() {
		return lt, err
	}
	lt.Winners, err = s.winners(ctx, tenantID, id)
	return lt, err
}

// Lotteries returns a live's lotteries, newest first, without their
// winners (Lottery has them).
func (s *Service) Lotteries(ctx context.Context, tenantID, liveID int64) ([]Lottery, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+lotteryCols+` FROM live_lotteries WHERE tenant_id = $1 AND live_id = $2 ORDER BY id DESC`,
		tenantID, liveID)
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, func(r interface{ Scan(...any) error }) (Lottery, error) {
		lt, _, err := scanLottery(r)
		return lt, err
	})
}

func (s *Service) winners(ctx context.Context, tenantID, lotteryID int64) ([]int64, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT member_id FROM live_lottery_winners WHERE tenant_id = $1 AND lottery_id = $2 ORDER BY place`,
		tenantID, lotteryID)
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, func(r interface{ Scan(...any) error }) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	})
}

// RecentWinners returns the winners of the tenant's last k drawn
// lotteries, newest first: Eligible's recentWinners.
func (s *Service) RecentWinners(ctx context.Context, tenantID int64, k int) ([][]int64, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT id FROM live_lotteries WHERE tenant_id = $1 AND drawn_at <> 0
		ORDER BY drawn_at DESC, id DESC LIMIT $2`, tenantID, k)
	if err != nil {
		return nil, err
	}
	ids, err := store.Collect(rows, func(r interface{ Scan(...any) error }) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	})
	if err != nil {
		return nil, err
	}
	out := make([][]int64, 0, len(ids))
	for _, id := range ids {
		ws, err := s.winners(ctx, tenantID, id)
		if err != nil {
			return nil, err
		}
		out = append(out, ws)
	}
	return out, nil
}

// ClaimPrize records that a winner claimed the prize. Winners must be in
// the community to claim: an active member of the lottery's eligibility
// group, else of one of the live's alert groups, else of any of the
// tenant's groups. claimed is false when it was already claimed.
func (s *Service) ClaimPrize(ctx context.Context, tenantID, lotteryID, memberID int64) (claimed bool, err error) {
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		lt, _, err := getLottery(ctx, tx, tenantID, lotteryID)
		if err != nil {
			return err
		}
		var claimedAt int64
		err = tx.QueryRowContext(ctx, `SELECT claimed_at FROM live_lottery_winners WHERE tenant_id = $1 AND lottery_id = $2 AND member_id = $3`,
			tenantID, lotteryID, memberID).Scan(&claimedAt)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotWinner
		}
		if err != nil || claimedAt != 0 {
			return err
		}
		l, err := get(ctx, tx, tenantID, lt.LiveID)
		if err != nil {
			return err
		}
		groups := l.Alert.Groups
		if lt.Criteria.GroupID != 0 {
			groups = []int64{lt.Criteria.GroupID}
		}
		in, err := inGroups(ctx, tx, tenantID, memberID, groups)
		if err != nil {
			return err
		}
		if !in {
			return ErrNotMember
		}
		res, err := tx.ExecContext(ctx, `UPDATE live_lottery_winners SET claimed_at = $4
			WHERE tenant_id = $1 AND lottery_id = $2 AND member_id = $3 AND claimed_at = 0`,
			tenantID, lotteryID, memberID, store.Millis(s.now()))
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		claimed = n == 1
		return nil
	})
	return claimed, err
}

// inGroups reports whether member is an active member of one of groups, or
// of any group of the tenant when groups is empty.
func inGroups(ctx context.Context, q store.Querier, tenantID, memberID int64, groups []int64) (bool, error) {
	const active = `SELECT COUNT(*) FROM group_members WHERE tenant_id = $1 AND member_id = $2 AND left_at IS NULL AND removed_at IS NULL`
	if len(groups) == 0 {
		return store.Exists(ctx, q, active, tenantID, memberID)
	}
	for _, g := range groups {
		if ok, err := store.Exists(ctx, q, active+` AND group_id = $3`, tenantID, memberID, g); err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}
