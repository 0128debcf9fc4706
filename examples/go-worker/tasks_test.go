package main

import (
	"slices"
	"testing"
)

func TestExampleTasksServeWordCountAndTheConformanceTasks(t *testing.T) {
	want := []string{"conformance_echo", "conformance_sleep", "word_count"}
	if got := exampleTasks().Keys(); !slices.Equal(got, want) {
		t.Errorf("Keys() = %v, want %v", got, want)
	}
}

func TestAnUnknownTaskFailsWithoutRetry(t *testing.T) {
	info := errorInfo(&unknownTaskError{"resize_image"}, nil)
	if info.GetType() != "UnknownTask" || info.GetRetryable() || info.GetMessage() != `this worker does not serve the task "resize_image"` {
		t.Errorf("errorInfo = %v, want a non-retryable UnknownTask naming the key", info)
	}
}
