package live

import "time"

// SetClock makes s read the time from now (tests of drop windows).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// RejectFrom exposes rejectFrom to the tests.
var RejectFrom = rejectFrom
