package fakeaws

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// hubStore keeps imported findings per region, so a second scan sees the first one's findings as
// a real hub would (steady state: GetFindings returns pages, passing findings get resolved).
type hubStore struct {
	mu      sync.Mutex
	regions map[string]map[string]*storedFinding
}

type storedFinding struct {
	raw    []byte // the finding as imported
	fields map[string]string
	pf     map[string]string // ProductFields
	// workflow is customer-owned: BatchUpdateFindings changes it, imports do not.
	workflow string
	// rawWorkflow is the workflow status written in raw, so an unchanged finding is served
	// as stored, without decoding it again.
	rawWorkflow string
}

func newHubStore() *hubStore { return &hubStore{regions: map[string]map[string]*storedFinding{}} }

func (h *hubStore) reset() {
	h.mu.Lock()
	h.regions = map[string]map[string]*storedFinding{}
	h.mu.Unlock()
}

// Findings returns how many findings the fake hub holds in region.
func (s *Server) Findings(region string) int {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	return len(s.hub.regions[region])
}

func (s *Server) hubDescribeHub(c *Call) (any, error) {
	return M{"HubArn": s.est.arn("securityhub", c.Region, "hub/default"), "SubscribedAt": s.est.created.Format("2006-01-02T15:04:05.000Z"), "AutoEnableControls": true}, nil
}

func str(m map[string]any, path ...string) string {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = mm[p]
	}
	s, _ := cur.(string)
	return s
}

// importedFinding is the part of an imported finding the fake indexes; the finding itself is
// kept as sent.
type importedFinding struct {
	ID            string                   `json:"Id"`
	ProductArn    string                   `json:"ProductArn"`
	AwsAccountID  string                   `json:"AwsAccountId"`
	GeneratorID   string                   `json:"GeneratorId"`
	Region        string                   `json:"Region"`
	RecordState   string                   `json:"RecordState"`
	Compliance    *struct{ Status string } `json:"Compliance"`
	Workflow      *struct{ Status string } `json:"Workflow"`
	ProductFields map[string]string        `json:"ProductFields"`
}

func (s *Server) hubBatchImportFindings(c *Call) (any, error) {
	var in struct{ Findings []json.RawMessage }
	if err := json.Unmarshal(c.body, &in); err != nil {
		return nil, &APIError{Status: 400, Code: "InvalidInputException", Message: "malformed request body: " + err.Error()}
	}
	if len(in.Findings) > 100 {
		return nil, &APIError{Status: 400, Code: "InvalidInputException", Message: fmt.Sprintf("Invalid parameter 'Findings'. Size '%d' is greater than maximum value: 100.", len(in.Findings))}
	}
	var failed []M
	stored := make(map[string]*storedFinding, len(in.Findings))
	for _, raw := range in.Findings {
		var f importedFinding
		if err := json.Unmarshal(raw, &f); err != nil || f.ID == "" || f.ProductArn == "" || f.AwsAccountID != s.est.Account {
			failed = append(failed, M{"Id": f.ID, "ErrorCode": "InvalidInput", "ErrorMessage": "Finding does not adhere to Amazon Finding Format. data should have required property 'Id', 'ProductArn' and the caller's AwsAccountId"})
			continue
		}
		sf := &storedFinding{raw: raw, pf: f.ProductFields, fields: map[string]string{
			"Id": f.ID, "ProductArn": f.ProductArn, "AwsAccountId": f.AwsAccountID, "GeneratorId": f.GeneratorID,
			"Region": f.Region, "RecordState": f.RecordState,
		}}
		if f.Compliance != nil {
			sf.fields["ComplianceStatus"] = f.Compliance.Status
		}
		if f.Workflow != nil {
			sf.rawWorkflow = f.Workflow.Status
		}
		if sf.pf == nil {
			sf.pf = map[string]string{}
		}
		if sf.fields["Region"] == "" {
			sf.fields["Region"] = c.Region
		}
		if sf.fields["RecordState"] == "" {
			sf.fields["RecordState"] = "ACTIVE"
		}
		stored[f.ID] = sf
	}
	h := s.hub
	h.mu.Lock()
	store := h.regions[c.Region]
	if store == nil {
		store = map[string]*storedFinding{}
		h.regions[c.Region] = store
	}
	for id, sf := range stored {
		sf.workflow = sf.rawWorkflow
		if sf.workflow == "" {
			sf.workflow = "NEW"
		}
		if old := store[id]; old != nil {
			sf.workflow = old.workflow
		}
		store[id] = sf
	}
	h.mu.Unlock()
	return M{"FailedCount": len(failed), "SuccessCount": len(in.Findings) - len(failed), "FailedFindings": nonNil(failed)}, nil
}

func nonNil(m []M) []M {
	if m == nil {
		return []M{}
	}
	return m
}

// matches applies GetFindings filters: EQUALS (and PREFIX) values of one field are ORed,
// NOT_EQUALS ANDed, fields ANDed, as Security Hub documents.
func (sf *storedFinding) matches(filters map[string]any) bool {
	for field, v := range filters {
		list, _ := v.([]any)
		if len(list) == 0 {
			continue
		}
		anyPositive, matched := false, false
		for _, e := range list {
			f, _ := e.(map[string]any)
			cmp, want := str(f, "Comparison"), str(f, "Value")
			var got string
			if field == "ProductFields" {
				got = sf.pf[str(f, "Key")]
			} else if field == "WorkflowStatus" {
				got = sf.workflow
			} else {
				got = sf.fields[field]
			}
			switch cmp {
			case "NOT_EQUALS":
				if got == want {
					return false
				}
			case "PREFIX":
				anyPositive = true
				matched = matched || strings.HasPrefix(got, want)
			case "PREFIX_NOT_EQUALS":
				if strings.HasPrefix(got, want) {
					return false
				}
			default:
				anyPositive = true
				matched = matched || got == want
			}
		}
		if anyPositive && !matched {
			return false
		}
	}
	return true
}

func (s *Server) hubGetFindings(c *Call) (any, error) {
	filters, _ := c.JSON("Filters").(map[string]any)
	h := s.hub
	h.mu.Lock()
	var ids []string
	for id, sf := range h.regions[c.Region] {
		if sf.matches(filters) {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	got, next, err := page(ids, c.Str("NextToken"), clampMax(c.Int("MaxResults", 100), 100))
	if err != nil {
		h.mu.Unlock()
		return nil, err
	}
	out := make([]json.RawMessage, 0, len(got))
	for _, id := range got {
		sf := h.regions[c.Region][id]
		if sf.workflow == sf.rawWorkflow && sf.fields["RecordState"] != "" && strings.Contains(string(sf.raw), `"RecordState"`) {
			out = append(out, sf.raw)
			continue
		}
		var f map[string]any
		_ = json.Unmarshal(sf.raw, &f)
		f["Workflow"] = map[string]any{"Status": sf.workflow}
		f["WorkflowState"] = sf.workflow
		f["RecordState"] = sf.fields["RecordState"]
		b, _ := json.Marshal(f)
		out = append(out, b)
	}
	h.mu.Unlock()
	return M{"Findings": out, "NextToken": nilIfEmpty(next)}, nil
}

func (s *Server) hubBatchUpdateFindings(c *Call) (any, error) {
	list, _ := c.JSON("FindingIdentifiers").([]any)
	if len(list) > 100 {
		return nil, &APIError{Status: 400, Code: "InvalidInputException", Message: "Invalid parameter 'FindingIdentifiers'. Size is greater than maximum value: 100."}
	}
	status := str(c.object(), "Workflow", "Status")
	var done, failed []M
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, v := range list {
		f, _ := v.(map[string]any)
		id, arn := str(f, "Id"), str(f, "ProductArn")
		sf := h.regions[c.Region][id]
		if sf == nil || sf.fields["ProductArn"] != arn {
			failed = append(failed, M{"FindingIdentifier": M{"Id": id, "ProductArn": arn}, "ErrorCode": "FindingNotFound", "ErrorMessage": "Finding Not Found"})
			continue
		}
		if status != "" {
			sf.workflow = status
		}
		done = append(done, M{"Id": id, "ProductArn": arn})
	}
	return M{"ProcessedFindings": nonNil(done), "UnprocessedFindings": nonNil(failed)}, nil
}
