// Package auditor is the Lambda side of Sek: it decides what an invocation asks for (a scheduled
// full scan, a re-audit after an EKS change, a manual scope, a fan-out child), runs the shared
// scan pipeline over that scope, publishes to Security Hub and reconciles only what completed.
// functions/auditor is a thin main around it.
package auditor

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/sek-dev/sek/pkg/awsclient"
	"github.com/sek-dev/sek/pkg/org"
)

// Route is what kind of invocation the handler received.
type Route string

const (
	// RouteScheduled is an EventBridge schedule: a full scan.
	RouteScheduled Route = "scheduled"
	// RouteCloudTrail is an EKS API call delivered by EventBridge from CloudTrail.
	RouteCloudTrail Route = "cloudtrail"
	// RouteManual is {"regions": [...], "clusters": [...]} sent by a person or a script.
	RouteManual Route = "manual"
	// RouteFanOutChild is the per-region invocation a scheduled run sends to itself.
	RouteFanOutChild Route = "fanout-child"
	// RouteListItems is the organization state machine's first step: write the account × region
	// item list to S3 ({"action": "list-items", "runId": ...}).
	RouteListItems Route = "list-items"
	// RouteOrgItem is one Distributed Map item: one member account in one region
	// ({"accountId": ..., "region": ..., "roleName": ...}).
	RouteOrgItem Route = "org-item"
)

// EventBridge envelope values the handler accepts.
const (
	DetailTypeScheduled  = "Scheduled Event"
	DetailTypeCloudTrail = "AWS API Call via CloudTrail"
	SourceEvents         = "aws.events"
	SourceScheduler      = "aws.scheduler"
	SourceEKS            = "aws.eks"
	EKSEventSource       = "eks.amazonaws.com"
	DeleteClusterEvent   = "DeleteCluster"
	clusterResourceType  = "AWS::EKS::Cluster"
)

// eventNames are the EKS calls that can change what Sek checks. All are mutating calls, so the
// EventBridge rule needs no opt-in to read-only events.
func eventNames() []string {
	return []string{
		"CreateCluster", "DeleteCluster", "UpdateClusterConfig", "UpdateClusterVersion",
		"AssociateEncryptionConfig",
		"CreateNodegroup", "UpdateNodegroupConfig", "UpdateNodegroupVersion", "DeleteNodegroup",
		"CreateAddon", "UpdateAddon", "DeleteAddon",
		"CreateAccessEntry", "UpdateAccessEntry", "DeleteAccessEntry",
		"AssociateAccessPolicy", "DisassociateAccessPolicy",
		"CreatePodIdentityAssociation", "UpdatePodIdentityAssociation", "DeletePodIdentityAssociation",
		"AssociateIdentityProviderConfig", "DisassociateIdentityProviderConfig",
		"CreateFargateProfile", "DeleteFargateProfile",
		"TagResource", "UntagResource",
	}
}

// EventNames returns the CloudTrail event names the handler acts on, in a fixed order. The
// EventBridge rule of the stack must match exactly these.
func EventNames() []string { return eventNames() }

// Invocation is a decoded, validated request.
type Invocation struct {
	Route Route `json:"route"`
	// Regions to scan; empty means the configured regions (every enabled region by default).
	Regions []string `json:"regions,omitempty"`
	// Clusters narrows the scan; empty means every cluster in Regions.
	Clusters []string `json:"clusters,omitempty"`

	// The rest describes a CloudTrail event.
	EventName string `json:"eventName,omitempty"`
	EventID   string `json:"eventId,omitempty"`
	// Account is the account the event happened in (detail.recipientAccountId or the envelope).
	Account string `json:"account,omitempty"`
	// NameFrom says where the cluster name was found, or why the whole region is rescanned.
	NameFrom string `json:"nameFrom,omitempty"`
	// Ignore, when set, is why the event is acknowledged without any scan (a failed API call).
	Ignore string `json:"ignore,omitempty"`

	// RunID names the organization run whose item list RouteListItems writes.
	RunID string `json:"runId,omitempty"`
	// Item is the organization item of RouteOrgItem. Its role may be empty: the function's
	// configured role_name then applies.
	Item *org.Item `json:"item,omitempty"`
}

// Cluster is the single cluster a CloudTrail event names, or "".
func (inv Invocation) Cluster() string {
	if inv.Route == RouteCloudTrail && len(inv.Clusters) == 1 {
		return inv.Clusters[0]
	}
	return ""
}

// InputError is input the handler cannot act on. Retrying it cannot help. The Lambda runtime
// reports the type name as the invocation's errorType, so a dead-letter queue or a state
// machine can tell bad input from a failed scan.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return "invalid auditor input: " + e.Msg }

// IsInputError reports whether err means the invocation's payload was unusable.
func IsInputError(err error) bool {
	var ie *InputError
	return errors.As(err, &ie)
}

func inputErr(format string, a ...any) error {
	return &InputError{Msg: fmt.Sprintf(format, a...)}
}

// ConfigError is a configuration the function cannot run with; every invocation fails with it
// until the stack's environment is fixed.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string {
	return "the function's configuration (SEK_* environment variables) is invalid: " + e.Err.Error()
}

func (e *ConfigError) Unwrap() error { return e.Err }

const accepted = `the auditor accepts an EventBridge "Scheduled Event", an EKS "AWS API Call via CloudTrail" event, a manual {"regions": ["eu-west-1"], "clusters": ["prod"]}, or the organization state machine's {"action": "list-items", "runId": ...} and {"accountId": ..., "region": ...}`

// Decode turns a raw payload into an Invocation. Anything it cannot act on is an error that says
// what was wrong and what is accepted; it never panics.
func Decode(raw []byte) (Invocation, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return Invocation{}, inputErr("payload is not a JSON object; %s", accepted)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		return Invocation{}, inputErr("payload is not valid JSON (%v); %s", err, accepted)
	}
	_, hasType := keys["detail-type"]
	_, hasSource := keys["source"]
	_, hasDetail := keys["detail"]
	_, hasAction := keys["action"]
	_, hasAccount := keys["accountId"]
	switch {
	case hasType || hasSource || hasDetail:
		return decodeEnvelope(raw)
	case hasAction:
		return decodeAction(raw)
	case hasAccount:
		return decodeItem(raw)
	}
	return decodeManual(raw)
}

// strict decodes raw into v, refusing unknown fields and trailing data.
func strict(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errors.New(jsonProblem(err))
	}
	if dec.More() {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

var runIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

func decodeAction(raw []byte) (Invocation, error) {
	var in struct {
		Action string `json:"action"`
		RunID  string `json:"runId"`
	}
	if err := strict(raw, &in); err != nil {
		return Invocation{}, inputErr("action: %v; expected {\"action\": \"list-items\", \"runId\": \"<execution name>\"}", err)
	}
	if in.Action != string(RouteListItems) {
		return Invocation{}, inputErr("unknown action %q; the only action is %q", in.Action, RouteListItems)
	}
	if !runIDPattern.MatchString(in.RunID) {
		return Invocation{}, inputErr("list-items: runId %q must be 1-80 letters, digits, - or _ (the state machine passes its execution name)", in.RunID)
	}
	return Invocation{Route: RouteListItems, RunID: in.RunID}, nil
}

func decodeItem(raw []byte) (Invocation, error) {
	var it org.Item
	if err := strict(raw, &it); err != nil {
		return Invocation{}, inputErr("organization item: %v; expected {\"accountId\": \"111122223333\", \"region\": \"eu-west-1\", \"roleName\": \"SekAuditRole\"}", err)
	}
	probe := it
	if probe.RoleARN == "" && probe.RoleName == "" {
		probe.RoleName = "placeholder" // the configured role_name fills it in later
	}
	if _, err := probe.Member(); err != nil {
		return Invocation{}, inputErr("%v", err)
	}
	return Invocation{Route: RouteOrgItem, Regions: []string{it.Region}, Account: it.AccountID, Item: &it}, nil
}

// manualInput is the manual invocation and the fan-out child payload.
type manualInput struct {
	Regions  []string `json:"regions"`
	Clusters []string `json:"clusters"`
	// FanOut marks a child started by a scheduled run; a child never fans out again.
	FanOut bool `json:"fanout"`
}

func decodeManual(raw []byte) (Invocation, error) {
	var in manualInput
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return Invocation{}, inputErr("manual invocation: %s; expected {\"regions\": [\"eu-west-1\"], \"clusters\": [\"prod\"]} (both optional, at least one)", jsonProblem(err))
	}
	if dec.More() {
		return Invocation{}, inputErr("manual invocation: trailing data after the JSON object")
	}
	if len(in.Regions) == 0 && len(in.Clusters) == 0 {
		return Invocation{}, inputErr("manual invocation names no regions and no clusters; give at least one, e.g. {\"regions\": [\"eu-west-1\"]} (a full scan is the scheduled event)")
	}
	regions, err := cleanRegions(in.Regions)
	if err != nil {
		return Invocation{}, err
	}
	var clusters []string
	for _, c := range in.Clusters {
		c = strings.TrimSpace(c)
		if !ValidClusterName(c) {
			return Invocation{}, inputErr("manual invocation: %q is not a valid EKS cluster name (1-100 letters, digits, - and _, starting with a letter or digit)", c)
		}
		if !slices.Contains(clusters, c) {
			clusters = append(clusters, c)
		}
	}
	route := RouteManual
	if in.FanOut {
		if len(regions) == 0 {
			return Invocation{}, inputErr("fan-out invocation names no region; a fan-out child is {\"regions\": [\"eu-west-1\"], \"fanout\": true}")
		}
		route = RouteFanOutChild
	}
	return Invocation{Route: route, Regions: regions, Clusters: clusters}, nil
}

func cleanRegions(in []string) ([]string, error) {
	var out []string
	for _, r := range in {
		r = strings.TrimSpace(r)
		if err := awsclient.ValidateRegion(r); err != nil {
			return nil, inputErr("regions: %v", err)
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out, nil
}

func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			return fmt.Sprintf("field %q must be %s, not a JSON %s", te.Field, kindOf(te.Type.String()), te.Value)
		}
		return fmt.Sprintf("expected %s, got a JSON %s", kindOf(te.Type.String()), te.Value)
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return "unknown field " + f
	}
	return msg
}

func kindOf(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "a list of strings"
	case goType == "string":
		return "a string"
	case goType == "bool":
		return "true or false"
	}
	return "a JSON object"
}

// cloudTrailDetail is the part of a CloudTrail record the handler reads.
type cloudTrailDetail struct {
	EventSource        string          `json:"eventSource"`
	EventName          string          `json:"eventName"`
	AWSRegion          string          `json:"awsRegion"`
	EventID            string          `json:"eventID"`
	ErrorCode          string          `json:"errorCode"`
	ErrorMessage       string          `json:"errorMessage"`
	RecipientAccountID string          `json:"recipientAccountId"`
	RequestParameters  json.RawMessage `json:"requestParameters"`
	ResponseElements   json.RawMessage `json:"responseElements"`
	Resources          []struct {
		ARN  string `json:"ARN"`
		Type string `json:"type"`
	} `json:"resources"`
}

func decodeEnvelope(raw []byte) (Invocation, error) {
	var ev events.EventBridgeEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return Invocation{}, inputErr("EventBridge event: %s", jsonProblem(err))
	}
	switch {
	case ev.DetailType == DetailTypeScheduled && (ev.Source == SourceEvents || ev.Source == SourceScheduler):
		return Invocation{Route: RouteScheduled}, nil
	case ev.DetailType == DetailTypeCloudTrail && ev.Source == SourceEKS:
		return decodeCloudTrail(ev)
	}
	return Invocation{}, inputErr("unknown event: source %q, detail-type %q; %s", ev.Source, ev.DetailType, accepted)
}

func decodeCloudTrail(ev events.EventBridgeEvent) (Invocation, error) {
	var d cloudTrailDetail
	if len(ev.Detail) == 0 || string(ev.Detail) == "null" {
		return Invocation{}, inputErr("EKS CloudTrail event has no detail")
	}
	if err := json.Unmarshal(ev.Detail, &d); err != nil {
		return Invocation{}, inputErr("EKS CloudTrail event detail: %s", jsonProblem(err))
	}
	if d.EventSource != EKSEventSource {
		return Invocation{}, inputErr("CloudTrail event from %q, not %s; the EventBridge rule should match detail.eventSource %q", d.EventSource, EKSEventSource, EKSEventSource)
	}
	if !slices.Contains(eventNames(), d.EventName) {
		return Invocation{}, inputErr("EKS event %q is not one the auditor handles; the EventBridge rule should match only: %s", d.EventName, strings.Join(eventNames(), ", "))
	}
	inv := Invocation{Route: RouteCloudTrail, EventName: d.EventName, EventID: d.EventID, Account: d.RecipientAccountID}
	if inv.Account == "" {
		inv.Account = ev.AccountID
	}
	region := d.AWSRegion
	if region == "" {
		region = ev.Region
	}
	if err := awsclient.ValidateRegion(region); err != nil {
		return Invocation{}, inputErr("EKS CloudTrail event: no usable region in detail.awsRegion or the envelope: %v", err)
	}
	inv.Regions = []string{region}
	if d.ErrorCode != "" {
		inv.Ignore = fmt.Sprintf("the %s call failed (%s: %s), so nothing changed", d.EventName, d.ErrorCode, d.ErrorMessage)
		return inv, nil
	}
	if name, from := clusterName(d); name != "" {
		inv.Clusters, inv.NameFrom = []string{name}, from
	} else {
		inv.NameFrom = "no cluster name in the event; rescanning the region"
	}
	return inv, nil
}

// clusterName finds the cluster an EKS call concerns, trying the places CloudTrail has put it over
// the years, most specific first. Candidates that are not valid cluster names are passed over.
func clusterName(d cloudTrailDetail) (name, from string) {
	req := object(d.RequestParameters)
	resp := object(d.ResponseElements)
	try := func(v json.RawMessage) string {
		s := str(v)
		if u, err := url.PathUnescape(s); err == nil {
			s = u
		}
		if ValidClusterName(s) {
			return s
		}
		return ""
	}
	if n := try(req["name"]); n != "" {
		return n, "requestParameters.name"
	}
	if n := try(req["clusterName"]); n != "" {
		return n, "requestParameters.clusterName"
	}
	if cl := object(resp["cluster"]); cl != nil {
		if n := try(cl["name"]); n != "" {
			return n, "responseElements.cluster.name"
		}
		if n := try(cl["clusterName"]); n != "" {
			return n, "responseElements.cluster.clusterName"
		}
	}
	if n := try(resp["clusterName"]); n != "" {
		return n, "responseElements.clusterName"
	}
	keys := make([]string, 0, len(resp))
	for k := range resp {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if n := try(object(resp[k])["clusterName"]); n != "" {
			return n, "responseElements." + k + ".clusterName"
		}
	}
	// TagResource and UntagResource name the resource by ARN only; every EKS ARN carries its
	// cluster's name.
	if arn := str(req["resourceArn"]); arn != "" {
		if n := ClusterFromARN(arn); n != "" {
			return n, "requestParameters.resourceArn"
		}
	}
	for _, r := range d.Resources {
		if r.Type == clusterResourceType {
			if n := ClusterFromARN(r.ARN); n != "" {
				return n, "resources[].ARN"
			}
		}
	}
	return "", ""
}

func object(raw json.RawMessage) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	if len(raw) == 0 || json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return m
}

func str(raw json.RawMessage) string {
	var s string
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return strings.TrimSpace(s)
}

var clusterNamePattern = regexp.MustCompile(`^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$`)

// ValidClusterName reports whether s can be an EKS cluster name.
func ValidClusterName(s string) bool { return clusterNamePattern.MatchString(s) }

// ClusterFromARN returns the cluster name in an EKS ARN (cluster, node group, add-on, Fargate
// profile, access entry, pod identity association or identity provider config), or "". The ARN
// may be URL-encoded, as CloudTrail records path parameters.
func ClusterFromARN(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		s = u
	}
	a, err := arn.Parse(s)
	if err != nil || a.Service != "eks" {
		return ""
	}
	segs := strings.Split(a.Resource, "/")
	if len(segs) < 2 {
		return ""
	}
	switch segs[0] {
	case "cluster", "nodegroup", "addon", "fargateprofile", "access-entry", "podidentityassociation", "identityproviderconfig":
		if ValidClusterName(segs[1]) {
			return segs[1]
		}
	}
	return ""
}
