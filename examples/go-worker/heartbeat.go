package main

import (
	"time"

	taskwirev1 "taskwire.example/go-worker/gen/taskwire/v1"
)

// heartbeat extends the leases of every run in flight with one message per interval.
func (s *session) heartbeat(interval time.Duration, done <-chan struct{}) {
	if interval <= 0 {
		interval = 5 * time.Second
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-done:
			return
		case <-ticker.C:
		}
		s.mu.Lock()
		var refs []*taskwirev1.LeaseRef
		for _, run := range s.runs {
			if !run.reported {
				refs = append(refs, run.ref)
			}
		}
		s.mu.Unlock()
		if len(refs) > 0 {
			s.sendOrLog(&taskwirev1.SubscribeTaskRunsRequest{Message: &taskwirev1.SubscribeTaskRunsRequest_Heartbeat{Heartbeat: &taskwirev1.Heartbeat{Runs: refs}}})
		}
	}
}
