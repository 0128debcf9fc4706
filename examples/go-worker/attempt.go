package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	taskwirev1 "taskwire.example/go-worker/gen/taskwire/v1"
)

// timeoutError is the cause of an attempt's context when Assignment.timeout_ms passed.
type timeoutError struct{ after time.Duration }

func (e *timeoutError) Error() string {
	return fmt.Sprintf("the attempt exceeded its timeout of %v", e.after)
}

// payloadTooLargeError replaces a result over Welcome.max_payload_bytes: the server would
// refuse it, so the worker fails the attempt itself with a clear reason.
type payloadTooLargeError struct {
	size  int
	limit uint64
}

func (e *payloadTooLargeError) Error() string {
	return fmt.Sprintf("the result is %d bytes, over the server's payload limit of %d", e.size, e.limit)
}

// unknownTaskError fails a run of a task key this worker does not serve.
type unknownTaskError struct{ taskKey string }

func (e *unknownTaskError) Error() string {
	return fmt.Sprintf("this worker does not serve the task %q", e.taskKey)
}

// attemptContext is the context one attempt runs under: cancelled with a cause by the
// worker (Cancel, lost lease, shutdown), and by Assignment.timeout_ms when it is set.
func attemptContext(timeout time.Duration) (context.Context, func(cause error)) {
	ctx, cancelCause := context.WithCancelCause(context.Background())
	stopTimer := func() {}
	if timeout > 0 {
		var cancelTimeout context.CancelFunc
		ctx, cancelTimeout = context.WithTimeoutCause(ctx, timeout, &timeoutError{timeout})
		stopTimer = cancelTimeout
	}
	return ctx, func(cause error) {
		cancelCause(cause)
		stopTimer()
	}
}

// errorInfo describes a failed attempt for the server: a type name the caller can match
// on, and whether a retry could help (the server retries only retryable errors).
func errorInfo(err, cause error) *taskwirev1.ErrorInfo {
	var cancelled *cancelledError
	var timeout *timeoutError
	var parameter *ParameterError
	var tooLarge *payloadTooLargeError
	var unknownTask *unknownTaskError
	switch {
	case errors.As(err, &cancelled) || errors.As(cause, &cancelled):
		return &taskwirev1.ErrorInfo{Type: "Cancelled", Message: cancelled.reason, Retryable: false}
	case errors.As(err, &timeout) || errors.As(cause, &timeout):
		return &taskwirev1.ErrorInfo{Type: "TimeoutError", Message: timeout.Error(), Retryable: true}
	case errors.As(err, &parameter):
		return &taskwirev1.ErrorInfo{Type: "ParameterError", Message: parameter.Message, Retryable: false}
	case errors.As(err, &tooLarge):
		return &taskwirev1.ErrorInfo{Type: "PayloadTooLarge", Message: tooLarge.Error(), Retryable: false}
	case errors.As(err, &unknownTask):
		return &taskwirev1.ErrorInfo{Type: "UnknownTask", Message: unknownTask.Error(), Retryable: false}
	default:
		return &taskwirev1.ErrorInfo{Type: "Error", Message: err.Error(), Retryable: true}
	}
}
