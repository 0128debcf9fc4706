package main

import (
	"context"
	"errors"
	"testing"
)

func TestConformanceEchoReturnsItsFirstArgumentUnchanged(t *testing.T) {
	cases := map[string]string{
		`{"args":["héllo, wörld 👋"],"kwargs":{}}`:                               `"héllo, wörld 👋"`,
		`{"args":[{"numbers":[1,2.5,-3],"nested":{"ok":true,"nothing":null}}]}`: `{"numbers":[1,2.5,-3],"nested":{"ok":true,"nothing":null}}`,
		`{"args":[null]}`:                        `null`,
		`{"args":[42],"kwargs":{}}`:              `42`,
		`{"args":[],"kwargs":{"value":[1,"a"]}}`: `[1,"a"]`,
	}
	for params, want := range cases {
		result, err := conformanceEcho(context.Background(), jsonParams(params))
		if err != nil {
			t.Fatalf("conformanceEcho(%s): %v", params, err)
		}
		if got := string(result.GetData()); got != want || result.GetContentType() != jsonContentType {
			t.Errorf("conformanceEcho(%s) = %s (%s), want %s (application/json)", params, got, result.GetContentType(), want)
		}
	}
}

func TestConformanceEchoNeedsAnArgument(t *testing.T) {
	_, err := conformanceEcho(context.Background(), jsonParams(`{"args":[],"kwargs":{}}`))
	var parameterError *ParameterError
	if !errors.As(err, &parameterError) || parameterError.Message != `missing required argument "value"` {
		t.Errorf("conformanceEcho() error = %v, want a ParameterError about the missing value", err)
	}
}
