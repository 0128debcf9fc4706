package main

import "testing"

func TestDefaultLimitComesFromTheEnvironmentWhenSet(t *testing.T) {
	cases := map[string]int{"": fallbackLimit, "3": 3, "1": 1, "250": 250}
	for env, want := range cases {
		if got, err := defaultLimit(env); err != nil || got != want {
			t.Errorf("defaultLimit(%q) = %d, %v; want %d", env, got, err, want)
		}
	}
	for _, env := range []string{"0", "-2", "three", "2.5", " 3"} {
		if got, err := defaultLimit(env); err == nil {
			t.Errorf("defaultLimit(%q) = %d, want an error", env, got)
		}
	}
}
