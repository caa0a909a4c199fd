package asff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"

	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/sek-dev/sek/pkg/audit"
)

// Marshal renders a finding as ASFF JSON: the SDK's field names, with unset fields left out
// (encoding/json would write them as null, which the ASFF schema rejects). This is the same
// shape the SDK sends on the wire, so its length is what counts against the size limits.
func Marshal(f shtypes.AwsSecurityFinding) ([]byte, error) {
	raw, err := json.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("encode finding %s: %w", deref(f.Id), err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("re-read finding %s: %w", deref(f.Id), err)
	}
	v, _ = prune(v)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode finding %s: %w", deref(f.Id), err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// Size is the encoded size of a finding in bytes, or an upper bound of it. Publishing asks for
// it several times per finding (shrinking, validation, batching), and Marshal's prune pass costs
// three times the plain encoding, so the plain encoding (which still holds the unset fields that
// Marshal drops, hence is never smaller) is returned whenever it is within MaxFindingBytes; only
// a finding that may be over the limit is measured exactly. Callers compare sizes with limits,
// so an upper bound can only make a batch smaller, never reject a finding that fits.
func Size(f shtypes.AwsSecurityFinding) (int, error) {
	raw, err := json.Marshal(f)
	if err != nil {
		return 0, fmt.Errorf("encode finding %s: %w", deref(f.Id), err)
	}
	if len(raw) <= MaxFindingBytes {
		return len(raw), nil
	}
	b, err := Marshal(f)
	if err != nil {
		return 0, err
	}
	return len(b), nil
}

// prune drops nulls, empty strings (unset enums) and empty objects and arrays.
func prune(v any) (any, bool) {
	switch t := v.(type) {
	case nil:
		return nil, false
	case string:
		return t, t != ""
	case map[string]any:
		for k, e := range t {
			if pv, keep := prune(e); keep {
				t[k] = pv
			} else {
				delete(t, k)
			}
		}
		return t, len(t) > 0
	case []any:
		out := t[:0]
		for _, e := range t {
			if pv, keep := prune(e); keep {
				out = append(out, pv)
			}
		}
		return out, len(out) > 0
	}
	return v, true
}

// Render writes the findings for results as a JSON array, the input format of
// `aws securityhub batch-import-findings --findings file://...`. ERROR results are left out, as
// they are when publishing. Every finding is validated first; an invalid one fails the render
// rather than producing a file Security Hub would reject.
func Render(w io.Writer, results []audit.Result, checks []audit.Check, version string, now time.Time) error {
	m := NewMapper(version, checks)
	var out []json.RawMessage
	for _, r := range results {
		if !Publishable(r) {
			continue
		}
		f, err := m.Map(r, now)
		if err != nil {
			return err
		}
		if err := Validate(f); err != nil {
			return fmt.Errorf("finding for %s on %s: %w", r.CheckID, r.ResourceARN, err)
		}
		b, err := Marshal(f)
		if err != nil {
			return err
		}
		out = append(out, b)
	}
	if out == nil {
		out = []json.RawMessage{}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write ASFF output: %w", err)
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
