package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FaultProxy is an AWS-API-aware reverse proxy in front of moto that injects API-level faults:
// the error responses AWS really sends (shaped per protocol), hangs, delays and rewritten
// responses. Point the SDK at URL instead of moto; every call is recorded for assertions.
// It exists for tests only.
type FaultProxy struct {
	URL      string
	upstream string
	srv      *httptest.Server
	client   *http.Client

	mu    sync.Mutex
	rules []*Rule
	calls []CallRecord
	stop  chan struct{}
	once  sync.Once
}

// Protocol is the wire protocol of an AWS service, which decides the shape of its errors.
type Protocol string

const (
	// JSONRPC is awsJson1.0/1.1 (KMS, SSM, CloudWatch Logs): X-Amz-Target names the operation.
	JSONRPC Protocol = "json"
	// RESTJSON is restJson1 (EKS, Security Hub, GuardDuty): the method and path name the operation.
	RESTJSON Protocol = "rest-json"
	// Query is awsQuery (STS, IAM): an Action form field names the operation; errors are XML.
	Query Protocol = "query"
	// EC2Query is EC2's variant of the query protocol, with its own XML error envelope.
	EC2Query Protocol = "ec2"
)

// Call is one AWS API request as the proxy understood it.
type Call struct {
	Service   string // SigV4 signing name: eks, kms, ec2, sts, securityhub …
	Region    string
	Operation string // DescribeCluster, DescribeKey, BatchImportFindings …
	// Resource is the EKS cluster name in the path, or the KeyId of a KMS call, when present.
	Resource string
	Protocol Protocol
	// Attempt is the SDK's attempt number of this call (1 for the first try), from the
	// amz-sdk-request header; 0 when absent.
	Attempt int
	Method  string
	Path    string
	Body    []byte
	Header  http.Header
	// Conn is the client's address: calls with the same Conn shared a keep-alive connection.
	Conn string
	// Ctx ends when the caller gives up on the request.
	Ctx context.Context `json:"-"`
}

// CallRecord is a call and what the proxy did with it.
type CallRecord struct {
	Call
	Fault  string // the name of the rule that acted, "" when passed through untouched
	Status int
	At     time.Time
}

// Action answers a call. forward sends the (possibly changed) request body to moto and returns its
// response status, headers and body.
type Action func(w http.ResponseWriter, c *Call, forward Forward) int

// Forward sends a request body to moto and returns the response.
type Forward func(body []byte) (status int, header http.Header, respBody []byte, err error)

// Rule injects a fault into matching calls.
type Rule struct {
	Name  string
	Match func(c *Call) bool
	// Skip lets the first Skip matching calls through; Times limits how many calls after that the
	// rule acts on (0 = every one). Together they model transient storms.
	Skip, Times int
	Action      Action

	matched, fired int
}

// StartFaultProxy starts a proxy in front of upstream (moto's URL) for the test.
func StartFaultProxy(t TB, upstream string) *FaultProxy {
	t.Helper()
	p := &FaultProxy{upstream: strings.TrimRight(upstream, "/"), stop: make(chan struct{}),
		client: &http.Client{Transport: &http.Transport{}}}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	p.URL = p.srv.URL
	t.Cleanup(p.Close)
	return p
}

// Close stops the proxy, releasing any hung calls, and closes every connection, so a goroutine
// leak check after it sees only Sek's own goroutines.
func (p *FaultProxy) Close() {
	p.once.Do(func() {
		close(p.stop)
		p.srv.CloseClientConnections()
		p.srv.Close()
		p.client.CloseIdleConnections()
	})
}

// Add installs rules; the first matching rule that still has calls to act on wins.
func (p *FaultProxy) Add(rules ...*Rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = append(p.rules, rules...)
}

// Clear removes every rule and forgets recorded calls.
func (p *FaultProxy) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules, p.calls = nil, nil
}

// Calls returns the recorded calls.
func (p *FaultProxy) Calls() []CallRecord {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]CallRecord(nil), p.calls...)
}

// Fired returns how many calls the named rule acted on, so a test can prove its fault happened.
func (p *FaultProxy) Fired(name string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, r := range p.rules {
		if r.Name == name {
			n += r.fired
		}
	}
	return n
}

func (p *FaultProxy) pick(c *Call) *Rule {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range p.rules {
		if r.Match != nil && !r.Match(c) {
			continue
		}
		r.matched++
		if r.matched <= r.Skip {
			continue
		}
		if r.Times > 0 && r.fired >= r.Times {
			continue
		}
		r.fired++
		return r
	}
	return nil
}

func (p *FaultProxy) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read request: "+err.Error(), http.StatusBadRequest)
		return
	}
	c := Classify(r, body)
	c.Ctx = r.Context()
	c.Conn = r.RemoteAddr
	forward := func(b []byte) (int, http.Header, []byte, error) {
		req, err := http.NewRequestWithContext(r.Context(), r.Method, p.upstream+r.URL.RequestURI(), bytes.NewReader(b))
		if err != nil {
			return 0, nil, nil, err
		}
		req.Header = r.Header.Clone()
		req.Header.Del("Content-Length")
		req.ContentLength = int64(len(b))
		resp, err := p.client.Do(req)
		if err != nil {
			return 0, nil, nil, err
		}
		defer resp.Body.Close()
		rb, err := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, rb, err
	}
	rec := CallRecord{Call: *c, At: time.Now()}
	// Recorded on the way out, so a call whose action aborts the connection is recorded too.
	defer func() {
		p.mu.Lock()
		p.calls = append(p.calls, rec)
		p.mu.Unlock()
	}()
	if rule := p.pick(c); rule != nil {
		rec.Fault = rule.Name
		rec.Status = rule.Action(w, c, forward)
	} else {
		rec.Status = PassThrough(w, c, forward)
	}
}

// Classify works out service, region, operation and resource of a request.
func Classify(r *http.Request, body []byte) *Call {
	c := &Call{Method: r.Method, Path: r.URL.Path, Body: body, Header: r.Header.Clone()}
	c.Service, c.Region = signingScope(r.Header.Get("Authorization"))
	for _, part := range strings.Split(r.Header.Get("Amz-Sdk-Request"), ";") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "attempt="); ok {
			c.Attempt, _ = strconv.Atoi(v)
		}
	}
	switch target := r.Header.Get("X-Amz-Target"); {
	case target != "":
		c.Protocol = JSONRPC
		if i := strings.LastIndex(target, "."); i >= 0 {
			c.Operation = target[i+1:]
		} else {
			c.Operation = target
		}
		var in struct{ KeyId string }
		if json.Unmarshal(body, &in) == nil {
			c.Resource = in.KeyId
		}
	case strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
		c.Protocol = Query
		if c.Service == "ec2" {
			c.Protocol = EC2Query
		}
		if v, err := url.ParseQuery(string(body)); err == nil {
			c.Operation = v.Get("Action")
		}
	default:
		c.Protocol = RESTJSON
		c.Operation, c.Resource = restOperation(c.Service, r.Method, r.URL.Path)
	}
	return c
}

// signingScope reads service and region from a SigV4 Authorization header:
// "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/eks/aws4_request, ...".
func signingScope(auth string) (service, region string) {
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return "", ""
	}
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(cred, "/")
	if len(parts) < 5 {
		return "", ""
	}
	return parts[3], parts[2]
}

// restOperation names restJson1 operations of the services Sek calls from method and path.
func restOperation(service, method, path string) (op, resource string) {
	seg := strings.Split(strings.Trim(path, "/"), "/")
	for i, s := range seg {
		if u, err := url.PathUnescape(s); err == nil {
			seg[i] = u
		}
	}
	switch service {
	case "eks":
		if len(seg) >= 1 && seg[0] == "cluster-versions" {
			return "DescribeClusterVersions", ""
		}
		if len(seg) >= 1 && seg[0] == "clusters" {
			if len(seg) == 1 {
				if method == http.MethodPost {
					return "CreateCluster", ""
				}
				return "ListClusters", ""
			}
			name := seg[1]
			if len(seg) == 2 {
				switch method {
				case http.MethodDelete:
					return "DeleteCluster", name
				default:
					return "DescribeCluster", name
				}
			}
			sub := map[string][2]string{
				"node-groups":               {"ListNodegroups", "DescribeNodegroup"},
				"addons":                    {"ListAddons", "DescribeAddon"},
				"fargate-profiles":          {"ListFargateProfiles", "DescribeFargateProfile"},
				"access-entries":            {"ListAccessEntries", "DescribeAccessEntry"},
				"pod-identity-associations": {"ListPodIdentityAssociations", "DescribePodIdentityAssociation"},
				"identity-provider-configs": {"ListIdentityProviderConfigs", "DescribeIdentityProviderConfig"},
			}[seg[2]]
			if sub[0] != "" {
				if len(seg) == 3 {
					return sub[0], name
				}
				return sub[1], name
			}
		}
	case "securityhub":
		switch {
		case path == "/findings/import":
			return "BatchImportFindings", ""
		case path == "/findings" && method == http.MethodPost:
			return "GetFindings", ""
		case path == "/findings/batchupdate":
			return "BatchUpdateFindings", ""
		case path == "/accounts" && method == http.MethodGet:
			return "DescribeHub", ""
		case path == "/accounts" && method == http.MethodPost:
			return "EnableSecurityHub", ""
		}
	}
	return method + " " + path, ""
}

// PassThrough forwards the call unchanged.
func PassThrough(w http.ResponseWriter, c *Call, forward Forward) int {
	status, h, b, err := forward(c.Body)
	if err != nil {
		http.Error(w, "fault proxy: upstream: "+err.Error(), http.StatusBadGateway)
		return http.StatusBadGateway
	}
	return write(w, status, h, b)
}

func write(w http.ResponseWriter, status int, h http.Header, body []byte) int {
	for k, vs := range h {
		if strings.EqualFold(k, "Content-Length") {
			continue
		}
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return status
}

// Fail answers with an AWS error of the given HTTP status, code and message, shaped the way the
// call's protocol shapes errors, so the SDK parses it exactly as it parses a real one.
func Fail(status int, code, message string) Action {
	return func(w http.ResponseWriter, c *Call, _ Forward) int {
		return WriteError(w, c, status, code, message)
	}
}

// WriteError writes one protocol-shaped AWS error response.
func WriteError(w http.ResponseWriter, c *Call, status int, code, message string) int {
	h := w.Header()
	h.Set("X-Amzn-Requestid", "fault-injected-0000")
	var body []byte
	switch c.Protocol {
	case JSONRPC:
		h.Set("Content-Type", "application/x-amz-json-1.1")
		body, _ = json.Marshal(map[string]string{"__type": code, "message": message})
	case RESTJSON:
		h.Set("Content-Type", "application/json")
		h.Set("X-Amzn-Errortype", code)
		body, _ = json.Marshal(map[string]string{"message": message})
	case EC2Query:
		h.Set("Content-Type", "text/xml;charset=UTF-8")
		body = fmt.Appendf(nil, `<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>fault-injected-0000</RequestID></Response>`, xmlEscape(code), xmlEscape(message))
	default:
		h.Set("Content-Type", "text/xml")
		kind := "Sender"
		if status >= 500 {
			kind = "Receiver"
		}
		body = fmt.Appendf(nil, `<ErrorResponse><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>fault-injected-0000</RequestId></ErrorResponse>`, kind, xmlEscape(code), xmlEscape(message))
	}
	return write(w, status, nil, body)
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// Throttle answers with the throttling error each service really returns.
func Throttle() Action {
	return func(w http.ResponseWriter, c *Call, _ Forward) int {
		switch {
		case c.Service == "securityhub":
			return WriteError(w, c, http.StatusTooManyRequests, "TooManyRequestsException", "Rate exceeded")
		case c.Protocol == EC2Query:
			return WriteError(w, c, http.StatusServiceUnavailable, "RequestLimitExceeded", "Request limit exceeded.")
		case c.Protocol == Query:
			return WriteError(w, c, http.StatusBadRequest, "Throttling", "Rate exceeded")
		case c.Protocol == RESTJSON:
			return WriteError(w, c, http.StatusTooManyRequests, "ThrottlingException", "Rate exceeded")
		default:
			return WriteError(w, c, http.StatusBadRequest, "ThrottlingException", "Rate exceeded")
		}
	}
}

// ServerError answers with the service's internal error (HTTP 500) or unavailability (503).
func ServerError(status int) Action {
	return func(w http.ResponseWriter, c *Call, _ Forward) int {
		if status == http.StatusServiceUnavailable {
			code := "ServiceUnavailableException"
			if c.Protocol == EC2Query {
				code = "Unavailable"
			} else if c.Protocol == Query {
				code = "ServiceUnavailable"
			}
			return WriteError(w, c, status, code, "Service is unavailable. Please try again later.")
		}
		code := map[string]string{"eks": "ServerException", "securityhub": "InternalException", "kms": "KMSInternalException", "ec2": "InternalError"}[c.Service]
		if code == "" {
			code = "InternalFailure"
		}
		return WriteError(w, c, http.StatusInternalServerError, code, "We encountered an internal error. Please try again.")
	}
}

// AccessDenied answers the way a missing IAM permission is answered.
func AccessDenied() Action {
	return func(w http.ResponseWriter, c *Call, _ Forward) int {
		msg := fmt.Sprintf("User: arn:aws:sts::123456789012:assumed-role/sek-audit/sek is not authorized to perform: %s:%s because no identity-based policy allows the %s:%s action", c.Service, c.Operation, c.Service, c.Operation)
		switch c.Protocol {
		case EC2Query:
			return WriteError(w, c, http.StatusForbidden, "UnauthorizedOperation", "You are not authorized to perform this operation. "+msg)
		case Query:
			return WriteError(w, c, http.StatusForbidden, "AccessDenied", msg)
		case JSONRPC:
			return WriteError(w, c, http.StatusBadRequest, "AccessDeniedException", msg)
		default:
			return WriteError(w, c, http.StatusForbidden, "AccessDeniedException", msg)
		}
	}
}

// RegionNotOptedIn answers the way a region the account has not opted in to answers: the
// credentials are unknown there.
func RegionNotOptedIn() Action {
	return func(w http.ResponseWriter, c *Call, _ Forward) int {
		if c.Protocol == EC2Query || c.Protocol == Query {
			return WriteError(w, c, http.StatusUnauthorized, "AuthFailure", "AWS was not able to validate the provided access credentials")
		}
		return WriteError(w, c, http.StatusForbidden, "UnrecognizedClientException", "The security token included in the request is invalid.")
	}
}

// HubNotEnabled answers every Security Hub call the way a region without Security Hub does.
func HubNotEnabled(account string) Action {
	return Fail(http.StatusUnauthorized, "InvalidAccessException", fmt.Sprintf("Account %s is not subscribed to AWS Security Hub", account))
}

// Hang never answers; the caller's deadline (or the proxy closing) ends the call.
func (p *FaultProxy) Hang() Action {
	return func(w http.ResponseWriter, c *Call, _ Forward) int {
		select {
		case <-c.Ctx.Done():
		case <-p.stop:
		case <-time.After(5 * time.Minute):
		}
		return 0
	}
}

// Delay forwards the call after d, modelling a slow API.
func Delay(d time.Duration) Action {
	return func(w http.ResponseWriter, c *Call, forward Forward) int {
		select {
		case <-time.After(d):
		case <-c.Ctx.Done():
			return 0
		}
		return PassThrough(w, c, forward)
	}
}

// RewriteJSON forwards the call and lets edit change moto's JSON response before Sek sees it:
// oversized, odd or null fields that the real API may return.
func RewriteJSON(edit func(doc map[string]any)) Action {
	return func(w http.ResponseWriter, c *Call, forward Forward) int {
		status, h, b, err := forward(c.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return http.StatusBadGateway
		}
		var doc map[string]any
		if status/100 == 2 && json.Unmarshal(b, &doc) == nil {
			edit(doc)
			b, _ = json.Marshal(doc)
		}
		return write(w, status, h, b)
	}
}

// RewriteBody forwards the call and replaces moto's response body with edit's result, for bytes
// JSON cannot express (invalid UTF-8).
func RewriteBody(edit func(body []byte) []byte) Action {
	return func(w http.ResponseWriter, c *Call, forward Forward) int {
		status, h, b, err := forward(c.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return http.StatusBadGateway
		}
		if status/100 == 2 {
			b = edit(b)
		}
		return write(w, status, h, b)
	}
}

// PartialImport makes BatchImportFindings reject some findings the way Security Hub does: the
// call succeeds, the rejected findings are not stored and come back in FailedFindings with an
// error code. reject returns the code and message for a finding Id, or "" to accept it.
func PartialImport(reject func(id string) (code, message string)) Action {
	return func(w http.ResponseWriter, c *Call, forward Forward) int {
		var in struct {
			Findings []json.RawMessage `json:"Findings"`
		}
		if err := json.Unmarshal(c.Body, &in); err != nil {
			return WriteError(w, c, http.StatusBadRequest, "InvalidInputException", "fault proxy: cannot parse import: "+err.Error())
		}
		type failed struct {
			ID           string `json:"Id"`
			ErrorCode    string `json:"ErrorCode"`
			ErrorMessage string `json:"ErrorMessage"`
		}
		var keep []json.RawMessage
		var fails []failed
		for _, raw := range in.Findings {
			var f struct{ Id string }
			_ = json.Unmarshal(raw, &f)
			if code, msg := reject(f.Id); code != "" {
				fails = append(fails, failed{f.Id, code, msg})
				continue
			}
			keep = append(keep, raw)
		}
		out := map[string]any{"FailedCount": len(fails), "SuccessCount": len(keep), "FailedFindings": fails}
		if len(keep) > 0 {
			body, _ := json.Marshal(map[string]any{"Findings": keep})
			status, _, b, err := forward(body)
			if err != nil || status/100 != 2 {
				return WriteError(w, c, http.StatusInternalServerError, "InternalException", fmt.Sprintf("fault proxy: upstream status %d: %v %s", status, err, b))
			}
			var up struct {
				FailedCount    int
				SuccessCount   int
				FailedFindings []failed
			}
			_ = json.Unmarshal(b, &up)
			out["FailedCount"] = len(fails) + up.FailedCount
			out["SuccessCount"] = up.SuccessCount
			out["FailedFindings"] = append(fails, up.FailedFindings...)
		}
		b, _ := json.Marshal(out)
		h := http.Header{}
		h.Set("Content-Type", "application/json")
		return write(w, http.StatusOK, h, b)
	}
}

// Matchers for rules.

// Op matches calls to one service operation ("eks", "DescribeCluster").
func Op(service, operation string) func(*Call) bool {
	return func(c *Call) bool { return c.Service == service && c.Operation == operation }
}

// Service matches every call to a service.
func Service(service string) func(*Call) bool {
	return func(c *Call) bool { return c.Service == service }
}

// InRegion narrows a matcher to one region.
func InRegion(region string, m func(*Call) bool) func(*Call) bool {
	return func(c *Call) bool { return c.Region == region && (m == nil || m(c)) }
}

// OnResource narrows a matcher to one resource (a cluster name or KMS key id/ARN).
func OnResource(resource string, m func(*Call) bool) func(*Call) bool {
	return func(c *Call) bool { return c.Resource == resource && (m == nil || m(c)) }
}

// FirstAttempt narrows a matcher to each call's first try, so the SDK's retry succeeds: a storm
// that every call meets once.
func FirstAttempt(m func(*Call) bool) func(*Call) bool {
	return func(c *Call) bool { return c.Attempt <= 1 && (m == nil || m(c)) }
}

// Any matches every call.
func Any() func(*Call) bool { return func(*Call) bool { return true } }

// CutMidResponse sends the status, headers and half of moto's body, then drops the connection:
// what a proxy or NAT dying in the middle of a response looks like to the client.
func CutMidResponse() Action {
	return func(w http.ResponseWriter, c *Call, forward Forward) int {
		status, h, b, err := forward(c.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return http.StatusBadGateway
		}
		for k, vs := range h {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		w.WriteHeader(status)
		_, _ = w.Write(b[:len(b)/2])
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		// ErrAbortHandler makes net/http close the connection without logging a stack trace.
		panic(http.ErrAbortHandler)
	}
}
