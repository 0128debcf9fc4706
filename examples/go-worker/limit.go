package main

import (
	"fmt"
	"strconv"
)

// fallbackLimit is --limit's default when TASKWIRE_WORKER_LIMIT is not set, as in the
// TypeScript and Python SDKs.
const fallbackLimit = 10

// defaultLimit is --limit's default given TASKWIRE_WORKER_LIMIT's value: that number when
// set (the conformance suite sets it), else fallbackLimit.
//
// It returns an error when the variable is set but not a whole number of at least 1.
func defaultLimit(env string) (int, error) {
	if env == "" {
		return fallbackLimit, nil
	}
	limit, err := strconv.Atoi(env)
	if err != nil || limit < 1 {
		return 0, fmt.Errorf("TASKWIRE_WORKER_LIMIT must be a whole number of at least 1, got %q", env)
	}
	return limit, nil
}
