package handler

import "time"

// noteError counts a write error and reports it through Options.OnError,
// at most once per Options.ErrorInterval, with the lines lost since.
func (s *sink) noteError(err error, lost uint64) {
	s.writeErrors.Add(1)
	s.lastErr.set(err)
	s.lostSinceReport += lost
	s.errorsSinceReport++
	if s.opts.OnError == nil {
		return
	}
	now := time.Now()
	if !s.lastErrorReport.IsZero() && now.Sub(s.lastErrorReport) < s.opts.ErrorInterval {
		return
	}
	s.opts.OnError(err, s.errorsSinceReport, s.lostSinceReport)
	s.lastErrorReport = now
	s.errorsSinceReport, s.lostSinceReport = 0, 0
}
