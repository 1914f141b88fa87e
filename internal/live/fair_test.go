package live_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/live"
)

func seedOf(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func ids(from, to int64) []int64 {
	var out []int64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

// TestPickGolden pins the algorithm documented on Pick: an independent
// implementation must give these winners, or the published draws could not
// be recomputed.
func TestPickGolden(t *testing.T) {
	seed := make([]byte, live.SeedSize)
	for i := range seed {
		seed[i] = byte(i)
	}
	if c := live.Commitment(seed); c != "630dcd2966c4336691125448bbb25b4ff412a49c732db2c8abc1b8581bd710dd" {
		t.Fatalf("commitment %s", c)
	}
	// Computed by an independent implementation (Python's hmac and
	// hashlib, following the doc comment), not by Pick.
	for _, c := range []struct {
		eligible []int64
		n        int
		want     []int64
	}{
		{ids(1, 10), 3, []int64{6, 8, 7}},
		{ids(1, 1000), 5, []int64{706, 665, 791, 612, 46}},
	} {
		if got := live.Pick(seed, c.eligible, c.n); !slices.Equal(got, c.want) {
			t.Errorf("%d of %d: winners %v, want %v", c.n, len(c.eligible), got, c.want)
		}
	}
}

func TestPickDeterministicAndOrderFree(t *testing.T) {
	seed := seedOf("live 1")
	list := ids(100, 199)
	first := live.Pick(seed, list, 10)
	if len(first) != 10 {
		t.Fatalf("%d winners", len(first))
	}
	if again := live.Pick(seed, list, 10); !slices.Equal(first, again) {
		t.Fatalf("same seed and list: %v then %v", first, again)
	}
	shuffled := slices.Clone(list)
	slices.Reverse(shuffled)
	shuffled = append(shuffled, list[:20]...) // repeats count once
	if got := live.Pick(seed, shuffled, 10); !slices.Equal(first, got) {
		t.Fatalf("reordered list: %v, want %v", got, first)
	}
	seen := map[int64]bool{}
	for _, w := range first {
		if w < 100 || w > 199 || seen[w] {
			t.Fatalf("winner %d not eligible or drawn twice: %v", w, first)
		}
		seen[w] = true
	}
	// The first winners of a larger draw are the smaller draw: one draw
	// order, cut at n.
	if more := live.Pick(seed, list, 20); !slices.Equal(more[:10], first) {
		t.Fatalf("n=20 starts %v, n=10 is %v", more[:10], first)
	}
}

func TestPickSeedByte(t *testing.T) {
	seed := seedOf("live 2")
	list := ids(1, 1000)
	base := live.Pick(seed, list, 5)
	for i := range seed {
		other := bytes.Clone(seed)
		other[i] ^= 1
		if got := live.Pick(other, list, 5); slices.Equal(got, base) {
			t.Fatalf("flipping seed byte %d kept the winners %v", i, got)
		}
	}
}

func TestPickEdges(t *testing.T) {
	seed := seedOf("edges")
	for _, c := range []struct {
		eligible []int64
		n        int
		want     int
	}{
		{nil, 3, 0},
		{[]int64{7}, 3, 1},
		{ids(1, 5), 5, 5},
		{ids(1, 5), 50, 5}, // more winners than eligible: everyone wins
		{ids(1, 5), 0, 0},
		{ids(1, 5), -1, 0},
	} {
		got := live.Pick(seed, c.eligible, c.n)
		if len(got) != c.want {
			t.Errorf("Pick(%v, %d) = %v, want %d winners", c.eligible, c.n, got, c.want)
		}
		if c.want == len(c.eligible) && c.want > 0 {
			if s := slices.Sorted(slices.Values(got)); !slices.Equal(s, c.eligible) {
				t.Errorf("everyone should win: %v", got)
			}
		}
	}
}

// TestPickUniform checks that no position is favoured: over 20,000 fixed
// seeds each of 7 ids wins first place about 1/7 of the time. The seeds are
// fixed, so the test cannot flake.
func TestPickUniform(t *testing.T) {
	counts := map[int64]int{}
	const rounds = 20000
	for i := range rounds {
		counts[live.Pick(seedOf(fmt.Sprint(i)), ids(1, 7), 1)[0]]++
	}
	for id, n := range counts {
		if n < rounds/7*90/100 || n > rounds/7*110/100 {
			t.Errorf("id %d won %d of %d", id, n, rounds)
		}
	}
}

func TestRejectFrom(t *testing.T) {
	two64 := new(big.Int).Lsh(big.NewInt(1), 64)
	for _, r := range []uint64{1, 2, 3, 7, 10, 1000, 1 << 32, 1<<63 + 1, 1<<64 - 1} {
		rb := new(big.Int).SetUint64(r)
		want := new(big.Int).Sub(two64, new(big.Int).Mod(two64, rb))
		if want.Cmp(two64) == 0 {
			want.SetUint64(0)
		}
		if got := live.RejectFrom(r); got != want.Uint64() {
			t.Errorf("rejectFrom(%d) = %d, want %s", r, got, want)
		}
	}
}

func TestVerify(t *testing.T) {
	seed := seedOf("verify")
	commitment := live.Commitment(seed)
	eligible := []int64{5, 3, 9, 11, 42, 8}
	winners := live.Pick(seed, eligible, 2)
	if err := live.Verify(seed, commitment, eligible, 2, winners); err != nil {
		t.Fatal(err)
	}
	if err := live.Verify(seed, "  "+hex.EncodeToString(must(hex.DecodeString(commitment)))+" ", eligible, 2, winners); err != nil {
		t.Fatalf("spaces around the commitment: %v", err)
	}
	tampered := slices.Clone(winners)
	tampered[0] = 42
	if tampered[0] == winners[0] {
		tampered[0] = 3
	}
	otherSeed := seedOf("other")
	for name, err := range map[string]error{
		"wrong commitment":  live.Verify(seed, live.Commitment(otherSeed), eligible, 2, winners),
		"other seed":        live.Verify(otherSeed, commitment, eligible, 2, winners),
		"tampered winner":   live.Verify(seed, commitment, eligible, 2, tampered),
		"reordered winners": live.Verify(seed, commitment, eligible, 2, []int64{winners[1], winners[0]}),
		"extra winner":      live.Verify(seed, commitment, eligible, 3, winners),
		"eligible changed":  live.Verify(seed, commitment, append(slices.Clone(eligible), 100, 101, 102), 2, winners),
		"short seed":        live.Verify(seed[:16], commitment, eligible, 2, winners),
	} {
		if !errors.Is(err, live.ErrNotVerified) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestEligible(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	cands := []live.Candidate{
		{MemberID: 1, Commented: true, Liked: true, Groups: []int64{10}, MemberSince: now.Add(-30 * day)},
		{MemberID: 2, Commented: true, Groups: []int64{11}, MemberSince: now.Add(-2 * day)},
		{MemberID: 3, Liked: true, Groups: []int64{10, 11}, MemberSince: now.Add(-7 * day)},
		{MemberID: 4, MemberSince: now.Add(-400 * day)},
		{MemberID: 5, Commented: true, Liked: true, Groups: []int64{10}},                                  // membership date unknown
		{MemberID: 1, Commented: true, Liked: true, Groups: []int64{10}, MemberSince: now.Add(-30 * day)}, // repeated
		{MemberID: 0, Commented: true}, // an anonymous viewer: never eligible
	}
	recent := [][]int64{{3}, {1}, {4}}
	for _, c := range []struct {
		name string
		cr   live.Criteria
		want []int64
	}{
		{"everyone", live.Criteria{}, []int64{1, 2, 3, 4, 5}},
		{"commented", live.Criteria{Commented: true}, []int64{1, 2, 5}},
		{"liked", live.Criteria{Liked: true}, []int64{1, 3, 5}},
		{"commented and liked", live.Criteria{Commented: true, Liked: true}, []int64{1, 5}},
		{"group 11", live.Criteria{GroupID: 11}, []int64{2, 3}},
		{"7 days", live.Criteria{MinMemberDays: 7}, []int64{1, 3, 4}},
		{"8 days", live.Criteria{MinMemberDays: 8}, []int64{1, 4}},
		{"not last winner", live.Criteria{NotWonInLast: 1}, []int64{1, 2, 4, 5}},
		{"not last 2", live.Criteria{NotWonInLast: 2}, []int64{2, 4, 5}},
		{"not last 50", live.Criteria{NotWonInLast: 50}, []int64{2, 5}},
		{"all of them", live.Criteria{Commented: true, GroupID: 10, MinMemberDays: 1, NotWonInLast: 1}, []int64{1}},
		{"no one", live.Criteria{Commented: true, Liked: true, GroupID: 11}, nil},
	} {
		if got := live.Eligible(c.cr, now, recent, cands); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	// Ineligible members are never drawn, whatever the seed.
	el := live.Eligible(live.Criteria{GroupID: 11}, now, recent, cands)
	for i := range 200 {
		for _, w := range live.Pick(seedOf(fmt.Sprint("x", i)), el, 1) {
			if w != 2 && w != 3 {
				t.Fatalf("drew ineligible %d", w)
			}
		}
	}
}
