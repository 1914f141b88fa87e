package live

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// SeedSize is the length of a lottery's secret seed in bytes.
const SeedSize = 32

// NewSeed returns a random seed for a lottery.
func NewSeed() []byte {
	b := make([]byte, SeedSize)
	rand.Read(b) // never fails (crypto/rand panics if the system cannot give randomness)
	return b
}

// Commitment is what a lottery shows before its draw: the lowercase hex
// SHA-256 of its seed. It binds the host to the seed without revealing it.
func Commitment(seed []byte) string {
	h := sha256.Sum256(seed)
	return hex.EncodeToString(h[:])
}

// Pick draws n winners from eligible with seed. It is deterministic, and
// anyone can recompute it from the published seed, eligible list and n:
//
//  1. The eligible member ids are de-duplicated and sorted ascending, so
//     the order they were gathered in does not matter.
//  2. n is capped at the list's length (n ≥ the list: everyone wins).
//  3. A stream of blocks: block k is HMAC-SHA256 with the seed as key and
//     k as the message (8 bytes, big-endian), k = 0, 1, 2, …
//  4. For i = 0 … n-1 (a partial Fisher–Yates shuffle), with r = len − i
//     ids not yet drawn: take the next block, read its first 8 bytes as a
//     big-endian unsigned x; if x ≥ 2^64 − (2^64 mod r) discard it and take
//     the next block (so every index is exactly equally likely); otherwise
//     j = i + (x mod r), swap list[i] and list[j], and list[i] is the
//     (i+1)-th winner.
//
// The winners are list[0…n-1] in that order.
func Pick(seed []byte, eligible []int64, n int) []int64 {
	list := sortedUnique(eligible)
	n = min(max(n, 0), len(list))
	mac := hmac.New(sha256.New, seed)
	var k uint64
	block := func() uint64 {
		var msg [8]byte
		binary.BigEndian.PutUint64(msg[:], k)
		k++
		mac.Reset()
		mac.Write(msg[:])
		return binary.BigEndian.Uint64(mac.Sum(nil)[:8])
	}
	for i := range n {
		r := uint64(len(list) - i)
		limit := rejectFrom(r)
		x := block()
		for limit != 0 && x >= limit {
			x = block()
		}
		j := i + int(x%r)
		list[i], list[j] = list[j], list[i]
	}
	return list[:n:n]
}

// rejectFrom is 2^64 − (2^64 mod r), the first block value Pick discards
// for r ids, or 0 when 2^64 is a multiple of r and none is discarded.
// Computed without overflow: 2^64 mod r is ((2^64 − 1) mod r + 1) mod r.
func rejectFrom(r uint64) uint64 {
	return math.MaxUint64 - ((math.MaxUint64%r)+1)%r + 1
}

func sortedUnique(ids []int64) []int64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}

// ErrNotVerified is returned by Verify for a draw that does not check out.
var ErrNotVerified = errors.New("live: the lottery does not verify")

// Verify checks a published draw: that seed is the one committed to, and
// that Pick(seed, eligible, n) gives exactly winners, in order. It needs
// nothing but the published values, so a page or a command can run it for
// anyone.
func Verify(seed []byte, commitment string, eligible []int64, n int, winners []int64) error {
	if len(seed) != SeedSize {
		return fmt.Errorf("%w: the seed has %d bytes, want %d", ErrNotVerified, len(seed), SeedSize)
	}
	if got := Commitment(seed); !strings.EqualFold(got, strings.TrimSpace(commitment)) {
		return fmt.Errorf("%w: the seed's hash is %s, not the commitment %s", ErrNotVerified, got, commitment)
	}
	if want := Pick(seed, eligible, n); !slices.Equal(want, winners) {
		return fmt.Errorf("%w: the seed and eligible list draw %v, not %v", ErrNotVerified, want, winners)
	}
	return nil
}

// Criteria are who may win a lottery, as the host picks them; the zero
// value lets every candidate in.
type Criteria struct {
	Commented     bool  `json:"commented,omitempty"`       // commented during the live
	Liked         bool  `json:"liked,omitempty"`           // liked during the live
	GroupID       int64 `json:"group_id,omitempty"`        // is a member of this group now
	MinMemberDays int   `json:"min_member_days,omitempty"` // has been a member at least this many days
	NotWonInLast  int   `json:"not_won_in_last,omitempty"` // won none of the tenant's last K lotteries
}

// Limits of the criteria.
const (
	MaxMemberDays   = 3650
	MaxNotWonInLast = 100
)

func (c Criteria) problems() []string {
	var out []string
	if c.GroupID < 0 {
		out = append(out, "eligibility group is not valid")
	}
	if c.MinMemberDays < 0 || c.MinMemberDays > MaxMemberDays {
		out = append(out, fmt.Sprintf("member days must be 0 to %d", MaxMemberDays))
	}
	if c.NotWonInLast < 0 || c.NotWonInLast > MaxNotWonInLast {
		out = append(out, fmt.Sprintf("recent lotteries must be 0 to %d", MaxNotWonInLast))
	}
	return out
}

// Candidate is what is known of a member who could win: gathered by the
// caller from the live's events (comments, likes) and the community.
type Candidate struct {
	MemberID    int64
	Commented   bool
	Liked       bool
	Groups      []int64   // groups the member is in now
	MemberSince time.Time // when the member joined the community
}

// Eligible returns the ids of the candidates who meet c at now, sorted and
// without repeats: the list a draw is made from and published with.
// recentWinners are the winners of the tenant's earlier lotteries, newest
// first; only the first c.NotWonInLast count.
func Eligible(c Criteria, now time.Time, recentWinners [][]int64, candidates []Candidate) []int64 {
	won := map[int64]bool{}
	for _, ws := range recentWinners[:min(max(c.NotWonInLast, 0), len(recentWinners))] {
		for _, id := range ws {
			won[id] = true
		}
	}
	var out []int64
	for _, m := range candidates {
		switch {
		case m.MemberID <= 0,
			c.Commented && !m.Commented,
			c.Liked && !m.Liked,
			c.GroupID != 0 && !slices.Contains(m.Groups, c.GroupID),
			c.MinMemberDays > 0 && (m.MemberSince.IsZero() || now.Sub(m.MemberSince) < time.Duration(c.MinMemberDays)*24*time.Hour),
			won[m.MemberID]:
			continue
		}
		out = append(out, m.MemberID)
	}
	return sortedUnique(out)
}
