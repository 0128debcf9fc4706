package main

import (
	"time"

	taskwirev1 "taskwire.example/go-worker/gen/taskwire/v1"
)

// drain stops taking work, lets in-flight runs finish for up to grace, releases the rest,
// waits for the server's acks and closes the stream.
func (s *session) drain(grace time.Duration) error {
	s.mu.Lock()
	s.draining = true
	s.mu.Unlock()
	s.sendOrLog(&taskwirev1.SubscribeTaskRunsRequest{Message: &taskwirev1.SubscribeTaskRunsRequest_Drain{Drain: &taskwirev1.Drain{}}})

	s.waitUntil(time.After(grace), func() bool { return s.inFlight() == 0 })

	s.mu.Lock()
	var released []*taskwirev1.LeaseRef
	for _, run := range s.runs {
		if !run.reported {
			run.reported = true
			run.cancel(errReleased)
			released = append(released, run.ref)
		}
	}
	s.mu.Unlock()
	if len(released) > 0 {
		s.cfg.Logf("handing back %d unfinished run(s)", len(released))
		s.sendOrLog(&taskwirev1.SubscribeTaskRunsRequest{Message: &taskwirev1.SubscribeTaskRunsRequest_Released{Released: &taskwirev1.Released{Runs: released}}})
	}

	if !s.waitUntil(time.After(ackWait), func() bool { return len(s.runs) == 0 }) {
		s.cfg.Logf("closing with run(s) not acknowledged; the server requeues them")
	}
	s.running.Wait()
	s.sendMu.Lock()
	err := s.stream.CloseSend()
	s.sendMu.Unlock()
	if err != nil {
		return err
	}
	// The server ends the stream once it has read our end of it.
	select {
	case <-s.ended:
	case <-time.After(ackWait):
	}
	return nil
}

// abortAll cancels every run still executing without reporting it.
func (s *session) abortAll(cause error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, run := range s.runs {
		run.reported = true
		run.cancel(cause)
		delete(s.runs, id)
	}
	s.notify()
}

// waitUntil waits until cond (checked under mu) holds, the timeout fires or the stream
// ends; it reports whether cond held.
func (s *session) waitUntil(timeout <-chan time.Time, cond func() bool) bool {
	for {
		s.mu.Lock()
		ok := cond()
		changed := s.changed
		s.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-changed:
		case <-timeout:
			return false
		case <-s.ended:
			// Nothing more will come: no ack, and the server requeued what we held.
			return false
		}
	}
}
