package deploy

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// unscopedActions are the IAM actions the template grants on Resource "*"
// because AWS defines no resource for them: ECR's registry login and EC2's
// Describe calls that Lambda's Kafka pollers make. Any other action must
// name its resources.
var unscopedActions = map[string]bool{
	"ecr:GetAuthorizationToken":     true,
	"ec2:DescribeVpcs":              true,
	"ec2:DescribeSubnets":           true,
	"ec2:DescribeSecurityGroups":    true,
	"ec2:DescribeNetworkInterfaces": true,
}

// scopeProblems lists the template's grants that are broader than a
// scoped resource allows: an action with a resource of its own on "*",
// and ECR pull actions on anything but the image's repository
// (CoordinatorImageRepositoryArn) or outside the coordinator's
// execution role.
func scopeProblems(t *testing.T, tmpl map[string]any) []string {
	t.Helper()
	var problems []string
	for _, st := range allowStatements(t, tmpl) {
		star := slices.ContainsFunc(st.resources, func(r any) bool { return r == "*" })
		for _, a := range st.actions {
			if star && !unscopedActions[a] {
				problems = append(problems, fmt.Sprintf("%s: %s on \"*\"", st.where, a))
			}
			if !strings.HasPrefix(a, "ecr:") {
				continue
			}
			if st.owner != "CoordinatorExecutionRole" {
				problems = append(problems, fmt.Sprintf("%s: %s outside the coordinator's execution role", st.where, a))
			}
			if a == "ecr:GetAuthorizationToken" {
				continue
			}
			for _, r := range st.resources {
				if jsonString(r) != jsonString(ref("CoordinatorImageRepositoryArn")) {
					problems = append(problems, fmt.Sprintf("%s: %s on %s, want the image's repository (CoordinatorImageRepositoryArn)", st.where, a, jsonString(r)))
				}
			}
		}
	}
	return problems
}

// TestTemplateScopedResources: no grant on "*" where the action takes a
// resource; the ECR pull is scoped to the image's repository. The check
// must catch the template as it was (ECR pull actions on "*").
func TestTemplateScopedResources(t *testing.T) {
	tmpl := loadTemplate(t, templatePath)
	if p := scopeProblems(t, tmpl); len(p) > 0 {
		t.Errorf("template.yaml grants more than its resources need:\n%s", strings.Join(p, "\n"))
	}
	pull := false
	for _, st := range statementsOf(allowStatements(t, tmpl), "CoordinatorExecutionRole") {
		pull = pull || slices.Contains(st.actions, "ecr:BatchGetImage")
	}
	if !pull {
		t.Error("CoordinatorExecutionRole cannot pull the image (ecr:BatchGetImage) even with CoordinatorImageRepositoryArn set")
	}

	broad := loadTemplate(t, templatePath)
	stmts := at(broad, "Resources", "CoordinatorExecutionRole", "Properties", "Policies", "0", "PolicyDocument", "Statement").([]any)
	stmts = append(stmts, map[string]any{"Effect": "Allow", "Action": []any{"ecr:GetAuthorizationToken", "ecr:BatchGetImage"}, "Resource": "*"})
	at(broad, "Resources", "CoordinatorExecutionRole", "Properties", "Policies", "0", "PolicyDocument").(map[string]any)["Statement"] = stmts
	if p := scopeProblems(t, broad); len(p) != 2 {
		t.Errorf("ECR pull on \"*\": problems %q, want two (on \"*\", not the repository)", p)
	}
}

// TestTemplateConfigProvidersAllowOnlyTheirSecrets: the config providers
// the functions get read the Schema Registry URL variable and the
// registry's secret, nothing else (providers deny by default; this checks
// the template allows no more).
func TestTemplateConfigProvidersAllowOnlyTheirSecrets(t *testing.T) {
	tmpl := loadTemplate(t, templatePath)
	settings := map[string]any{}
	for _, fn := range []string{"SourcePollFunction", "SinkBatchFunction"} {
		settings[fn] = at(tmpl, "Resources", fn, "Properties", "Environment", "Variables", "SLUICE_CONFIG_PROVIDERS")
	}
	// The coordinator checks connector configurations against the same
	// providers, so that the references the functions resolve are
	// accepted.
	for _, e := range expandIf(at(tmpl, "Resources", "CoordinatorTaskDefinition", "Properties", "ContainerDefinitions", "0", "Environment")) {
		if at(e, "Name") == "SLUICE_CONFIG_PROVIDERS" {
			settings["CoordinatorTaskDefinition"] = at(e, "Value")
		}
	}
	if settings["CoordinatorTaskDefinition"] == nil {
		t.Errorf("the coordinator has no SLUICE_CONFIG_PROVIDERS: it would refuse every connector configuration referencing the functions' providers")
	}
	if c, f := jsonString(settings["CoordinatorTaskDefinition"]), jsonString(expandIf([]any{settings["SinkBatchFunction"]})[0]); c != f {
		t.Errorf("the coordinator's SLUICE_CONFIG_PROVIDERS %s differs from the functions' %s", c, f)
	}
	for fn, v := range settings {
		branches := expandIf([]any{v})
		if len(branches) != 1 {
			t.Fatalf("%s: SLUICE_CONFIG_PROVIDERS = %s, want one value under a condition", fn, jsonString(v))
		}
		sub, _ := at(branches[0], "Fn::Sub").(string)
		props := map[string]string{}
		for _, kv := range strings.Split(sub, ";") {
			k, val, _ := strings.Cut(kv, "=")
			props[k] = val
		}
		want := map[string]string{
			"config.providers.env.param.allowlist.pattern":           "SCHEMA_REGISTRY_URL",
			"config.providers.secretsmanager.param.allowed.prefixes": "${SchemaRegistryCredentialsSecretArn}",
		}
		for k, w := range want {
			if props[k] != w {
				t.Errorf("%s: %s = %q, want %q", fn, k, props[k], w)
			}
		}
		if props["config.providers"] != "env,secretsmanager" {
			t.Errorf("%s: config.providers = %q", fn, props["config.providers"])
		}
	}
}
