package main

import (
	"encoding/json"
	"fmt"
	"strings"

	taskwirev1 "taskwire.example/go-worker/gen/taskwire/v1"
)

const jsonContentType = "application/json"

// ParameterError says the run's parameters do not fit the task's signature. Retrying
// cannot fix that, so the worker reports it with retryable=false.
type ParameterError struct {
	Message string
}

func (e *ParameterError) Error() string { return e.Message }

// bindArguments maps a run's parameters, the JSON object {"args": [...], "kwargs": {...}}
// that every taskwire language sends, onto the named parameters of a task, the way a
// Python call binds them: positional arguments first, then keywords. Names listed in
// required must be present; the rest are optional.
func bindArguments(parameters *taskwirev1.Payload, names []string, required int) (map[string]json.RawMessage, error) {
	contentType := parameters.GetContentType()
	if contentType != "" && contentType != jsonContentType {
		return nil, &ParameterError{fmt.Sprintf("parameters: content type %q is not supported, only %s", contentType, jsonContentType)}
	}
	var call struct {
		Args   []json.RawMessage          `json:"args"`
		Kwargs map[string]json.RawMessage `json:"kwargs"`
	}
	if data := parameters.GetData(); len(data) > 0 {
		if err := json.Unmarshal(data, &call); err != nil {
			return nil, &ParameterError{fmt.Sprintf(`parameters: expected {"args": [...], "kwargs": {...}}: %v`, err)}
		}
	}
	if len(call.Args) > len(names) {
		return nil, &ParameterError{fmt.Sprintf("takes at most %d positional arguments but %d were given", len(names), len(call.Args))}
	}
	bound := make(map[string]json.RawMessage, len(names))
	for i, arg := range call.Args {
		bound[names[i]] = arg
	}
	for name, value := range call.Kwargs {
		if !contains(names, name) {
			return nil, &ParameterError{fmt.Sprintf("got an unexpected keyword argument %q", name)}
		}
		if _, twice := bound[name]; twice {
			return nil, &ParameterError{fmt.Sprintf("got multiple values for argument %q", name)}
		}
		bound[name] = value
	}
	var missing []string
	for _, name := range names[:required] {
		if _, ok := bound[name]; !ok {
			missing = append(missing, fmt.Sprintf("%q", name))
		}
	}
	if len(missing) > 0 {
		return nil, &ParameterError{"missing required argument " + strings.Join(missing, ", ")}
	}
	return bound, nil
}

// decodeArgument unmarshals one bound argument if present, naming it and the type it
// should have ("a string") when its JSON does not fit.
func decodeArgument(bound map[string]json.RawMessage, name string, into any, want string) error {
	value, ok := bound[name]
	if !ok {
		return nil
	}
	if err := json.Unmarshal(value, into); err != nil || string(value) == "null" {
		return &ParameterError{fmt.Sprintf("argument %q must be %s, got %s", name, want, value)}
	}
	return nil
}

func contains(items []string, item string) bool {
	for _, it := range items {
		if it == item {
			return true
		}
	}
	return false
}
