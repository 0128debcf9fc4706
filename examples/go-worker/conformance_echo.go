package main

import (
	"context"

	taskwirev1 "taskwire.example/go-worker/gen/taskwire/v1"
)

// conformanceEchoTaskKey is the conformance suite's echo task.
const conformanceEchoTaskKey = "conformance_echo"

// conformanceEcho is the task conformance_echo(value) -> value: it returns its first
// argument, any JSON value, byte for byte as the caller's JSON encoded it, so that the
// suite can check that nothing is lost between languages (Unicode, nesting, null).
func conformanceEcho(_ context.Context, parameters *taskwirev1.Payload) (*taskwirev1.Payload, error) {
	bound, err := bindArguments(parameters, []string{"value"}, 1)
	if err != nil {
		return nil, err
	}
	return &taskwirev1.Payload{ContentType: jsonContentType, Data: bound["value"]}, nil
}
