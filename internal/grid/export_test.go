package grid

import "time"

// SetNow replaces the service's clock (tests).
func SetNow(s *Service, now func() time.Time) { s.now = now }
