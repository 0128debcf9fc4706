package main

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	taskwirev1 "taskwire.example/go-worker/gen/taskwire/v1"
)

// wordCountTaskKey is the task key this worker serves. A TypeScript or Python caller
// schedules it with task("word_count", ...) / @task(name="word_count").
const wordCountTaskKey = "word_count"

// countWords counts the words of text: runs of non-space characters, as Python's
// len(text.split()) does.
func countWords(text string) int {
	return len(strings.Fields(text))
}

// wordCount is the task: word_count(text: string, delay_ms: number = 0) -> number.
// delay_ms makes it take that long before answering (returning early when the run is
// cancelled or times out), so that cancel and shutdown can be tried on a run in flight.
func wordCount(ctx context.Context, parameters *taskwirev1.Payload) (*taskwirev1.Payload, error) {
	bound, err := bindArguments(parameters, []string{"text", "delay_ms"}, 1)
	if err != nil {
		return nil, err
	}
	var text string
	var delayMs float64
	if err := decodeArgument(bound, "text", &text, "a string"); err != nil {
		return nil, err
	}
	if err := decodeArgument(bound, "delay_ms", &delayMs, "a number"); err != nil {
		return nil, err
	}
	if delayMs > 0 {
		select {
		case <-time.After(time.Duration(delayMs * float64(time.Millisecond))):
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
	data, err := json.Marshal(countWords(text))
	if err != nil {
		return nil, err
	}
	return &taskwirev1.Payload{ContentType: jsonContentType, Data: data}, nil
}
