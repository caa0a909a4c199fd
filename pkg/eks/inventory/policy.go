package inventory

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// Policy is an IAM policy document reduced to what the checks evaluate. IAM lets Statement,
// Action, Resource and principal values be either a string or a list; Policy always holds lists.
type Policy struct {
	Statements []Statement
}

// Statement is one policy statement.
type Statement struct {
	Sid        string
	Effect     string
	Principals map[string][]string // "AWS", "Service", "Federated"; "*" when Principal is "*"
	Actions    []string
	NotActions []string
	Resources  []string
	// Conditions maps operator → key → values, e.g. StringEquals → "oidc…:sub" → [...].
	Conditions map[string]map[string][]string
}

// ParsePolicy decodes a policy document, URL-decoding it first when IAM returned it encoded.
func ParsePolicy(doc string) (*Policy, error) {
	if doc == "" {
		return nil, fmt.Errorf("empty policy document")
	}
	if strings.HasPrefix(doc, "%7B") || strings.HasPrefix(doc, "%7b") {
		if d, err := url.QueryUnescape(doc); err == nil {
			doc = d
		}
	}
	var raw struct {
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(doc), &raw); err != nil {
		return nil, fmt.Errorf("parse policy document: %w", err)
	}
	var stmts []map[string]json.RawMessage
	if len(raw.Statement) > 0 && raw.Statement[0] == '{' {
		var one map[string]json.RawMessage
		if err := json.Unmarshal(raw.Statement, &one); err != nil {
			return nil, fmt.Errorf("parse policy statement: %w", err)
		}
		stmts = []map[string]json.RawMessage{one}
	} else if len(raw.Statement) > 0 {
		if err := json.Unmarshal(raw.Statement, &stmts); err != nil {
			return nil, fmt.Errorf("parse policy statements: %w", err)
		}
	}
	p := &Policy{}
	for _, m := range stmts {
		var s Statement
		_ = json.Unmarshal(m["Sid"], &s.Sid)
		_ = json.Unmarshal(m["Effect"], &s.Effect)
		s.Actions = stringOrList(m["Action"])
		s.NotActions = stringOrList(m["NotAction"])
		s.Resources = stringOrList(m["Resource"])
		if pr, ok := m["Principal"]; ok {
			s.Principals = map[string][]string{}
			var star string
			if json.Unmarshal(pr, &star) == nil {
				s.Principals["*"] = []string{star}
			} else {
				var pm map[string]json.RawMessage
				if err := json.Unmarshal(pr, &pm); err != nil {
					return nil, fmt.Errorf("parse policy principal: %w", err)
				}
				for k, v := range pm {
					vals := stringOrList(v)
					if vals == nil {
						return nil, fmt.Errorf("parse policy principal %s: want a string or a list, got %s", k, v)
					}
					s.Principals[k] = vals
				}
			}
		}
		if c, ok := m["Condition"]; ok {
			var cm map[string]map[string]json.RawMessage
			if err := json.Unmarshal(c, &cm); err != nil {
				return nil, fmt.Errorf("parse policy condition: %w", err)
			}
			s.Conditions = map[string]map[string][]string{}
			for op, kv := range cm {
				s.Conditions[op] = map[string][]string{}
				for k, v := range kv {
					s.Conditions[op][k] = stringOrList(v)
				}
			}
		}
		p.Statements = append(p.Statements, s)
	}
	return p, nil
}

func stringOrList(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var one any
	if err := json.Unmarshal(raw, &one); err != nil {
		return nil
	}
	switch v := one.(type) {
	case string:
		return []string{v}
	case bool, float64:
		return []string{fmt.Sprint(v)}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			out = append(out, fmt.Sprint(e))
		}
		return out
	}
	return nil
}

// ConditionValues returns the values a statement's conditions give key under any operator whose
// name starts with opPrefix ("StringEquals" also matches "StringEqualsIgnoreCase"), keyed
// case-insensitively as IAM does for condition keys.
func (s Statement) ConditionValues(opPrefix, key string) []string {
	var out []string
	for op, kv := range s.Conditions {
		base := strings.TrimPrefix(strings.TrimPrefix(op, "ForAnyValue:"), "ForAllValues:")
		if !strings.HasPrefix(base, opPrefix) {
			continue
		}
		for k, v := range kv {
			if strings.EqualFold(k, key) {
				out = append(out, v...)
			}
		}
	}
	return out
}

// HasConditionKey reports whether any condition of the statement tests key.
func (s Statement) HasConditionKey(key string) bool {
	for _, kv := range s.Conditions {
		for k := range kv {
			if strings.EqualFold(k, key) {
				return true
			}
		}
	}
	return false
}
