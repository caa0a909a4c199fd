// Package fakeaws is an in-process AWS endpoint for Sek's benchmarks and harness tests. It speaks
// the real wire protocols (REST-JSON, JSON-RPC, query/XML and EC2 query/XML), routes each request by
// the service and region in its SigV4 credential scope, adds a fixed latency to every call, throttles
// each (region, API) with a token bucket that answers with the service's real throttling error, and
// counts every request by (region, API, parameters) so duplicate calls can be found.
//
// It is test code: the data it serves is a synthetic estate (see Estate), not an emulation of
// every API behaviour. Adding an API is one handler registered in routes().
package fakeaws

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Quota is a token bucket: a steady rate in calls per second and a burst.
type Quota struct {
	Rate  float64
	Burst int
}

// DefaultQuota is applied to every (region, API) without its own quota.
var DefaultQuota = Quota{Rate: 10, Burst: 20}

// DefaultQuotas are the documented quotas of APIs that differ from DefaultQuota.
func DefaultQuotas() map[string]Quota {
	return map[string]Quota{
		"securityhub:BatchImportFindings": {Rate: 10, Burst: 30},
		"securityhub:BatchUpdateFindings": {Rate: 10, Burst: 30},
		"securityhub:GetFindings":         {Rate: 3, Burst: 6},
	}
}

// Options configure a fake endpoint.
type Options struct {
	// Latency is added to every call, throttled or not. DefaultOptions sets 100 ms.
	Latency time.Duration
	// Quota is the default token bucket per (region, API); Quotas override it per "service:Op".
	// A zero Quota.Rate disables throttling.
	Quota  Quota
	Quotas map[string]Quota
	Estate Estate
}

// DefaultOptions returns the benchmark defaults: 100 ms per call, 10 TPS burst 20, Security Hub's
// documented quotas.
func DefaultOptions(e Estate) Options {
	return Options{Latency: 100 * time.Millisecond, Quota: DefaultQuota, Quotas: DefaultQuotas(), Estate: e}
}

// Server is a running fake endpoint.
type Server struct {
	URL  string
	opts Options
	srv  *httptest.Server
	est  *estateData
	hub  *hubStore

	routes map[string]*service // by signing name
	// deps records, per API, the APIs whose answers a call needs before it can be made (the
	// cluster name comes from ListClusters, a key ARN from DescribeCluster); LowerBound reads it.
	// "*" means every collection API of the region: publishing needs the results.
	deps map[string][]string

	mu       sync.Mutex
	buckets  map[string]*rate.Limiter
	calls    map[string]*callRecord // by region|service:Op|canonical parameters
	apis     map[string]*apiRecord  // by bucket|service:Op
	unrouted map[string]int
	start    time.Time
	reqID    atomic.Int64
	inflight atomic.Int64
	peakIn   atomic.Int64
}

type callRecord struct {
	invocations map[string]bool
	attempts    int
}

type apiRecord struct {
	bucket, api string
	calls       int // logical calls (SDK invocations), retries excluded
	attempts    int
	throttled   int
	chains      map[string]int // paginated calls with the same parameters except the token
	first, last time.Duration
}

// Start launches a fake endpoint with opts.
func Start(opts Options) *Server {
	s := &Server{
		opts:     opts,
		est:      newEstate(opts.Estate),
		hub:      newHubStore(),
		buckets:  map[string]*rate.Limiter{},
		calls:    map[string]*callRecord{},
		apis:     map[string]*apiRecord{},
		unrouted: map[string]int{},
	}
	s.routes = s.buildRoutes()
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	// A real endpoint keeps connections alive; so does the fake, with room for every client.
	s.srv.Config.IdleTimeout = 90 * time.Second
	s.srv.Start()
	s.URL = s.srv.URL
	s.start = time.Now()
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Estate returns the estate being served.
func (s *Server) Estate() Estate { return s.est.Estate }

// Env returns the environment variables that point the AWS SDK (and the sek binary) at the fake.
func (s *Server) Env() []string {
	return []string{
		"AWS_ENDPOINT_URL=" + s.URL,
		"AWS_ACCESS_KEY_ID=AKIAFAKEAWSBENCH0001",
		"AWS_SECRET_ACCESS_KEY=fake-secret-key-for-the-benchmark",
		"AWS_SESSION_TOKEN=",
		"AWS_REGION=" + s.est.Regions[0],
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_PROFILE=",
	}
}

// Reset clears the counters (the estate and stored Security Hub findings stay), so one server can
// measure several runs.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buckets = map[string]*rate.Limiter{}
	s.calls = map[string]*callRecord{}
	s.apis = map[string]*apiRecord{}
	s.unrouted = map[string]int{}
	s.start = time.Now()
	s.peakIn.Store(0)
}

// ResetFindings forgets every finding imported into the fake Security Hub.
func (s *Server) ResetFindings() { s.hub.reset() }

// bucketRegion is the throttling scope of a call: IAM is a global service with one set of quotas
// per account, whatever region the client signs for.
func bucketRegion(service, region string) string {
	if service == "iam" {
		return "global"
	}
	return region
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	arrived := time.Now()
	n := s.inflight.Add(1)
	defer s.inflight.Add(-1)
	for {
		p := s.peakIn.Load()
		if n <= p || s.peakIn.CompareAndSwap(p, n) {
			break
		}
	}
	body, _ := io.ReadAll(r.Body)
	region, service := credentialScope(r.Header.Get("Authorization"))
	svc := s.routes[service]
	if svc == nil || region == "" {
		s.countUnrouted(fmt.Sprintf("%s %s (scope %q/%q)", r.Method, r.URL.Path, region, service))
		http.Error(w, "fakeaws: no such service "+service, http.StatusBadRequest)
		return
	}
	c := &Call{Region: region, Service: service, Method: r.Method, Header: r.Header, body: body, srv: s, Account: s.est.Account}
	op, err := svc.proto.route(svc, r, c)
	if err != nil {
		s.countUnrouted(fmt.Sprintf("%s %s %s: %v", service, r.Method, r.URL.Path, err))
		svc.proto.writeError(w, s.nextID(), c.Op, &APIError{Status: 400, Code: "UnknownOperationException", Message: err.Error()})
		return
	}
	c.Op = op.name
	api := service + ":" + op.name
	bucket := bucketRegion(service, region)
	allowed := s.admit(bucket, api, arrived)
	s.record(bucket, api, c, r.Header, allowed, arrived)

	var out any
	if allowed {
		out, err = op.fn(c)
	} else {
		err = throttleError(service)
	}
	if d := s.opts.Latency; d > 0 {
		if wait := d - time.Since(arrived); wait > 0 {
			time.Sleep(wait)
		}
	}
	id := s.nextID()
	if err != nil {
		ae, ok := err.(*APIError)
		if !ok {
			ae = &APIError{Status: 500, Code: "InternalFailure", Message: err.Error()}
		}
		svc.proto.writeError(w, id, op.name, ae)
		return
	}
	if raw, ok := out.(rawResponse); ok {
		w.Header().Set("X-Amzn-Requestid", id)
		w.WriteHeader(raw.status)
		_, _ = w.Write(raw.body)
		return
	}
	svc.proto.writeOK(w, id, svc, op.name, out)
}

func (s *Server) nextID() string {
	return fmt.Sprintf("fake-%012d", s.reqID.Add(1))
}

func (s *Server) admit(bucket, api string, at time.Time) bool {
	q := s.opts.Quota
	if o, ok := s.opts.Quotas[api]; ok {
		q = o
	}
	if q.Rate <= 0 {
		return true
	}
	key := bucket + "|" + api
	s.mu.Lock()
	l := s.buckets[key]
	if l == nil {
		l = rate.NewLimiter(rate.Limit(q.Rate), q.Burst)
		s.buckets[key] = l
	}
	s.mu.Unlock()
	return l.AllowN(at, 1)
}

func (s *Server) quota(api string) Quota {
	if o, ok := s.opts.Quotas[api]; ok {
		return o
	}
	return s.opts.Quota
}

func (s *Server) countUnrouted(what string) {
	s.mu.Lock()
	s.unrouted[what]++
	s.mu.Unlock()
}

// record counts the request. Retries of one SDK call share its invocation id, so they are
// attempts, not duplicate calls.
func (s *Server) record(bucket, api string, c *Call, h http.Header, allowed bool, at time.Time) {
	params := c.canonical()
	inv := h.Get("Amz-Sdk-Invocation-Id")
	if inv == "" {
		inv = fmt.Sprintf("no-invocation-id-%d", s.reqID.Load())
	}
	key := bucket + "|" + api + "|" + params
	s.mu.Lock()
	defer s.mu.Unlock()
	cr := s.calls[key]
	if cr == nil {
		cr = &callRecord{invocations: map[string]bool{}}
		s.calls[key] = cr
	}
	cr.attempts++
	newCall := !cr.invocations[inv]
	cr.invocations[inv] = true
	ar := s.apis[bucket+"|"+api]
	if ar == nil {
		ar = &apiRecord{bucket: bucket, api: api, chains: map[string]int{}, first: at.Sub(s.start)}
		s.apis[bucket+"|"+api] = ar
	}
	ar.attempts++
	if !allowed {
		ar.throttled++
	}
	if newCall {
		ar.calls++
		ar.chains[c.canonicalWithoutToken()]++
	}
	ar.last = at.Sub(s.start)
}

// Stats summarises the requests since Start or Reset.
type Stats struct {
	// Calls counts logical calls (SDK invocations); Attempts adds retries.
	Calls, Attempts, Throttled int
	// Duplicates counts logical calls that repeated an earlier call with identical parameters.
	Duplicates int
	// DuplicateCalls names each repeated call and how often it was made.
	DuplicateCalls map[string]int
	// Unrouted lists requests the fake could not map to an API (a missing handler).
	Unrouted map[string]int
	// APIs holds per-(bucket, API) counts.
	APIs []APIStats
	// PeakInFlight is the most requests the fake was serving at once.
	PeakInFlight int64
}

// APIStats are the counts for one API in one throttling scope.
type APIStats struct {
	Bucket, API                string
	Calls, Attempts, Throttled int
	// LongestChain is the most calls with the same parameters but for the page token: the
	// pages of one paginated listing, which must be made one after another.
	LongestChain int
	First, Last  time.Duration
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{DuplicateCalls: map[string]int{}, Unrouted: map[string]int{}, PeakInFlight: s.peakIn.Load()}
	for k, v := range s.unrouted {
		st.Unrouted[k] = v
	}
	for key, cr := range s.calls {
		if n := len(cr.invocations); n > 1 {
			st.Duplicates += n - 1
			st.DuplicateCalls[key] = n
		}
	}
	for _, ar := range s.apis {
		a := APIStats{Bucket: ar.bucket, API: ar.api, Calls: ar.calls, Attempts: ar.attempts, Throttled: ar.throttled, First: ar.first, Last: ar.last}
		for _, n := range ar.chains {
			a.LongestChain = max(a.LongestChain, n)
		}
		st.APIs = append(st.APIs, a)
		st.Calls += a.Calls
		st.Attempts += a.Attempts
		st.Throttled += a.Throttled
	}
	sort.Slice(st.APIs, func(i, j int) bool {
		if st.APIs[i].API != st.APIs[j].API {
			return st.APIs[i].API < st.APIs[j].API
		}
		return st.APIs[i].Bucket < st.APIs[j].Bucket
	})
	return st
}

// CallsTo sums logical calls to one API ("eks:DescribeCluster") over every region.
func (st Stats) CallsTo(api string) int {
	n := 0
	for _, a := range st.APIs {
		if a.API == api {
			n += a.Calls
		}
	}
	return n
}

// CallsToService sums logical calls to every API of one service ("securityhub").
func (st Stats) CallsToService(service string) int {
	n := 0
	for _, a := range st.APIs {
		if strings.HasPrefix(a.API, service+":") {
			n += a.Calls
		}
	}
	return n
}

// credentialScope extracts region and service from a SigV4 Authorization header:
// "AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/eks/aws4_request, SignedHeaders=..., ...".
func credentialScope(auth string) (region, service string) {
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return "", ""
	}
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(strings.TrimSpace(cred), "/")
	if len(parts) != 5 {
		return "", ""
	}
	return parts[2], parts[3]
}
