package registry

import "time"

// SetNow fixes a service's clock in external tests (the benchmarks).
func SetNow(s *Service, now func() time.Time) { s.now = now }

// ReasonOf is reasonOf for external tests.
var ReasonOf = reasonOf
