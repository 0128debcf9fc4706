package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestConformanceSleepSleepsThenReturnsDone(t *testing.T) {
	begun := time.Now()
	result, err := conformanceSleep(context.Background(), jsonParams(`{"args":[0.2],"kwargs":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(begun); elapsed < 200*time.Millisecond {
		t.Errorf("conformanceSleep(0.2) returned after %v, before its 0.2 s", elapsed)
	}
	if string(result.GetData()) != `"done"` || result.GetContentType() != jsonContentType {
		t.Errorf("conformanceSleep(0.2) = %s (%s), want \"done\" (application/json)", result.GetData(), result.GetContentType())
	}
}

func TestConformanceSleepStopsWhenCancelled(t *testing.T) {
	ctx, cancel := attemptContext(0)
	go func() {
		time.Sleep(20 * time.Millisecond)
		cancel(&cancelledError{"cancelled on request"})
	}()
	begun := time.Now()
	_, err := conformanceSleep(ctx, jsonParams(`{"args":[30]}`))
	if time.Since(begun) > 5*time.Second {
		t.Fatalf("conformanceSleep ignored the cancel")
	}
	info := errorInfo(err, context.Cause(ctx))
	if info.GetType() != "Cancelled" || info.GetMessage() != "cancelled on request" || info.GetRetryable() {
		t.Errorf("errorInfo = %v, want Cancelled, not retryable", info)
	}
}

func TestConformanceSleepStopsAtItsTimeoutAndOnRelease(t *testing.T) {
	ctx, cancel := attemptContext(30 * time.Millisecond)
	defer cancel(nil)
	_, err := conformanceSleep(ctx, jsonParams(`{"args":[30]}`))
	if info := errorInfo(err, context.Cause(ctx)); info.GetType() != "TimeoutError" || !info.GetRetryable() {
		t.Errorf("errorInfo = %v, want a retryable TimeoutError", info)
	}

	ctx, cancel = attemptContext(0)
	cancel(errReleased)
	if _, err := conformanceSleep(ctx, jsonParams(`{"args":[30]}`)); !errors.Is(err, errReleased) {
		t.Errorf("conformanceSleep on a released run = %v, want errReleased", err)
	}
}

func TestConformanceSleepRefusesParametersThatDoNotFit(t *testing.T) {
	cases := map[string]string{
		`{"args":[]}`:       `missing required argument "seconds"`,
		`{"args":["soon"]}`: `argument "seconds" must be a number, got "soon"`,
		`{"args":[-1]}`:     `argument "seconds" must not be negative, got -1`,
	}
	for params, want := range cases {
		_, err := conformanceSleep(context.Background(), jsonParams(params))
		var parameterError *ParameterError
		if !errors.As(err, &parameterError) || !strings.Contains(err.Error(), want) {
			t.Errorf("conformanceSleep(%s) error = %v, want a ParameterError containing %q", params, err, want)
		}
	}
}
