package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sh "github.com/aws/aws-sdk-go-v2/service/securityhub"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/sek-dev/sek/pkg/asff"
)

// Proxy sits in front of moto_server. It forwards every request, and adds what the tests need
// that moto lacks:
//   - Security Hub BatchUpdateFindings (moto answers 404), served in the shape of the API
//     reference, recorded, and applied to moto's stored finding so later reads see the workflow;
//   - a check of every finding sent to BatchImportFindings against the documented ASFF limits;
//   - injected faults, to make a scan fail partway.
type Proxy struct {
	URL  string
	moto string
	srv  *httptest.Server

	mu       sync.Mutex
	updates  []BatchUpdate
	imported int
	invalid  []string
	faults   []fault
}

// BatchUpdate is one recorded BatchUpdateFindings call.
type BatchUpdate struct {
	Region   string
	IDs      []string
	Workflow string
}

type fault struct {
	match  func(*http.Request) bool
	status int
	code   string
}

var credentialRegion = regexp.MustCompile(`Credential=[^/]+/[0-9]{8}/([^/]+)/`)

// StartProxy starts a proxy to motoURL for the test's lifetime.
func StartProxy(t TB, motoURL string) *Proxy {
	t.Helper()
	p, err := LaunchProxy(motoURL)
	if err != nil {
		t.Fatalf("start the Security Hub proxy: %v", err)
	}
	t.Cleanup(p.Close)
	return p
}

// LaunchProxy starts a proxy to motoURL; Close stops it.
func LaunchProxy(motoURL string) (*Proxy, error) {
	target, err := url.Parse(motoURL)
	if err != nil {
		return nil, fmt.Errorf("moto URL %q: %w", motoURL, err)
	}
	p := &Proxy{moto: motoURL}
	forward := httputil.NewSingleHostReverseProxy(target)
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f := p.fault(r); f != nil {
			writeError(w, f.status, f.code, "fault injected by the test proxy")
			return
		}
		switch {
		case r.Method == http.MethodPatch && r.URL.Path == "/findings/batchupdate":
			p.batchUpdate(w, r)
			return
		case r.Method == http.MethodPost && r.URL.Path == "/findings/import":
			p.checkImport(r)
		}
		forward.ServeHTTP(w, r)
	}))
	p.URL = p.srv.URL
	return p, nil
}

// Close stops the proxy.
func (p *Proxy) Close() { p.srv.Close() }

// Fail makes every request matching match fail with an AWS-shaped error until ClearFaults.
func (p *Proxy) Fail(match func(*http.Request) bool, status int, code string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = append(p.faults, fault{match: match, status: status, code: code})
}

// ClearFaults removes every injected fault.
func (p *Proxy) ClearFaults() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = nil
}

// Updates returns the BatchUpdateFindings calls so far.
func (p *Proxy) Updates() []BatchUpdate {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]BatchUpdate(nil), p.updates...)
}

// ImportedFindings counts findings sent to BatchImportFindings, and Invalid lists every ASFF
// limit they broke.
func (p *Proxy) ImportedFindings() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.imported
}

// Invalid lists ASFF violations in imported findings.
func (p *Proxy) Invalid() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.invalid...)
}

func (p *Proxy) fault(r *http.Request) *fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range p.faults {
		if p.faults[i].match(r) {
			return &p.faults[i]
		}
	}
	return nil
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg, "Message": msg})
}

func (p *Proxy) checkImport(r *http.Request) {
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	var in struct{ Findings []shtypes.AwsSecurityFinding }
	if err == nil {
		err = json.Unmarshal(body, &in)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.invalid = append(p.invalid, fmt.Sprintf("undecodable BatchImportFindings body: %v", err))
		return
	}
	p.imported += len(in.Findings)
	for _, f := range in.Findings {
		if err := asff.Validate(f); err != nil {
			p.invalid = append(p.invalid, err.Error())
		}
	}
}

// batchUpdate implements BatchUpdateFindings for the workflow status, which is all Sek uses.
func (p *Proxy) batchUpdate(w http.ResponseWriter, r *http.Request) {
	var in struct {
		FindingIdentifiers []shtypes.AwsSecurityFindingIdentifier
		Workflow           *struct{ Status string }
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || len(in.FindingIdentifiers) == 0 || len(in.FindingIdentifiers) > 100 {
		writeError(w, http.StatusBadRequest, "InvalidInputException", "FindingIdentifiers must hold 1 to 100 identifiers")
		return
	}
	m := credentialRegion.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		writeError(w, http.StatusBadRequest, "InvalidInputException", "unsigned request")
		return
	}
	region := m[1]
	call := BatchUpdate{Region: region}
	if in.Workflow != nil {
		call.Workflow = in.Workflow.Status
	}
	for _, fi := range in.FindingIdentifiers {
		call.IDs = append(call.IDs, aws.ToString(fi.Id))
	}
	p.mu.Lock()
	p.updates = append(p.updates, call)
	p.mu.Unlock()

	processed, unprocessed, err := p.applyWorkflow(r.Context(), region, in.FindingIdentifiers, call.Workflow)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "InternalException", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"ProcessedFindings": processed, "UnprocessedFindings": unprocessed})
}

// applyWorkflow stores the new workflow status in moto by re-importing the finding with it;
// moto merges an import into the stored finding.
func (p *Proxy) applyWorkflow(ctx context.Context, region string, ids []shtypes.AwsSecurityFindingIdentifier, status string) ([]shtypes.AwsSecurityFindingIdentifier, []map[string]any, error) {
	c := sh.New(sh.Options{
		Region:       region,
		BaseEndpoint: aws.String(p.moto),
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
	})
	stored := map[string]shtypes.AwsSecurityFinding{}
	pages := sh.NewGetFindingsPaginator(c, &sh.GetFindingsInput{MaxResults: aws.Int32(100)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("read moto findings: %w", err)
		}
		for _, f := range page.Findings {
			stored[aws.ToString(f.Id)] = f
		}
	}
	var (
		processed   []shtypes.AwsSecurityFindingIdentifier
		unprocessed []map[string]any
		updated     []shtypes.AwsSecurityFinding
	)
	for _, fi := range ids {
		f, ok := stored[aws.ToString(fi.Id)]
		if !ok || aws.ToString(f.ProductArn) != aws.ToString(fi.ProductArn) {
			unprocessed = append(unprocessed, map[string]any{"FindingIdentifier": fi, "ErrorCode": "FindingNotFound", "ErrorMessage": "no such finding"})
			continue
		}
		if status != "" {
			f.Workflow = &shtypes.Workflow{Status: shtypes.WorkflowStatus(status)}
		}
		updated = append(updated, f)
		processed = append(processed, fi)
	}
	if len(updated) > 0 {
		if _, err := c.BatchImportFindings(ctx, &sh.BatchImportFindingsInput{Findings: updated}); err != nil {
			return nil, nil, fmt.Errorf("store workflow in moto: %w", err)
		}
	}
	if processed == nil {
		processed = []shtypes.AwsSecurityFindingIdentifier{}
	}
	if unprocessed == nil {
		unprocessed = []map[string]any{}
	}
	return processed, unprocessed, nil
}
