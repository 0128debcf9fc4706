package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	taskwirev1 "taskwire.example/go-worker/gen/taskwire/v1"
)

func jsonParams(data string) *taskwirev1.Payload {
	return &taskwirev1.Payload{ContentType: jsonContentType, Data: []byte(data)}
}

func TestCountWords(t *testing.T) {
	cases := map[string]int{
		"":                        0,
		"   ":                     0,
		"one":                     1,
		"the quick  brown\tfox\n": 4,
		"naïve café, déjà vu":     4,
	}
	for text, want := range cases {
		if got := countWords(text); got != want {
			t.Errorf("countWords(%q) = %d, want %d", text, got, want)
		}
	}
}

func TestWordCountDecodesArgsAndKwargs(t *testing.T) {
	cases := map[string]string{
		`{"args":["a b c"],"kwargs":{}}`:         "3",
		`{"args":[],"kwargs":{"text":"a b"}}`:    "2",
		`{"args":["a b c d"]}`:                   "4",
		`{"args":["x"],"kwargs":{"delay_ms":0}}`: "1",
	}
	for params, want := range cases {
		result, err := wordCount(context.Background(), jsonParams(params))
		if err != nil {
			t.Fatalf("wordCount(%s): %v", params, err)
		}
		if got := string(result.GetData()); got != want || result.GetContentType() != jsonContentType {
			t.Errorf("wordCount(%s) = %s (%s), want %s (application/json)", params, got, result.GetContentType(), want)
		}
	}
}

func TestWordCountRefusesParametersThatDoNotFit(t *testing.T) {
	cases := map[string]string{
		`{"args":[],"kwargs":{}}`:               `missing required argument "text"`,
		``:                                      `missing required argument "text"`,
		`{"args":[42]}`:                         `argument "text" must be a string, got 42`,
		`{"args":[null]}`:                       `argument "text" must be a string, got null`,
		`{"args":["a"],"kwargs":{"text":"b"}}`:  `got multiple values for argument "text"`,
		`{"args":["a"],"kwargs":{"lang":"en"}}`: `got an unexpected keyword argument "lang"`,
		`{"args":["a", 1, 2]}`:                  `takes at most 2 positional arguments but 3 were given`,
		`{"args":["a"],"kwargs":{"delay_ms":"soon"}}`: `argument "delay_ms" must be a number, got "soon"`,
		`["a"]`: `parameters: expected {"args": [...], "kwargs": {...}}`,
	}
	for params, want := range cases {
		_, err := wordCount(context.Background(), jsonParams(params))
		var parameterError *ParameterError
		if !errors.As(err, &parameterError) || !strings.Contains(err.Error(), want) {
			t.Errorf("wordCount(%s) error = %v, want a ParameterError containing %q", params, err, want)
		}
		info := errorInfo(err, nil)
		if info.GetType() != "ParameterError" || info.GetRetryable() {
			t.Errorf("wordCount(%s) reports %s retryable=%v, want ParameterError retryable=false", params, info.GetType(), info.GetRetryable())
		}
	}
	_, err := wordCount(context.Background(), &taskwirev1.Payload{ContentType: "application/msgpack", Data: []byte{0x91}})
	if err == nil || !strings.Contains(err.Error(), `content type "application/msgpack" is not supported`) {
		t.Errorf("a msgpack payload gave %v, want a content type error", err)
	}
}

func TestWordCountStopsWhenCancelled(t *testing.T) {
	ctx, cancel := attemptContext(0)
	go func() {
		time.Sleep(20 * time.Millisecond)
		cancel(&cancelledError{"cancelled on request"})
	}()
	begun := time.Now()
	_, err := wordCount(ctx, jsonParams(`{"args":["a"],"kwargs":{"delay_ms":10000}}`))
	if time.Since(begun) > 5*time.Second {
		t.Fatalf("wordCount ignored the cancel")
	}
	info := errorInfo(err, context.Cause(ctx))
	if info.GetType() != "Cancelled" || info.GetMessage() != "cancelled on request" || info.GetRetryable() {
		t.Errorf("errorInfo = %v, want Cancelled, not retryable", info)
	}
}

func TestWordCountTimesOut(t *testing.T) {
	ctx, cancel := attemptContext(30 * time.Millisecond)
	defer cancel(nil)
	_, err := wordCount(ctx, jsonParams(`{"args":["a"],"kwargs":{"delay_ms":10000}}`))
	info := errorInfo(err, context.Cause(ctx))
	if info.GetType() != "TimeoutError" || !info.GetRetryable() {
		t.Errorf("errorInfo = %v, want a retryable TimeoutError", info)
	}
}
