package runner

import "time"

// SetNow replaces the runner's clock (tests of schedules).
func (r *Runner) SetNow(now func() time.Time) { r.nowFn = now }
