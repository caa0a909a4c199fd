package fakeaws

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Handler serves one API. For JSON protocols it returns a value encoding/json can marshal; for
// the query protocols an X tree (see writeXML). An *APIError becomes the service's error shape.
type Handler func(c *Call) (any, error)

// X is an XML element's children, for the query protocols. Lists ([]X, []string, []any) are
// wrapped in <member> (query) or <item> (EC2) elements as each protocol does.
type X map[string]any

// APIError is an error response in the service's own shape.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

func throttleError(service string) *APIError {
	switch service {
	case "ec2":
		return &APIError{Status: 503, Code: "RequestLimitExceeded", Message: "Request limit exceeded."}
	case "iam", "sts", "elasticloadbalancing":
		return &APIError{Status: 400, Code: "Throttling", Message: "Rate exceeded"}
	case "kms", "logs", "ecr", "ssm":
		return &APIError{Status: 400, Code: "ThrottlingException", Message: "Rate exceeded"}
	case "securityhub", "guardduty", "lambda":
		return &APIError{Status: 429, Code: "TooManyRequestsException", Message: "Rate exceeded"}
	default: // eks, inspector2
		return &APIError{Status: 429, Code: "ThrottlingException", Message: "Rate exceeded"}
	}
}

// Call is one parsed request.
type Call struct {
	Region, Service, Op, Account string
	Method                       string
	Header                       http.Header
	labels                       map[string]string
	query                        url.Values // REST query string, or the query protocols' form
	json                         map[string]any
	jsonDone                     bool
	body                         []byte
	srv                          *Server
}

// Str returns a string parameter from the path labels, the query or form, or the JSON body.
func (c *Call) Str(name string) string {
	if v, ok := c.labels[name]; ok {
		return v
	}
	if v := c.query.Get(name); v != "" {
		return v
	}
	if s, ok := c.object()[name].(string); ok {
		return s
	}
	return ""
}

// Int returns an integer parameter, or def when absent.
func (c *Call) Int(name string, def int) int {
	if v := c.Str(name); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	if f, ok := c.object()[name].(float64); ok {
		return int(f)
	}
	return def
}

// Bool reports a boolean parameter.
func (c *Call) Bool(name string) bool {
	if b, ok := c.object()[name].(bool); ok {
		return b
	}
	return c.Str(name) == "true"
}

// List returns a list parameter: a JSON array, or the query protocols' Name.member.N / Name.N.
func (c *Call) List(name string) []string {
	if arr, ok := c.object()[name].([]any); ok {
		out := make([]string, 0, len(arr))
		for _, v := range arr {
			if s, ok := v.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	var out []string
	for _, prefix := range []string{name + ".member.", name + "."} {
		for i := 1; ; i++ {
			v, ok := c.query[prefix+strconv.Itoa(i)]
			if !ok {
				break
			}
			out = append(out, v...)
		}
		if len(out) > 0 {
			return out
		}
	}
	return c.query[name]
}

// JSON returns a raw JSON body member.
func (c *Call) JSON(name string) any { return c.object()[name] }

// object decodes the JSON body on first use; Security Hub imports, the largest bodies, are
// decoded by their handler into a narrower shape instead.
func (c *Call) object() map[string]any {
	if !c.jsonDone {
		c.jsonDone = true
		var m map[string]any
		if len(bytes.TrimSpace(c.body)) > 0 && json.Unmarshal(c.body, &m) == nil {
			c.json = m
		}
	}
	return c.json
}

// EC2Filters returns Filter.N.Name → values.
func (c *Call) EC2Filters() map[string][]string {
	out := map[string][]string{}
	for i := 1; ; i++ {
		name := c.query.Get(fmt.Sprintf("Filter.%d.Name", i))
		if name == "" {
			return out
		}
		for j := 1; ; j++ {
			v, ok := c.query[fmt.Sprintf("Filter.%d.Value.%d", i, j)]
			if !ok {
				break
			}
			out[name] = append(out[name], v...)
		}
	}
}

var tokenParams = map[string]bool{"nextToken": true, "NextToken": true, "Marker": true, "marker": true}

// canonical is the request's identity for duplicate detection: method, path, sorted query or form
// and the body with its keys sorted.
func (c *Call) canonical() string { return c.canon(false) }

// canonicalWithoutToken groups the pages of one listing.
func (c *Call) canonicalWithoutToken() string { return c.canon(true) }

func (c *Call) canon(dropToken bool) string {
	var b strings.Builder
	b.WriteString(c.Method)
	keys := make([]string, 0, len(c.labels))
	for k := range c.labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString(" " + k + "=" + c.labels[k])
	}
	q := url.Values{}
	for k, v := range c.query {
		if dropToken && tokenParams[k] {
			continue
		}
		q[k] = v
	}
	b.WriteString(" ?" + q.Encode())
	if len(c.body) > 4096 {
		// Large bodies (finding imports) are identified by their digest; they carry no token.
		sum := sha256.Sum256(c.body)
		b.WriteString(" sha256:" + hex.EncodeToString(sum[:]))
		return b.String()
	}
	if c.object() != nil {
		m := c.json
		if dropToken {
			m = map[string]any{}
			for k, v := range c.json {
				if !tokenParams[k] {
					m[k] = v
				}
			}
		}
		js, _ := json.Marshal(m) // map keys are sorted by encoding/json
		b.WriteString(" ")
		b.Write(js)
	}
	return b.String()
}

type operation struct {
	name string
	fn   Handler
}

type restRoute struct {
	method string
	segs   []string // "{label}" for a label
	op     *operation
}

type service struct {
	name  string
	proto protocol
	ops   map[string]*operation
	rest  []restRoute
	// xmlns is the query protocols' response namespace.
	xmlns string
}

type protocol interface {
	route(svc *service, r *http.Request, c *Call) (*operation, error)
	writeOK(w http.ResponseWriter, id string, svc *service, op string, out any)
	writeError(w http.ResponseWriter, id, op string, e *APIError)
}

// restJSON is EKS, GuardDuty, Inspector2, Security Hub, Lambda: the operation is the method and
// path, parameters are path labels, query and a JSON body.
type restJSON struct{}

func (restJSON) route(svc *service, r *http.Request, c *Call) (*operation, error) {
	segs := splitPath(r.URL.EscapedPath())
	for _, rt := range svc.rest {
		if rt.method != r.Method || len(rt.segs) != len(segs) {
			continue
		}
		labels := map[string]string{}
		ok := true
		for i, s := range rt.segs {
			if strings.HasPrefix(s, "{") {
				v, err := url.PathUnescape(segs[i])
				if err != nil {
					ok = false
					break
				}
				labels[strings.Trim(s, "{}")] = v
			} else if s != segs[i] {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		c.labels = labels
		c.query = r.URL.Query()
		if err := c.checkJSON(); err != nil {
			return nil, err
		}
		return rt.op, nil
	}
	return nil, fmt.Errorf("no %s operation for %s %s", svc.name, r.Method, r.URL.Path)
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

func (c *Call) checkJSON() error {
	if len(bytes.TrimSpace(c.body)) == 0 {
		return nil
	}
	if !json.Valid(c.body) {
		return fmt.Errorf("request body is not JSON")
	}
	return nil
}

func (restJSON) writeOK(w http.ResponseWriter, id string, _ *service, _ string, out any) {
	writeJSON(w, id, "application/json", http.StatusOK, out)
}

func (restJSON) writeError(w http.ResponseWriter, id, _ string, e *APIError) {
	w.Header().Set("X-Amzn-Errortype", e.Code)
	writeJSON(w, id, "application/json", e.Status, map[string]string{"message": e.Message})
}

// awsJSON is KMS, CloudWatch Logs, ECR, SSM: POST / with X-Amz-Target "Prefix.Operation".
type awsJSON struct{}

func (awsJSON) route(svc *service, r *http.Request, c *Call) (*operation, error) {
	target := r.Header.Get("X-Amz-Target")
	_, name, _ := strings.Cut(target, ".")
	op := svc.ops[name]
	if op == nil {
		return nil, fmt.Errorf("no %s operation %q", svc.name, target)
	}
	if err := c.checkJSON(); err != nil {
		return nil, err
	}
	return op, nil
}

func (awsJSON) writeOK(w http.ResponseWriter, id string, _ *service, _ string, out any) {
	writeJSON(w, id, "application/x-amz-json-1.1", http.StatusOK, out)
}

func (awsJSON) writeError(w http.ResponseWriter, id, _ string, e *APIError) {
	writeJSON(w, id, "application/x-amz-json-1.1", e.Status, map[string]string{"__type": e.Code, "message": e.Message})
}

func writeJSON(w http.ResponseWriter, id, contentType string, status int, out any) {
	if out == nil {
		out = struct{}{}
	}
	b, err := json.Marshal(out)
	if err != nil {
		status, b = 500, []byte(`{"message":"fakeaws: cannot encode response"}`)
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Amzn-Requestid", id)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// awsQuery is IAM and STS; ec2 (ec2Query) differs only in the response envelope and list items.
type awsQuery struct{ ec2 bool }

func (q awsQuery) route(svc *service, r *http.Request, c *Call) (*operation, error) {
	form, err := url.ParseQuery(string(c.body))
	if err != nil {
		return nil, fmt.Errorf("form body: %w", err)
	}
	for k, v := range r.URL.Query() {
		form[k] = v
	}
	c.query = form
	name := form.Get("Action")
	op := svc.ops[name]
	if op == nil {
		return nil, fmt.Errorf("no %s operation %q", svc.name, name)
	}
	return op, nil
}

func (q awsQuery) writeOK(w http.ResponseWriter, id string, svc *service, op string, out any) {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	item := "member"
	if q.ec2 {
		item = "item"
	}
	fmt.Fprintf(&b, `<%sResponse xmlns="%s">`, op, svc.xmlns)
	if q.ec2 {
		fmt.Fprintf(&b, "<requestId>%s</requestId>", id)
		writeChildren(&b, out, item)
	} else {
		fmt.Fprintf(&b, "<%sResult>", op)
		writeChildren(&b, out, item)
		fmt.Fprintf(&b, "</%sResult><ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata>", op, id)
	}
	fmt.Fprintf(&b, "</%sResponse>", op)
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-Requestid", id)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b.Bytes())
}

func (q awsQuery) writeError(w http.ResponseWriter, id, _ string, e *APIError) {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	if q.ec2 {
		fmt.Fprintf(&b, "<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>",
			esc(e.Code), esc(e.Message), id)
	} else {
		kind := "Sender"
		if e.Status >= 500 {
			kind = "Receiver"
		}
		fmt.Fprintf(&b, "<ErrorResponse><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>",
			kind, esc(e.Code), esc(e.Message), id)
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-Requestid", id)
	w.WriteHeader(e.Status)
	_, _ = w.Write(b.Bytes())
}

func esc(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func writeChildren(b *bytes.Buffer, v any, item string) {
	m, ok := v.(X)
	if !ok {
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		writeXML(b, k, m[k], item)
	}
}

// writeXML writes <name>v</name>: X as child elements, slices as wrapped items, scalars as text.
func writeXML(b *bytes.Buffer, name string, v any, item string) {
	switch t := v.(type) {
	case nil:
		return
	case X:
		b.WriteString("<" + name + ">")
		writeChildren(b, t, item)
		b.WriteString("</" + name + ">")
	case []X:
		b.WriteString("<" + name + ">")
		for _, e := range t {
			writeXML(b, item, e, item)
		}
		b.WriteString("</" + name + ">")
	case []string:
		b.WriteString("<" + name + ">")
		for _, e := range t {
			writeXML(b, item, e, item)
		}
		b.WriteString("</" + name + ">")
	case []any:
		b.WriteString("<" + name + ">")
		for _, e := range t {
			writeXML(b, item, e, item)
		}
		b.WriteString("</" + name + ">")
	default:
		b.WriteString("<" + name + ">" + esc(scalar(t)) + "</" + name + ">")
	}
}

func scalar(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case bool:
		return strconv.FormatBool(t)
	case int:
		return strconv.Itoa(t)
	case int64:
		return strconv.FormatInt(t, 10)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case time.Time:
		return t.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	return fmt.Sprint(v)
}

// page returns the slice of items for a paginated listing and the next token ("" at the end).
// Tokens are decimal offsets, opaque to the client like the real ones.
func page[T any](items []T, token string, max int) ([]T, string, error) {
	start := 0
	if token != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(token, "tok-"))
		if err != nil || n < 0 || n > len(items) {
			return nil, "", &APIError{Status: 400, Code: "InvalidParameterException", Message: "invalid pagination token " + token}
		}
		start = n
	}
	end := min(start+max, len(items))
	next := ""
	if end < len(items) {
		next = "tok-" + strconv.Itoa(end)
	}
	return items[start:end], next, nil
}

// rawResponse is a response whose status and body the handler sets itself (Lambda's Invoke
// returns the function's payload, not a JSON document of the protocol).
type rawResponse struct {
	status int
	body   []byte
}
