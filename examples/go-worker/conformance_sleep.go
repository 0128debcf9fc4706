package main

import (
	"context"
	"fmt"
	"time"

	taskwirev1 "taskwire.example/go-worker/gen/taskwire/v1"
)

// conformanceSleepTaskKey is the conformance suite's sleep task.
const conformanceSleepTaskKey = "conformance_sleep"

// conformanceSleep is the task conformance_sleep(seconds) -> "done". It returns early,
// with the context's cause, when the run is cancelled, times out or is released at
// shutdown: the suite checks that a Cancel frees the slot at once.
func conformanceSleep(ctx context.Context, parameters *taskwirev1.Payload) (*taskwirev1.Payload, error) {
	bound, err := bindArguments(parameters, []string{"seconds"}, 1)
	if err != nil {
		return nil, err
	}
	var seconds float64
	if err := decodeArgument(bound, "seconds", &seconds, "a number"); err != nil {
		return nil, err
	}
	if seconds < 0 {
		return nil, &ParameterError{fmt.Sprintf(`argument "seconds" must not be negative, got %v`, seconds)}
	}
	timer := time.NewTimer(time.Duration(seconds * float64(time.Second)))
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
	return &taskwirev1.Payload{ContentType: jsonContentType, Data: []byte(`"done"`)}, nil
}
