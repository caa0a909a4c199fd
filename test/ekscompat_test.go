package test

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
	"sync"
	"testing"
	"time"
)

// eksCompat sits in front of moto_server and serves, in the EKS REST JSON wire format, the EKS
// APIs moto does not implement: add-ons and their versions, access entries and their policies,
// Pod Identity associations, identity provider configs and cluster versions. Response shapes
// follow the EKS API reference (the same shapes the SDK's schemas decode). Everything else is
// forwarded to moto unchanged, except two documented gaps in moto's own EKS responses:
//   - DescribeCluster lacks accessConfig, deletionProtection and upgradePolicy, which real EKS
//     always returns; the test supplies them per cluster.
//   - DescribeNodegroup reports a default remoteAccess ("eksKeypair") even for node groups with a
//     launch template, which real EKS rejects at creation; it is dropped for those node groups.
//     For node groups with SSH, moto names a remote-access security group that does not exist;
//     the test creates the group EKS would create and the handler names it instead.
type eksCompat struct {
	moto *url.URL
	mu   sync.Mutex
	// Per cluster name.
	clusterExtra   map[string]map[string]any
	addons         map[string][]map[string]any
	accessEntries  map[string][]map[string]any // each with "policies"
	podIdentities  map[string][]map[string]any
	identityConfig map[string][]map[string]any
	// addonVersions maps addon name → Kubernetes version → compatible versions, default first.
	addonVersions map[string]map[string][]string
	versions      []map[string]any
	// remoteAccessSG maps "cluster/nodegroup" to the security group EKS would have created.
	remoteAccessSG map[string]string
	// deny answers AccessDenied for these calls: "service:Action" for query-protocol services
	// (IAM, EC2) and "METHOD route" for EKS, as routeName spells it.
	deny  map[string]bool
	calls map[string]int
	// exact counts EKS requests by method, path and query, to catch duplicate identical calls.
	exact map[string]int
}

var sigv4Scope = regexp.MustCompile(`Credential=[^/]+/\d+/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request`)

func newEKSCompat(t *testing.T, motoURL string) (*eksCompat, *httptest.Server) {
	t.Helper()
	u, err := url.Parse(motoURL)
	if err != nil {
		t.Fatal(err)
	}
	f := &eksCompat{moto: u, clusterExtra: map[string]map[string]any{}, addons: map[string][]map[string]any{},
		accessEntries: map[string][]map[string]any{}, podIdentities: map[string][]map[string]any{},
		identityConfig: map[string][]map[string]any{}, addonVersions: map[string]map[string][]string{}, remoteAccessSG: map[string]string{}, deny: map[string]bool{}, calls: map[string]int{}, exact: map[string]int{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *eksCompat) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m := sigv4Scope.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil || m[2] != "eks" {
		if m != nil && r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			raw, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(raw))
			form, _ := url.ParseQuery(string(raw))
			f.mu.Lock()
			denied := f.deny[m[2]+":"+form.Get("Action")]
			f.mu.Unlock()
			if denied {
				f.accessDenied(w, "xml", m[2]+":"+form.Get("Action"))
				return
			}
		}
		f.forward(w, r, nil)
		return
	}
	parts := strings.Split(strings.Trim(r.URL.EscapedPath(), "/"), "/")
	for i := range parts {
		parts[i], _ = url.PathUnescape(parts[i])
	}
	f.mu.Lock()
	route := r.Method + " " + routeName(parts)
	f.calls[route]++
	f.exact[m[1]+" "+r.Method+" "+r.URL.RequestURI()]++
	denied := f.deny[route]
	f.mu.Unlock()
	if denied {
		f.accessDenied(w, "json", route)
		return
	}
	switch {
	case r.Method == http.MethodGet && len(parts) == 1 && parts[0] == "cluster-versions":
		f.json(w, map[string]any{"clusterVersions": f.versions})
	case r.Method == http.MethodGet && len(parts) == 2 && parts[0] == "addons" && parts[1] == "supported-versions":
		f.addonVersionsResponse(w, r.URL.Query().Get("addonName"), r.URL.Query().Get("kubernetesVersion"))
	case len(parts) >= 3 && parts[0] == "clusters":
		f.clusterSubresource(w, r, parts)
	case r.Method == http.MethodGet && len(parts) == 2 && parts[0] == "clusters":
		f.forward(w, r, func(body map[string]any) {
			c, _ := body["cluster"].(map[string]any)
			if c == nil {
				return
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			for k, v := range f.clusterExtra[parts[1]] {
				if k == "clusterSecurityGroupId" {
					if vpc, _ := c["resourcesVpcConfig"].(map[string]any); vpc != nil {
						vpc[k] = v
					}
					continue
				}
				c[k] = v
			}
		})
	default:
		f.forward(w, r, nil)
	}
}

func routeName(parts []string) string {
	if len(parts) >= 3 && parts[0] == "clusters" {
		return "clusters/*/" + strings.Join(parts[2:3], "/")
	}
	return strings.Join(parts, "/")
}

func (f *eksCompat) clusterSubresource(w http.ResponseWriter, r *http.Request, parts []string) {
	cluster, kind := parts[1], parts[2]
	switch kind {
	case "addons", "access-entries", "pod-identity-associations", "identity-provider-configs":
	case "node-groups":
		if len(parts) == 4 && r.Method == http.MethodGet {
			f.forward(w, r, func(body map[string]any) {
				ng, _ := body["nodegroup"].(map[string]any)
				if ng == nil {
					return
				}
				if ng["launchTemplate"] != nil {
					delete(ng, "remoteAccess")
					if res, _ := ng["resources"].(map[string]any); res != nil {
						delete(res, "remoteAccessSecurityGroup")
					}
				}
				f.mu.Lock()
				sg := f.remoteAccessSG[cluster+"/"+parts[3]]
				f.mu.Unlock()
				if res, _ := ng["resources"].(map[string]any); res != nil && sg != "" {
					res["remoteAccessSecurityGroup"] = sg
				}
			})
			return
		}
		f.forward(w, r, nil)
		return
	default:
		f.forward(w, r, nil)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case kind == "addons" && len(parts) == 3:
		var names []string
		for _, a := range f.addons[cluster] {
			names = append(names, a["addonName"].(string))
		}
		f.json(w, map[string]any{"addons": orEmpty(names)})
	case kind == "addons" && len(parts) == 4:
		for _, a := range f.addons[cluster] {
			if a["addonName"] == parts[3] {
				f.json(w, map[string]any{"addon": a})
				return
			}
		}
		f.notFound(w, "No addon: "+parts[3]+" found in cluster: "+cluster)
	case kind == "access-entries" && len(parts) == 3:
		var arns []string
		for _, e := range f.accessEntries[cluster] {
			arns = append(arns, e["principalArn"].(string))
		}
		f.json(w, map[string]any{"accessEntries": orEmpty(arns)})
	case kind == "access-entries" && (len(parts) == 4 || len(parts) == 5):
		for _, e := range f.accessEntries[cluster] {
			if e["principalArn"] != parts[3] {
				continue
			}
			if len(parts) == 5 {
				f.json(w, map[string]any{"clusterName": cluster, "principalArn": parts[3], "associatedAccessPolicies": e["policies"]})
				return
			}
			entry := map[string]any{}
			for k, v := range e {
				if k != "policies" {
					entry[k] = v
				}
			}
			f.json(w, map[string]any{"accessEntry": entry})
			return
		}
		f.notFound(w, "The specified principalArn could not be found")
	case kind == "pod-identity-associations" && len(parts) == 3:
		var sums []map[string]any
		for _, a := range f.podIdentities[cluster] {
			sums = append(sums, map[string]any{"clusterName": cluster, "namespace": a["namespace"], "serviceAccount": a["serviceAccount"],
				"associationArn": a["associationArn"], "associationId": a["associationId"]})
		}
		f.json(w, map[string]any{"associations": orEmpty(sums)})
	case kind == "pod-identity-associations" && len(parts) == 4:
		for _, a := range f.podIdentities[cluster] {
			if a["associationId"] == parts[3] {
				f.json(w, map[string]any{"association": a})
				return
			}
		}
		f.notFound(w, "association not found")
	case kind == "identity-provider-configs" && len(parts) == 3 && r.Method == http.MethodGet:
		var refs []map[string]any
		for _, c := range f.identityConfig[cluster] {
			refs = append(refs, map[string]any{"type": "oidc", "name": c["identityProviderConfigName"]})
		}
		f.json(w, map[string]any{"identityProviderConfigs": orEmpty(refs)})
	case kind == "identity-provider-configs" && len(parts) == 4 && parts[3] == "describe" && r.Method == http.MethodPost:
		var in struct {
			IdentityProviderConfig struct{ Name, Type string } `json:"identityProviderConfig"`
		}
		_ = json.NewDecoder(r.Body).Decode(&in)
		for _, c := range f.identityConfig[cluster] {
			if c["identityProviderConfigName"] == in.IdentityProviderConfig.Name {
				f.json(w, map[string]any{"identityProviderConfig": map[string]any{"oidc": c}})
				return
			}
		}
		f.notFound(w, "identity provider config not found")
	default:
		f.notFound(w, "unsupported "+r.Method+" "+r.URL.Path+" in the test's EKS handler")
	}
}

func (f *eksCompat) addonVersionsResponse(w http.ResponseWriter, addon, k8s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var versions []map[string]any
	for i, v := range f.addonVersions[addon][k8s] {
		versions = append(versions, map[string]any{"addonVersion": v, "architecture": []string{"amd64", "arm64"},
			"compatibilities": []map[string]any{{"clusterVersion": k8s, "platformVersions": []string{"*"}, "defaultVersion": i == 0}}})
	}
	var addons []map[string]any
	if len(versions) > 0 {
		addons = append(addons, map[string]any{"addonName": addon, "type": "networking", "owner": "aws", "publisher": "eks", "addonVersions": versions})
	}
	f.json(w, map[string]any{"addons": orEmpty(addons)})
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (f *eksCompat) json(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (f *eksCompat) notFound(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", "ResourceNotFoundException")
	w.WriteHeader(http.StatusNotFound)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

func (f *eksCompat) accessDenied(w http.ResponseWriter, format, what string) {
	msg := "User: arn:aws:sts::123456789012:assumed-role/sek-audit/test is not authorized to perform: " + what
	if format == "json" {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-Errortype", "AccessDeniedException")
		w.WriteHeader(http.StatusForbidden)
		_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(http.StatusForbidden)
	fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>%s</Message></Error><RequestId>1</RequestId></ErrorResponse>`, msg)
}

// forward proxies to moto, optionally editing a JSON response body.
func (f *eksCompat) forward(w http.ResponseWriter, r *http.Request, edit func(map[string]any)) {
	p := httputil.NewSingleHostReverseProxy(f.moto)
	if edit != nil {
		p.ModifyResponse = func(resp *http.Response) error {
			if resp.StatusCode != http.StatusOK {
				return nil
			}
			raw, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				return err
			}
			var body map[string]any
			if err := json.Unmarshal(raw, &body); err == nil {
				edit(body)
				if out, err := json.Marshal(body); err == nil {
					raw = out
				}
			}
			resp.Body = io.NopCloser(bytes.NewReader(raw))
			resp.ContentLength = int64(len(raw))
			resp.Header.Set("Content-Length", fmt.Sprint(len(raw)))
			return nil
		}
	}
	p.ServeHTTP(w, r)
}

// epoch renders a time as the EKS wire format's epoch seconds.
func epoch(t time.Time) float64 { return float64(t.Unix()) }
