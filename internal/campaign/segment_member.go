package campaign

import (
	"context"
	"fmt"
	"time"

	"github.com/liveloop/liveloop/internal/store"
)

// MemberIn reports whether one member of the tenant is in the segment at
// now: the same compiled condition as Members, restricted to that member
// (so a coupon's segment audience and a playbook's agree on who is in).
// A merged record or a banned person is in no segment.
func MemberIn(ctx context.Context, q store.Querier, tenantID, memberID int64, seg Segment, now time.Time) (bool, error) {
	ok, err := reaches(ctx, q, tenantID, audience{seg: seg, only: []int64{memberID}}, now)
	if err != nil {
		return false, fmt.Errorf("campaign: segment of member %d: %w", memberID, err)
	}
	return ok, nil
}
