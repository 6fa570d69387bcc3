package serviceuser

// RequireNoRefreshGoroutines lets the external tests check goroutine hygiene.
var RequireNoRefreshGoroutines = requireNoRefreshGoroutines
