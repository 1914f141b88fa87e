package commerce

// SetImportHook runs fn before each import batch commits (tests inject
// failures with it).
func (s *Service) SetImportHook(fn func(batch int) error) { s.importHook = fn }
