package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/timestamppb"

	taskwirev1 "taskwire.example/go-worker/gen/taskwire/v1"
)

// protocolVersion is the WorkerService protocol this worker speaks (Hello.protocol_version).
const protocolVersion = 1

// ackWait bounds how long a stopping worker waits for the server to acknowledge the
// results and releases it sent, so that none is lost by closing the stream too early.
const ackWait = 5 * time.Second

// WorkerConfig describes one worker process.
type WorkerConfig struct {
	// Tasks are the task keys served and what runs each.
	Tasks    Tasks
	Limit    int
	WorkerID string
	Hostname string
	PID      int
	// APIKey, when set, is sent as "authorization: Bearer <key>".
	APIKey string
	// ShutdownGrace is how long in-flight runs may finish after a shutdown request before
	// they are handed back (Released).
	ShutdownGrace time.Duration
	// OnWelcome is called when the server accepted the Hello.
	OnWelcome func(*taskwirev1.Welcome)
	Logf      func(format string, args ...any)
}

// errServerDrained ends a session that the server asked to drain (it is shutting down).
var errServerDrained = errors.New("the server asked this worker to drain")

// cancelledError is the cause of a run's context when the server sent Cancel for it.
type cancelledError struct{ reason string }

func (e *cancelledError) Error() string { return "cancelled: " + e.reason }

// leaseLostError is the cause when the server refused a Started or Heartbeat: the worker
// no longer holds the run, so it stops and reports nothing.
type leaseLostError struct{ reason string }

func (e *leaseLostError) Error() string { return "lease lost: " + e.reason }

// errReleased is the cause when the worker hands a run back during shutdown.
var errReleased = errors.New("released during shutdown")

type heldRun struct {
	ref *taskwirev1.LeaseRef
	// cancel ends the attempt's context with a cause (nil once it finished normally).
	cancel func(cause error)
	// reported: a Completed, Failed or Released was sent (or the lease is gone); the run
	// only waits for its Ack now and no longer needs heartbeats.
	reported bool
}

// session is one SubscribeTaskRuns stream. The worker's state is guarded by mu; sends are
// serialised by sendMu, since a gRPC stream allows one sender at a time.
type session struct {
	cfg    WorkerConfig
	stream grpc.BidiStreamingClient[taskwirev1.SubscribeTaskRunsRequest, taskwirev1.SubscribeTaskRunsResponse]
	sendMu sync.Mutex

	mu       sync.Mutex
	runs     map[string]*heldRun
	draining bool
	welcome  *taskwirev1.Welcome
	// changed is closed and replaced whenever runs changes, to wake waiters.
	changed chan struct{}
	running sync.WaitGroup
	// ended is closed when the server's side of the stream ended, with endErr why.
	ended  chan struct{}
	endErr error
}

// runSession opens one stream and serves runs until the stream ends or stop is closed.
// After stop it drains: Drain to the server, in-flight runs get cfg.ShutdownGrace to
// finish, the rest are Released, and the stream is closed once the server acknowledged
// everything. It returns nil after such a shutdown, errServerDrained when the server
// asked to drain, or the error that ended the stream.
func runSession(ctx context.Context, stop <-chan struct{}, client taskwirev1.WorkerServiceClient, cfg WorkerConfig) error {
	streamCtx, cancelStream := context.WithCancel(ctx)
	defer cancelStream()
	if cfg.APIKey != "" {
		streamCtx = metadata.AppendToOutgoingContext(streamCtx, "authorization", "Bearer "+cfg.APIKey)
	}
	stream, err := client.SubscribeTaskRuns(streamCtx)
	if err != nil {
		return err
	}
	s := &session{cfg: cfg, stream: stream, runs: map[string]*heldRun{}, changed: make(chan struct{}), ended: make(chan struct{})}
	err = s.send(&taskwirev1.SubscribeTaskRunsRequest{Message: &taskwirev1.SubscribeTaskRunsRequest_Hello{Hello: &taskwirev1.Hello{
		ProtocolVersion: protocolVersion,
		WorkerId:        cfg.WorkerID,
		TaskKeys:        cfg.Tasks.Keys(),
		Limit:           uint32(cfg.Limit),
		Language:        "go",
		SdkVersion:      exampleVersion,
		Hostname:        cfg.Hostname,
		Pid:             uint32(cfg.PID),
	}}})
	if err != nil {
		return err
	}

	// The first answer must be Welcome; a refused Hello ends the stream with the reason.
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	welcome := first.GetWelcome()
	if welcome == nil {
		return fmt.Errorf("expected Welcome as the server's first message, got %T", first.GetMessage())
	}
	s.welcome = welcome
	if cfg.OnWelcome != nil {
		cfg.OnWelcome(welcome)
	}

	serverDrain := make(chan time.Duration, 1)
	go func() {
		s.endErr = s.receive(serverDrain)
		close(s.ended)
	}()
	heartbeatDone := make(chan struct{})
	defer close(heartbeatDone)
	go s.heartbeat(time.Duration(welcome.GetHeartbeatIntervalMs())*time.Millisecond, heartbeatDone)

	select {
	case <-stop:
		return s.drain(cfg.ShutdownGrace)
	case grace := <-serverDrain:
		// Leave a margin so that our Released arrive before the server closes the stream.
		if err := s.drain(max(grace-grace/5, 0)); err != nil {
			return err
		}
		return errServerDrained
	case <-s.ended:
		// The stream broke: the server requeues what we held, so stop working on it.
		s.abortAll(&leaseLostError{"the stream ended"})
		s.running.Wait()
		return s.endErr
	}
}

// receive handles the server's messages until the stream ends.
func (s *session) receive(serverDrain chan<- time.Duration) error {
	for {
		message, err := s.stream.Recv()
		if err != nil {
			return err
		}
		switch m := message.GetMessage().(type) {
		case *taskwirev1.SubscribeTaskRunsResponse_Assignments:
			s.assign(m.Assignments.GetAssignments())
		case *taskwirev1.SubscribeTaskRunsResponse_Acks:
			s.acknowledged(m.Acks.GetAcks())
		case *taskwirev1.SubscribeTaskRunsResponse_Cancel:
			s.cancel(m.Cancel.GetRunIds(), m.Cancel.GetReason())
		case *taskwirev1.SubscribeTaskRunsResponse_Drain:
			select {
			case serverDrain <- time.Duration(m.Drain.GetGraceMs()) * time.Millisecond:
			default:
			}
		}
	}
}

// assign starts the assigned runs and acknowledges them with one Started. Runs that
// arrive while draining (or beyond the limit, which the server should never send) are
// handed back at once.
func (s *session) assign(assignments []*taskwirev1.Assignment) {
	var started, released []*taskwirev1.LeaseRef
	type start struct {
		assignment *taskwirev1.Assignment
		ctx        context.Context
	}
	var starts []start
	s.mu.Lock()
	for _, a := range assignments {
		ref := &taskwirev1.LeaseRef{RunId: a.GetRunId(), LeaseToken: a.GetLeaseToken()}
		ctx, cancel := attemptContext(time.Duration(a.GetTimeoutMs()) * time.Millisecond)
		run := &heldRun{ref: ref, cancel: cancel}
		s.runs[a.GetRunId()] = run
		if s.draining || s.inFlight() > s.cfg.Limit {
			run.reported = true
			cancel(errReleased)
			released = append(released, ref)
			continue
		}
		started = append(started, ref)
		starts = append(starts, start{a, ctx})
	}
	s.mu.Unlock()

	if len(released) > 0 {
		s.sendOrLog(&taskwirev1.SubscribeTaskRunsRequest{Message: &taskwirev1.SubscribeTaskRunsRequest_Released{Released: &taskwirev1.Released{Runs: released}}})
	}
	if len(started) == 0 {
		return
	}
	// Started goes out before any result of these runs can.
	s.sendOrLog(&taskwirev1.SubscribeTaskRunsRequest{Message: &taskwirev1.SubscribeTaskRunsRequest_Started{Started: &taskwirev1.Started{Runs: started}}})
	for _, st := range starts {
		s.running.Add(1)
		go s.execute(st.ctx, st.assignment)
	}
}

// inFlight counts the runs still executing. Called with mu held.
func (s *session) inFlight() int {
	n := 0
	for _, run := range s.runs {
		if !run.reported {
			n++
		}
	}
	return n
}

// execute runs one attempt and reports how it ended, unless the run was released or its
// lease lost meanwhile (then the server no longer expects a word about it).
func (s *session) execute(ctx context.Context, a *taskwirev1.Assignment) {
	defer s.running.Done()
	var result *taskwirev1.Payload
	var err error
	if task, ok := s.cfg.Tasks[a.GetTaskKey()]; ok {
		result, err = task(ctx, a.GetParameters())
	} else {
		// Only the keys of our Hello should be assigned; say so rather than hang.
		err = &unknownTaskError{a.GetTaskKey()}
	}
	cause := context.Cause(ctx)

	s.mu.Lock()
	run, ok := s.runs[a.GetRunId()]
	if !ok || run.reported {
		s.mu.Unlock()
		return
	}
	run.reported = true
	run.cancel(nil)
	s.notify()
	s.mu.Unlock()

	if err == nil && uint64(len(result.GetData())) > s.welcome.GetMaxPayloadBytes() {
		err = &payloadTooLargeError{size: len(result.GetData()), limit: s.welcome.GetMaxPayloadBytes()}
	}
	if err != nil {
		s.cfg.Logf("run %s (attempt %d) failed: %v", a.GetRunId(), a.GetAttempt(), err)
		s.sendOrLog(&taskwirev1.SubscribeTaskRunsRequest{Message: &taskwirev1.SubscribeTaskRunsRequest_Failed{Failed: &taskwirev1.Failed{
			Failures: []*taskwirev1.RunFailure{{RunId: run.ref.RunId, LeaseToken: run.ref.LeaseToken, Error: errorInfo(err, cause)}},
		}}})
		return
	}
	s.sendOrLog(&taskwirev1.SubscribeTaskRunsRequest{Message: &taskwirev1.SubscribeTaskRunsRequest_Logs{Logs: &taskwirev1.Logs{
		Lines: []*taskwirev1.WorkerLogLine{{
			RunId: run.ref.RunId, LeaseToken: run.ref.LeaseToken, Time: timestamppb.Now(), Level: "info",
			Message: fmt.Sprintf("%s finished on a Go worker, result %s", a.GetTaskKey(), result.GetData()),
		}},
	}}})
	s.sendOrLog(&taskwirev1.SubscribeTaskRunsRequest{Message: &taskwirev1.SubscribeTaskRunsRequest_Completed{Completed: &taskwirev1.Completed{
		Results: []*taskwirev1.RunResult{{RunId: run.ref.RunId, LeaseToken: run.ref.LeaseToken, Result: result}},
	}}})
}

// acknowledged settles runs: a Completed, Failed or Released ack (accepted or not) ends
// our part; a refused Started or Heartbeat means the lease is gone, so the run is aborted.
func (s *session) acknowledged(acks []*taskwirev1.Ack) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ack := range acks {
		run, ok := s.runs[ack.GetRunId()]
		if !ok || run.ref.LeaseToken != ack.GetLeaseToken() {
			continue
		}
		switch ack.GetKind() {
		case taskwirev1.AckKind_ACK_KIND_COMPLETED, taskwirev1.AckKind_ACK_KIND_FAILED, taskwirev1.AckKind_ACK_KIND_RELEASED:
			if !ack.GetAccepted() {
				s.cfg.Logf("run %s: the server refused our %s: %s", ack.GetRunId(), ack.GetKind(), ack.GetReason())
			}
			delete(s.runs, ack.GetRunId())
		case taskwirev1.AckKind_ACK_KIND_STARTED, taskwirev1.AckKind_ACK_KIND_HEARTBEAT:
			if !ack.GetAccepted() {
				s.cfg.Logf("run %s: aborting, the server refused our %s: %s", ack.GetRunId(), ack.GetKind(), ack.GetReason())
				run.reported = true
				run.cancel(&leaseLostError{ack.GetReason()})
				delete(s.runs, ack.GetRunId())
			}
		default:
			if !ack.GetAccepted() {
				s.cfg.Logf("run %s: the server refused our %s: %s", ack.GetRunId(), ack.GetKind(), ack.GetReason())
			}
		}
	}
	s.notify()
}

// cancel aborts runs the server asked to stop; each then reports Failed and the run ends
// CANCELLED (or, when the server itself gave the lease up, the report is refused).
func (s *session) cancel(runIDs []string, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range runIDs {
		if run, ok := s.runs[id]; ok && !run.reported {
			s.cfg.Logf("run %s: cancelled by the server: %s", id, reason)
			run.cancel(&cancelledError{reason})
		}
	}
}

// notify wakes waitUntil. Called with mu held.
func (s *session) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *session) send(message *taskwirev1.SubscribeTaskRunsRequest) error {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	return s.stream.Send(message)
}

// sendOrLog sends; a failure means the stream is gone, which receive reports on its own.
func (s *session) sendOrLog(message *taskwirev1.SubscribeTaskRunsRequest) {
	if err := s.send(message); err != nil {
		s.cfg.Logf("send failed: %v", err)
	}
}
