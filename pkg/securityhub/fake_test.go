package securityhub

import (
	"context"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sh "github.com/aws/aws-sdk-go-v2/service/securityhub"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/aws/smithy-go"

	"github.com/sek-dev/sek/pkg/asff"
)

// fakeHub is an in-memory Security Hub for one region with the update rules the real service
// documents: an import whose UpdatedAt is not later than the stored one is ignored, and a
// provider cannot change Workflow on an existing finding. Like moto, it ignores query filters.
type fakeHub struct {
	mu       sync.Mutex
	disabled bool
	findings map[string]shtypes.AwsSecurityFinding
	order    []string

	// Fault injection.
	rejectAlways map[string]string // id → FailedFindings error code, every time
	rejectTimes  map[string]int    // id → how many more times to reject with a retryable code
	throttle     int               // the next N calls of any kind fail with TooManyRequestsException
	poison       map[string]bool   // a batch containing one of these fails whole with InvalidInputException
	getErr       error
	pageSize     int

	// Records.
	importCalls   []importCall
	getCalls      []time.Time
	describeCalls int
	updateCalls   []*sh.BatchUpdateFindingsInput
	invalid       []error // ASFF violations seen in imported findings
	ignoredStale  int
}

type importCall struct {
	at    time.Time
	ids   []string
	bytes int
}

func newFakeHub() *fakeHub {
	return &fakeHub{findings: map[string]shtypes.AwsSecurityFinding{}, rejectAlways: map[string]string{},
		rejectTimes: map[string]int{}, poison: map[string]bool{}, pageSize: 100}
}

func throttled() error {
	return &smithy.GenericAPIError{Code: "TooManyRequestsException", Message: "Rate exceeded"}
}

func (h *fakeHub) takeThrottle() bool {
	if h.throttle > 0 {
		h.throttle--
		return true
	}
	return false
}

func (h *fakeHub) DescribeHub(ctx context.Context, in *sh.DescribeHubInput, _ ...func(*sh.Options)) (*sh.DescribeHubOutput, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.describeCalls++
	if h.disabled {
		return nil, &smithy.GenericAPIError{Code: "InvalidAccessException", Message: "Account 123456789012 is not subscribed to AWS Security Hub"}
	}
	return &sh.DescribeHubOutput{HubArn: aws.String("arn:aws:securityhub:eu-west-1:123456789012:hub/default")}, nil
}

func (h *fakeHub) BatchImportFindings(ctx context.Context, in *sh.BatchImportFindingsInput, _ ...func(*sh.Options)) (*sh.BatchImportFindingsOutput, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	call := importCall{at: time.Now(), bytes: envelopeBytes + len(in.Findings) - 1}
	for _, f := range in.Findings {
		call.ids = append(call.ids, aws.ToString(f.Id))
		n, _ := asff.Size(f)
		call.bytes += n
		if err := asff.Validate(f); err != nil {
			h.invalid = append(h.invalid, err)
		}
	}
	h.importCalls = append(h.importCalls, call)
	if h.takeThrottle() {
		return nil, throttled()
	}
	if len(in.Findings) > MaxBatchFindings {
		return nil, &smithy.GenericAPIError{Code: "InvalidInputException", Message: "Invalid parameter 'Findings'. Size '" + strconv.Itoa(len(in.Findings)) + "' is greater than maximum value: 100"}
	}
	for _, f := range in.Findings {
		if h.poison[aws.ToString(f.Id)] {
			return nil, &smithy.GenericAPIError{Code: "InvalidInputException", Message: "batch contains a finding the service cannot parse"}
		}
	}
	out := &sh.BatchImportFindingsOutput{}
	var failed, ok int32
	for _, f := range in.Findings {
		id := aws.ToString(f.Id)
		if code, bad := h.rejectAlways[id]; bad {
			failed++
			out.FailedFindings = append(out.FailedFindings, shtypes.ImportFindingsError{Id: aws.String(id), ErrorCode: aws.String(code), ErrorMessage: aws.String("rejected by the fake")})
			continue
		}
		if h.rejectTimes[id] > 0 {
			h.rejectTimes[id]--
			failed++
			out.FailedFindings = append(out.FailedFindings, shtypes.ImportFindingsError{Id: aws.String(id), ErrorCode: aws.String("ThrottlingException"), ErrorMessage: aws.String("slow down")})
			continue
		}
		ok++
		h.store(f)
	}
	out.FailedCount, out.SuccessCount = aws.Int32(failed), aws.Int32(ok)
	return out, nil
}

func (h *fakeHub) store(f shtypes.AwsSecurityFinding) {
	id := aws.ToString(f.Id)
	prev, exists := h.findings[id]
	if !exists {
		if f.Workflow == nil {
			f.Workflow = &shtypes.Workflow{Status: shtypes.WorkflowStatusNew}
		}
		f.ProductFields = withAWSFields(f.ProductFields, id)
		f.Region = aws.String("eu-west-1")
		h.findings[id] = f
		h.order = append(h.order, id)
		return
	}
	pt, _ := asff.ParseTime(aws.ToString(prev.UpdatedAt))
	nt, _ := asff.ParseTime(aws.ToString(f.UpdatedAt))
	if !nt.After(pt) {
		h.ignoredStale++
		return
	}
	f.Workflow = prev.Workflow
	f.ProductFields = withAWSFields(f.ProductFields, id)
	f.Region = prev.Region
	h.findings[id] = f
}

// withAWSFields adds the keys the real service adds, which a provider must not send back.
func withAWSFields(pf map[string]string, id string) map[string]string {
	out := map[string]string{"aws/securityhub/FindingId": "arn:aws:securityhub:eu-west-1::finding/" + id}
	for k, v := range pf {
		out[k] = v
	}
	return out
}

func (h *fakeHub) GetFindings(ctx context.Context, in *sh.GetFindingsInput, _ ...func(*sh.Options)) (*sh.GetFindingsOutput, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.getCalls = append(h.getCalls, time.Now())
	if h.takeThrottle() {
		return nil, throttled()
	}
	if h.getErr != nil {
		return nil, h.getErr
	}
	start := 0
	if in.NextToken != nil {
		start, _ = strconv.Atoi(*in.NextToken)
	}
	ids := append([]string(nil), h.order...)
	sort.Strings(ids)
	end := min(start+h.pageSize, len(ids))
	out := &sh.GetFindingsOutput{}
	for _, id := range ids[start:end] {
		out.Findings = append(out.Findings, h.findings[id])
	}
	if end < len(ids) {
		out.NextToken = aws.String(strconv.Itoa(end))
	}
	return out, nil
}

func (h *fakeHub) BatchUpdateFindings(ctx context.Context, in *sh.BatchUpdateFindingsInput, _ ...func(*sh.Options)) (*sh.BatchUpdateFindingsOutput, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.updateCalls = append(h.updateCalls, in)
	out := &sh.BatchUpdateFindingsOutput{}
	for _, fi := range in.FindingIdentifiers {
		f, ok := h.findings[aws.ToString(fi.Id)]
		if !ok {
			out.UnprocessedFindings = append(out.UnprocessedFindings, shtypes.BatchUpdateFindingsUnprocessedFinding{
				FindingIdentifier: &fi, ErrorCode: aws.String("FindingNotFound"), ErrorMessage: aws.String("no such finding")})
			continue
		}
		f.Workflow = &shtypes.Workflow{Status: in.Workflow.Status}
		h.findings[aws.ToString(fi.Id)] = f
		out.ProcessedFindings = append(out.ProcessedFindings, fi)
	}
	return out, nil
}

func (h *fakeHub) get(id string) (shtypes.AwsSecurityFinding, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f, ok := h.findings[id]
	return f, ok
}

func (h *fakeHub) setWorkflow(id string, s shtypes.WorkflowStatus) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f := h.findings[id]
	f.Workflow = &shtypes.Workflow{Status: s}
	h.findings[id] = f
}

// put stores a finding as another tool (or an old Sek version) left it.
func (h *fakeHub) put(f shtypes.AwsSecurityFinding) {
	h.mu.Lock()
	defer h.mu.Unlock()
	id := aws.ToString(f.Id)
	if _, ok := h.findings[id]; !ok {
		h.order = append(h.order, id)
	}
	h.findings[id] = f
}

func (h *fakeHub) resolvedIDs() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var ids []string
	for _, c := range h.updateCalls {
		for _, fi := range c.FindingIdentifiers {
			ids = append(ids, aws.ToString(fi.Id))
		}
	}
	sort.Strings(ids)
	return ids
}
