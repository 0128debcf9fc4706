package main

import (
	"context"
	"slices"

	taskwirev1 "taskwire.example/go-worker/gen/taskwire/v1"
)

// TaskFunc runs one attempt. ctx ends when the run is cancelled, its lease is lost or its
// timeout passes; context.Cause(ctx) says which.
type TaskFunc func(ctx context.Context, parameters *taskwirev1.Payload) (*taskwirev1.Payload, error)

// Tasks maps each task key a worker serves to the function that runs it. The worker
// announces its keys in Hello, so the server assigns it runs of these keys only.
type Tasks map[string]TaskFunc

// exampleTasks is what this worker serves: word_count, and the two tasks the worker
// conformance suite (conformance/README.md) schedules.
func exampleTasks() Tasks {
	return Tasks{
		wordCountTaskKey:        wordCount,
		conformanceEchoTaskKey:  conformanceEcho,
		conformanceSleepTaskKey: conformanceSleep,
	}
}

// Keys lists the task keys in sorted order, for Hello and for the start-up line.
func (t Tasks) Keys() []string {
	keys := make([]string, 0, len(t))
	for key := range t {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	return keys
}
