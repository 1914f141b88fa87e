package cli

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/liveloop/liveloop/internal/live"
)

// LotteryRecord is what a live room publishes of a drawn lottery
// (/l/<brand>/<live>/lotteries/<id>.json) and what `liveloop lottery
// verify` reads: enough for anyone to recompute the winners.
type LotteryRecord struct {
	Prize       string  `json:"prize"`
	Commitment  string  `json:"commitment"`
	Seed        string  `json:"seed"` // hex
	WinnerCount int     `json:"winner_count"`
	Eligible    []int64 `json:"eligible"`
	Winners     []int64 `json:"winners"`
}

// lottery is `liveloop lottery verify [FILE]`: it recomputes a published
// draw from its seed and eligible list and checks the seed against the
// commitment shown before the draw. It needs no database.
func lottery(e env, args []string) error {
	if len(args) == 0 || args[0] != "verify" {
		return errors.New("usage: liveloop lottery verify [FILE | -]  (the lottery's JSON record; - or nothing reads standard input)")
	}
	fs := flag.NewFlagSet("liveloop lottery verify", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	var in io.Reader = e.stdin
	if p := fs.Arg(0); p != "" && p != "-" {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	var rec LotteryRecord
	if err := json.NewDecoder(io.LimitReader(in, 64<<20)).Decode(&rec); err != nil {
		return fmt.Errorf("not a lottery record: %w", err)
	}
	seed, err := hex.DecodeString(rec.Seed)
	if err != nil || len(seed) == 0 {
		return errors.New("the record has no seed (the lottery is not drawn yet, or the seed is not hex)")
	}
	if err := live.Verify(seed, rec.Commitment, rec.Eligible, rec.WinnerCount, rec.Winners); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "verified: the seed matches the commitment %s, and drawing %d from the %d eligible members gives exactly the published winners %v\n",
		rec.Commitment, rec.WinnerCount, len(rec.Eligible), rec.Winners)
	return nil
}
