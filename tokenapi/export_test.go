package tokenapi

// WithClockForTest lets the external tests pin the clock that New and the transport read.
var WithClockForTest = withClock
