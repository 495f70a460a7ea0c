package ratelimit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// ParseOverrides reads overrides from JSON such as
//
//	{"send": {"per_identifier": {"limit": 5, "period": "1h", "burst": 2},
//	          "per_project": null}}
//
// A rule needs limit (at least 1) and period (a Go duration, positive);
// burst is optional (0 or absent means burst = limit). null removes a rule.
// Rules a class does not mention keep their current value. Unlike API
// requests, unknown fields are errors: this is operator configuration and a
// typo must not silently leave a limit in place. Every problem is reported,
// each naming its field, such as "send.per_identifier.limit".
func ParseOverrides(data []byte) (Overrides, error) {
	var classes map[string]json.RawMessage
	if err := unmarshalObject(data, &classes); err != nil {
		return nil, fmt.Errorf("rate limit overrides: %w", err)
	}
	o := make(Overrides, len(classes))
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(classes)) {
		if !slices.Contains(Classes(), Class(name)) {
			errs = append(errs, unknownClass(name))
			continue
		}
		co, err := parseClass(name, classes[name])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		o[Class(name)] = co
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("rate limit overrides: %w", err)
	}
	return o, nil
}

func parseClass(path string, data json.RawMessage) (ClassOverride, error) {
	var fields map[string]json.RawMessage
	if err := unmarshalObject(data, &fields); err != nil {
		return ClassOverride{}, fmt.Errorf("%s: %w", path, err)
	}
	var co ClassOverride
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		var dst **Rule
		switch name {
		case "per_project":
			dst = &co.PerProject
		case "per_identifier":
			dst = &co.PerIdentifier
		default:
			errs = append(errs, fmt.Errorf("%s.%s: unknown field (known: per_project, per_identifier)", path, name))
			continue
		}
		r, err := parseRule(path+"."+name, fields[name])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		*dst = r
	}
	return co, errors.Join(errs...)
}

func parseRule(path string, data json.RawMessage) (*Rule, error) {
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		return &Rule{}, nil
	}
	var fields map[string]json.RawMessage
	if err := unmarshalObject(data, &fields); err != nil {
		return nil, fmt.Errorf("%s: %w (or null to remove the rule)", path, err)
	}
	var r Rule
	var errs []error
	fail := func(field, problem string) { errs = append(errs, fmt.Errorf("%s.%s: %s", path, field, problem)) }
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		raw := fields[name]
		switch name {
		case "limit", "burst":
			var n int
			if json.Unmarshal(raw, &n) != nil {
				fail(name, "must be a whole number")
				continue
			}
			if name == "limit" {
				r.Limit = n
			} else {
				r.Burst = n
			}
		case "period":
			var s string
			if json.Unmarshal(raw, &s) != nil {
				fail(name, `must be a duration string such as "1h" or "90s"`)
				continue
			}
			d, err := time.ParseDuration(s)
			if err != nil {
				fail(name, fmt.Sprintf(`%q is not a duration such as "1h" or "90s"`, s))
				continue
			}
			r.Period = d
		default:
			fail(name, "unknown field (known: limit, period, burst)")
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if _, ok := fields["limit"]; !ok {
		fail("limit", "required")
	}
	if _, ok := fields["period"]; !ok {
		fail("period", "required")
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if field, problem := r.check(); field != "" {
		if field == "limit" && r.Limit == 0 {
			problem += " (null removes the rule)"
		}
		fail(field, problem)
		return nil, errs[0]
	}
	return &r, nil
}

// unmarshalObject decodes a JSON object, saying so when data is something
// else (json's own message names a Go type).
func unmarshalObject(data []byte, v *map[string]json.RawMessage) error {
	var syntax *json.SyntaxError
	switch err := json.Unmarshal(data, v); {
	case errors.As(err, &syntax):
		return fmt.Errorf("invalid JSON at byte %d: %w", syntax.Offset, err)
	case err != nil || *v == nil:
		return errors.New("must be a JSON object")
	}
	return nil
}
