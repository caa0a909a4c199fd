package docsamples

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
)

// Call identifies an AWS request as the proxy sees it.
type Call struct {
	Service, Region string
	// Operation is the X-Amz-Target operation (JSON protocols) or the Action (query protocols);
	// for REST protocols it is empty and Method and Path identify the call.
	Operation    string
	Method, Path string
	Body         []byte
}

// Reply is an AWS-shaped error response.
type Reply struct {
	Status  int
	Code    string
	Message string
}

// FaultRule decides whether the proxy answers a call itself (a non-nil Reply) or passes it on.
type FaultRule func(c Call) *Reply

var credentialScope = regexp.MustCompile(`Credential=[^/]+/[0-9]{8}/([^/]+)/([^/]+)/aws4_request`)

// startFaultProxy serves target (moto) except for the calls rule answers, with the error shapes
// of the service's protocol, so the SDK parses them as it would AWS's.
func startFaultProxy(target string, rule FaultRule) (*httptest.Server, error) {
	u, err := url.Parse(target)
	if err != nil || target == "" {
		return nil, fmt.Errorf("fault proxy: AWS_ENDPOINT_URL %q is not a URL", target)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		c := Call{Method: r.Method, Path: r.URL.Path, Body: body}
		if m := credentialScope.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
			c.Region, c.Service = m[1], m[2]
		}
		if t := r.Header.Get("X-Amz-Target"); t != "" {
			_, c.Operation, _ = strings.Cut(t, ".")
		} else if r.Method == http.MethodPost {
			if v, err := url.ParseQuery(string(body)); err == nil {
				c.Operation = v.Get("Action")
			}
		}
		reply := rule(c)
		if reply == nil {
			rp.ServeHTTP(w, r)
			return
		}
		w.Header().Set("X-Amzn-Requestid", "11111111-2222-3333-4444-555555555555")
		switch {
		case r.Header.Get("X-Amz-Target") == "" && r.Method == http.MethodPost && c.Operation != "":
			// Query protocols (EC2, STS, IAM) answer in XML.
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(reply.Status)
			fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>11111111-2222-3333-4444-555555555555</RequestID></Response>`, reply.Code, reply.Message)
		default:
			// JSON 1.1 and REST-JSON protocols (EKS, KMS, Security Hub).
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.Header().Set("X-Amzn-Errortype", reply.Code)
			w.WriteHeader(reply.Status)
			_ = json.NewEncoder(w).Encode(map[string]string{"__type": reply.Code, "message": reply.Message})
		}
	})), nil
}

// AccessDenied is the message IAM gives a role whose policy lacks an action.
func AccessDenied(action, resource string) *Reply {
	return &Reply{Status: 403, Code: "AccessDeniedException", Message: fmt.Sprintf(
		"User: arn:aws:sts::123456789012:assumed-role/sek-audit/ci is not authorized to perform: %s on resource: %s because no identity-based policy allows the %s action",
		action, resource, action)}
}
