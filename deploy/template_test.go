package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

const templatePath = "../template.yaml"

// The template is checked with AWS's own tools, from PyPI in a virtualenv
// that `make samtools` keeps under $HOME/.cache/sluice/samtools (or
// $SLUICE_SAMTOOLS): `sam validate` (SAM's translator and its bundled
// schema), `sam validate --lint` and `cfn-lint` (the SAM transform, then
// CloudFormation's resource schemas bundled with cfn-lint).

// samTools is the virtualenv's bin folder, failing (never skipping) when
// the tools are missing: the template must not go unvalidated.
func samTools(t *testing.T) string {
	t.Helper()
	venv := os.Getenv("SLUICE_SAMTOOLS")
	if venv == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			t.Fatal(err)
		}
		venv = filepath.Join(home, ".cache", "sluice", "samtools")
	}
	bin := filepath.Join(venv, "bin")
	for _, tool := range []string{"sam", "cfn-lint"} {
		if _, err := os.Stat(filepath.Join(bin, tool)); err != nil {
			t.Fatalf("%s is not installed in %s: run `make samtools` (aws-sam-cli and cfn-lint from PyPI): %v", tool, venv, err)
		}
	}
	return bin
}

// samChecks are the commands that validate a template file.
var samChecks = []struct {
	name string
	args func(path string) []string
}{
	{"sam validate", func(path string) []string { return []string{"sam", "validate", "--template", path} }},
	{"sam validate --lint", func(path string) []string { return []string{"sam", "validate", "--lint", "--template", path} }},
	{"cfn-lint", func(path string) []string { return []string{"cfn-lint", "--", path} }},
}

// runSAMCheck runs one check on the template at path and returns its
// output and whether it passed.
func runSAMCheck(t *testing.T, bin string, args []string) (string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(bin, args[0]), args[1:]...)
	// No AWS account is needed: sam validate only translates and lints.
	cmd.Env = append(os.Environ(), "SAM_CLI_TELEMETRY=0", "AWS_DEFAULT_REGION=us-east-1", "AWS_REGION=us-east-1")
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%s: timed out\n%s", strings.Join(args, " "), out)
	}
	return string(out), err == nil
}

func TestTemplateValidatesWithSAMAndCfnLint(t *testing.T) {
	bin := samTools(t)
	path, err := filepath.Abs(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range samChecks {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if out, ok := runSAMCheck(t, bin, c.args(path)); !ok {
				t.Errorf("template.yaml fails %s:\n%s", c.name, out)
			}
		})
	}
}

// The checks must be able to fail: a misspelt function property is
// rejected by sam validate and by cfn-lint, a function event of an unknown
// type by sam validate (cfn-lint lets the SAM transform's error pass).
func TestTemplateChecksRejectBrokenTemplates(t *testing.T) {
	bin := samTools(t)
	tests := []struct {
		name   string
		mutate func(m map[string]any)
		checks []int // indexes in samChecks
	}{
		{"unknown function property", func(m map[string]any) {
			at(m, "Resources", "SourcePollFunction", "Properties").(map[string]any)["Runtimes"] = "provided.al2023"
		}, []int{0, 2}},
		{"unknown event type", func(m map[string]any) {
			at(m, "Resources", "SinkBatchFunction", "Properties", "Events", "ScheduledExport").(map[string]any)["Type"] = "Cron"
		}, []int{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bad := loadTemplate(t, templatePath)
			tt.mutate(bad)
			b, err := json.MarshalIndent(bad, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "template.json")
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			for _, c := range tt.checks {
				if out, ok := runSAMCheck(t, bin, samChecks[c].args(path)); ok {
					t.Errorf("%s accepts it; validation is not effective:\n%s", samChecks[c].name, out)
				}
			}
		})
	}
}

func TestTemplateParameters(t *testing.T) {
	tmpl := loadTemplate(t, templatePath)
	params, _ := tmpl["Parameters"].(map[string]any)
	for name, typ := range map[string]string{
		"BootstrapServers":        "String",
		"SubnetIds":               "List<AWS::EC2::Subnet::Id>",
		"SecurityGroupIds":        "List<AWS::EC2::SecurityGroup::Id>",
		"KafkaSaslScramSecretArn": "String",
		"CoordinatorImage":        "String",
		"SourcePollMemorySize":    "Number",
		"SinkBatchMemorySize":     "Number",
		"FunctionTimeout":         "Number",
		"ExportPrefix":            "String",
	} {
		if got := at(params, name, "Type"); got != typ {
			t.Errorf("parameter %s: Type %v, want %s", name, got, typ)
		}
	}
	// Every parameter is used somewhere (cfn-lint W2001).
	rest := jsonString(map[string]any{"Conditions": tmpl["Conditions"], "Resources": tmpl["Resources"], "Outputs": tmpl["Outputs"]})
	for name := range params {
		if !strings.Contains(rest, `"Ref":"`+name+`"`) && !strings.Contains(rest, "${"+name+"}") {
			t.Errorf("parameter %s is not used", name)
		}
	}
}

func TestTemplateFunctions(t *testing.T) {
	tmpl := loadTemplate(t, templatePath)
	for _, name := range []string{"SourcePollFunction", "SinkBatchFunction"} {
		t.Run(name, func(t *testing.T) {
			fn := resource(t, tmpl, name, "AWS::Serverless::Function")
			props := at(fn, "Properties")
			for key, want := range map[string]any{
				"Runtime":       "provided.al2023",
				"Handler":       "bootstrap",
				"CodeUri":       ".",
				"Architectures": []any{"arm64"},
				"VpcConfig":     map[string]any{"SubnetIds": ref("SubnetIds"), "SecurityGroupIds": ref("SecurityGroupIds")},
			} {
				if got := at(props, key); jsonString(got) != jsonString(want) {
					t.Errorf("%s = %s, want %s", key, jsonString(got), jsonString(want))
				}
			}
			if got := at(fn, "Metadata", "BuildMethod"); got != "makefile" {
				t.Errorf("Metadata.BuildMethod = %v, want makefile", got)
			}
			for _, key := range []string{"MemorySize", "Timeout"} {
				if _, isRef := at(props, key).(map[string]any); !isRef {
					t.Errorf("%s = %v, want a parameter reference", key, at(props, key))
				}
			}
			if lg, ok := at(props, "LoggingConfig", "LogGroup").(map[string]any); !ok {
				t.Error("LoggingConfig.LogGroup is not set: logs would go to a group without retention")
			} else {
				resource(t, tmpl, lg["Ref"].(string), "AWS::Logs::LogGroup")
			}
			env, _ := at(props, "Environment", "Variables").(map[string]any)
			if got := env["SLUICE_BOOTSTRAP_SERVERS"]; jsonString(got) != jsonString(ref("BootstrapServers")) {
				t.Errorf("SLUICE_BOOTSTRAP_SERVERS = %s, want !Ref BootstrapServers", jsonString(got))
			}
		})
	}

	sink := resource(t, tmpl, "SinkBatchFunction", "AWS::Serverless::Function")
	var schedules int
	for name, ev := range at(sink, "Properties", "Events").(map[string]any) {
		switch at(ev, "Type") {
		case "Schedule", "ScheduleV2":
			schedules++
			checkExportInput(t, name, at(ev, "Properties", "Input"))
		}
	}
	if schedules == 0 {
		t.Error("SinkBatchFunction has no schedule event (the scheduled export example)")
	}
}

// checkExportInput checks a schedule's input is an export request:
// {"connector": "...", "until": "now"}.
func checkExportInput(t *testing.T, event string, input any) {
	t.Helper()
	s, ok := input.(string)
	if !ok {
		sub, _ := at(input, "Fn::Sub").(string)
		s = regexp.MustCompile(`\$\{[^}]+\}`).ReplaceAllString(sub, "x")
	}
	var req map[string]any
	if err := json.Unmarshal([]byte(s), &req); err != nil {
		t.Errorf("event %s: Input %s is not JSON: %v", event, jsonString(input), err)
		return
	}
	if req["until"] != "now" || req["connector"] == nil || len(req) != 2 {
		t.Errorf("event %s: Input %s, want {\"connector\": ..., \"until\": \"now\"}", event, jsonString(input))
	}
}

func TestTemplateKafkaEventSourceDisabled(t *testing.T) {
	tmpl := loadTemplate(t, templatePath)
	var found int
	for name, r := range at(tmpl, "Resources").(map[string]any) {
		if at(r, "Type") == "AWS::Lambda::EventSourceMapping" {
			found++
			if at(r, "Properties", "Enabled") != false {
				t.Errorf("%s: Enabled = %v, want false (an example, off by default)", name, at(r, "Properties", "Enabled"))
			}
			if jsonString(at(r, "Properties", "FunctionName")) != jsonString(ref("SinkBatchFunction")) {
				t.Errorf("%s: FunctionName = %s, want !Ref SinkBatchFunction", name, jsonString(at(r, "Properties", "FunctionName")))
			}
			types := map[string]bool{}
			for _, c := range list(at(r, "Properties", "SourceAccessConfigurations")) {
				if typ, ok := at(c, "Type").(string); ok {
					types[typ] = true
				}
			}
			reports := slices.Contains(list(at(r, "Properties", "FunctionResponseTypes")), any("ReportBatchItemFailures"))
			fn, _ := at(r, "Properties", "FunctionName", "Ref").(string)
			if env := at(tmpl, "Resources", fn, "Properties", "Environment", "Variables", "SLUICE_REPORT_BATCH_ITEM_FAILURES"); (env == "true") != reports {
				t.Errorf("%s: FunctionResponseTypes ReportBatchItemFailures is %v but %s sets SLUICE_REPORT_BATCH_ITEM_FAILURES=%v", name, reports, fn, env)
			}
			if !types["VPC_SUBNET"] || !types["VPC_SECURITY_GROUP"] {
				t.Errorf("%s: SourceAccessConfigurations lack VPC_SUBNET/VPC_SECURITY_GROUP: %s", name, jsonString(at(r, "Properties", "SourceAccessConfigurations")))
			}
		}
	}
	for name, ev := range at(tmpl, "Resources", "SinkBatchFunction", "Properties", "Events").(map[string]any) {
		if typ := at(ev, "Type"); typ == "MSK" || typ == "SelfManagedKafka" {
			found++
			if at(ev, "Properties", "Enabled") != false {
				t.Errorf("event %s: Enabled = %v, want false", name, at(ev, "Properties", "Enabled"))
			}
		}
	}
	if found == 0 {
		t.Error("no Kafka event source mapping example")
	}
}

func TestTemplateExportBucket(t *testing.T) {
	tmpl := loadTemplate(t, templatePath)
	b := resource(t, tmpl, "ExportBucket", "AWS::S3::Bucket")
	if at(b, "Properties", "BucketEncryption", "ServerSideEncryptionConfiguration", "0", "ServerSideEncryptionByDefault", "SSEAlgorithm") == nil {
		t.Error("ExportBucket has no default encryption")
	}
	for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
		if at(b, "Properties", "PublicAccessBlockConfiguration", k) != true {
			t.Errorf("ExportBucket: PublicAccessBlockConfiguration.%s is not true", k)
		}
	}
}

func TestTemplateCoordinator(t *testing.T) {
	tmpl := loadTemplate(t, templatePath)
	resource(t, tmpl, "CoordinatorCluster", "AWS::ECS::Cluster")
	td := resource(t, tmpl, "CoordinatorTaskDefinition", "AWS::ECS::TaskDefinition")
	props := at(td, "Properties")
	if got := jsonString(at(props, "RequiresCompatibilities")); got != `["FARGATE"]` {
		t.Errorf("RequiresCompatibilities = %s", got)
	}
	if at(props, "NetworkMode") != "awsvpc" {
		t.Errorf("NetworkMode = %v, want awsvpc", at(props, "NetworkMode"))
	}
	if got := jsonString(at(props, "TaskRoleArn")); got != jsonString(getAtt("CoordinatorTaskRole", "Arn")) {
		t.Errorf("TaskRoleArn = %s, want !GetAtt CoordinatorTaskRole.Arn", got)
	}
	containers := list(at(props, "ContainerDefinitions"))
	if len(containers) != 1 {
		t.Fatalf("%d containers, want 1", len(containers))
	}
	c := containers[0]
	for key, want := range map[string]any{
		"Image":                                  ref("CoordinatorImage"),
		"Command":                                []any{"coordinator"},
		"PortMappings/0/ContainerPort":           8083.0,
		"LogConfiguration/LogDriver":             "awslogs",
		"LogConfiguration/Options/awslogs-group": ref("CoordinatorLogGroup"),
	} {
		if got := at(c, strings.Split(key, "/")...); jsonString(got) != jsonString(want) {
			t.Errorf("container %s = %s, want %s", key, jsonString(got), jsonString(want))
		}
	}
	resource(t, tmpl, "CoordinatorLogGroup", "AWS::Logs::LogGroup")
	if hc := list(at(c, "HealthCheck", "Command")); len(hc) < 2 || hc[0] != "CMD" {
		t.Errorf("container HealthCheck.Command = %s, want [CMD, ...] (the image has no shell)", jsonString(hc))
	}

	env := map[string]any{}
	for _, e := range expandIf(at(c, "Environment")) { // conditional entries under both branches
		env[at(e, "Name").(string)] = at(e, "Value")
	}
	for name, want := range map[string]any{
		"SLUICE_INVOKER":                "lambda",
		"SLUICE_LAMBDA_SOURCE_FUNCTION": ref("SourcePollFunction"),
		"SLUICE_LAMBDA_SINK_FUNCTION":   ref("SinkBatchFunction"),
		"SLUICE_BOOTSTRAP_SERVERS":      ref("BootstrapServers"),
	} {
		if jsonString(env[name]) != jsonString(want) {
			t.Errorf("container env %s = %s, want %s", name, jsonString(env[name]), jsonString(want))
		}
	}

	svc := resource(t, tmpl, "CoordinatorService", "AWS::ECS::Service")
	if at(svc, "Properties", "LaunchType") != "FARGATE" {
		t.Errorf("CoordinatorService LaunchType = %v, want FARGATE", at(svc, "Properties", "LaunchType"))
	}
	for key, want := range map[string]any{"Subnets": ref("SubnetIds"), "SecurityGroups": ref("SecurityGroupIds")} {
		if got := at(svc, "Properties", "NetworkConfiguration", "AwsvpcConfiguration", key); jsonString(got) != jsonString(want) {
			t.Errorf("CoordinatorService %s = %s, want %s", key, jsonString(got), jsonString(want))
		}
	}
}

// TestTemplateEnvironmentMatchesBinaries checks every SLUICE_* variable the
// template sets is one the binary documents in --help (a renamed variable
// would otherwise be silently ignored), and that each variable a binary
// requires is set.
func TestTemplateEnvironmentMatchesBinaries(t *testing.T) {
	tmpl := loadTemplate(t, templatePath)
	bins := hostBinaries(t)
	check := func(what, binary string, env map[string]bool) {
		t.Helper()
		known := helpVariables(t, bins[binary])
		for name := range env {
			if strings.HasPrefix(name, "SLUICE_") && !known[name] {
				t.Errorf("%s sets %s, which %s --help does not list", what, name, binary)
			}
		}
		if !env["SLUICE_BOOTSTRAP_SERVERS"] {
			t.Errorf("%s does not set SLUICE_BOOTSTRAP_SERVERS", what)
		}
	}
	for fn, binary := range map[string]string{"SourcePollFunction": "source-poll", "SinkBatchFunction": "sink-batch"} {
		env := map[string]bool{}
		for name := range at(tmpl, "Resources", fn, "Properties", "Environment", "Variables").(map[string]any) {
			env[name] = true
		}
		check(fn, binary, env)
	}
	env := map[string]bool{}
	container := at(tmpl, "Resources", "CoordinatorTaskDefinition", "Properties", "ContainerDefinitions", "0")
	for _, e := range append(expandIf(at(container, "Environment")), expandIf(at(container, "Secrets"))...) {
		env[at(e, "Name").(string)] = true
	}
	check("CoordinatorTaskDefinition", "coordinator", env)
}

// TestTemplateLeastPrivilege checks the IAM policies: the coordinator may
// invoke exactly the two functions; the sink writes only under its prefix
// of the export bucket; no write action anywhere is allowed on "*".
func TestTemplateLeastPrivilege(t *testing.T) {
	tmpl := loadTemplate(t, templatePath)
	all := allowStatements(t, tmpl)
	if len(all) == 0 {
		t.Fatal("no IAM policy statements found")
	}
	for _, st := range all {
		for _, a := range st.actions {
			if strings.Contains(a, "*") {
				t.Errorf("%s: wildcard action %q", st.where, a)
			}
			if !isReadAction(a) && slices.ContainsFunc(st.resources, func(r any) bool { return r == "*" }) {
				t.Errorf("%s: write action %s on Resource \"*\"", st.where, a)
			}
		}
	}

	// Kafka permissions (MSK IAM access control, when MskClusterArn is
	// set): kafka-cluster actions only, on the cluster and on the topics and
	// groups of that cluster, never on "*".
	clusterPart := map[string]any{"Fn::Select": []any{1, map[string]any{"Fn::Split": []any{":cluster/", ref("MskClusterArn")}}}}
	kafkaResources := map[string]bool{
		jsonString(ref("MskClusterArn")): true,
		jsonString(map[string]any{"Fn::Sub": []any{"arn:${AWS::Partition}:kafka:${AWS::Region}:${AWS::AccountId}:topic/${Cluster}/*", map[string]any{"Cluster": clusterPart}}}): true,
		jsonString(map[string]any{"Fn::Sub": []any{"arn:${AWS::Partition}:kafka:${AWS::Region}:${AWS::AccountId}:group/${Cluster}/*", map[string]any{"Cluster": clusterPart}}}): true,
	}
	iamOwners := map[string]bool{}
	for _, st := range all {
		for _, a := range st.actions {
			if !strings.HasPrefix(a, "kafka-cluster:") {
				continue
			}
			iamOwners[st.owner] = true
			for _, r := range st.resources {
				if !kafkaResources[jsonString(r)] {
					t.Errorf("%s: %s on %s, want the MskClusterArn cluster, its topics or its groups", st.where, a, jsonString(r))
				}
			}
		}
	}
	for _, owner := range []string{"SourcePollFunction", "SinkBatchFunction", "CoordinatorTaskRole"} {
		if !iamOwners[owner] {
			t.Errorf("%s has no MSK IAM (kafka-cluster) permissions", owner)
		}
	}

	// The coordinator's task role: lambda:InvokeFunction on exactly the
	// two functions; besides, only the Kafka permissions above.
	var task []statement
	for _, st := range statementsOf(all, "CoordinatorTaskRole") {
		if !slices.ContainsFunc(st.actions, func(a string) bool { return strings.HasPrefix(a, "kafka-cluster:") }) {
			task = append(task, st)
		}
	}
	if len(task) != 1 {
		t.Fatalf("CoordinatorTaskRole has %d statements besides Kafka's, want 1 (lambda:InvokeFunction)", len(task))
	}
	if got := strings.Join(task[0].actions, ","); got != "lambda:InvokeFunction" {
		t.Errorf("CoordinatorTaskRole actions = %s, want lambda:InvokeFunction", got)
	}
	if got, want := sortedJSON(task[0].resources), sortedJSON([]any{getAtt("SourcePollFunction", "Arn"), getAtt("SinkBatchFunction", "Arn")}); got != want {
		t.Errorf("CoordinatorTaskRole may invoke %s, want exactly %s", got, want)
	}
	if at(tmpl, "Resources", "CoordinatorTaskRole", "Properties", "ManagedPolicyArns") != nil {
		t.Error("CoordinatorTaskRole has managed policies")
	}

	// The sink's S3 permissions: object writes under the prefix, listing
	// limited to the prefix, nothing else on S3.
	objects := regexp.MustCompile(`^arn:(aws|\$\{AWS::Partition\}):s3:::\$\{ExportBucket\}/\$\{ExportPrefix\}\*$`)
	bucket := regexp.MustCompile(`^arn:(aws|\$\{AWS::Partition\}):s3:::\$\{ExportBucket\}$`)
	var s3Actions []string
	for _, st := range statementsOf(all, "SinkBatchFunction") {
		for _, a := range st.actions {
			if !strings.HasPrefix(a, "s3:") {
				continue
			}
			s3Actions = append(s3Actions, a)
			want := objects
			if a == "s3:ListBucket" {
				want = bucket
				cond := at(st.condition, "StringLike", "s3:prefix")
				if jsonString(cond) != jsonString(map[string]any{"Fn::Sub": "${ExportPrefix}*"}) {
					t.Errorf("s3:ListBucket condition s3:prefix = %s, want !Sub ${ExportPrefix}*", jsonString(cond))
				}
			}
			for _, r := range st.resources {
				if sub, _ := at(r, "Fn::Sub").(string); !want.MatchString(sub) {
					t.Errorf("SinkBatchFunction %s on %s, want !Sub %s", a, jsonString(r), want)
				}
			}
		}
	}
	sort.Strings(s3Actions)
	if got := strings.Join(s3Actions, " "); got != "s3:AbortMultipartUpload s3:ListBucket s3:ListMultipartUploadParts s3:PutObject" {
		t.Errorf("SinkBatchFunction S3 actions = %s", got)
	}
	for _, st := range statementsOf(all, "SourcePollFunction") {
		for _, a := range st.actions {
			if strings.HasPrefix(a, "s3:") {
				t.Errorf("SourcePollFunction may %s", a)
			}
		}
	}
	// Both functions use inline statements only: no SAM policy templates
	// or managed policies beyond what SAM adds for VpcConfig.
	for _, fn := range []string{"SourcePollFunction", "SinkBatchFunction"} {
		for _, p := range expandIf(at(tmpl, "Resources", fn, "Properties", "Policies")) {
			if _, inline := at(p, "Statement").([]any); !inline {
				t.Errorf("%s: policy %s is not an inline statement list", fn, jsonString(p))
			}
		}
	}
}

// statement is one Allow statement of an IAM policy in the template.
type statement struct {
	where     string // Resource logical id and policy
	owner     string // Resource logical id
	actions   []string
	resources []any
	condition any
}

// allowStatements collects the Allow statements of every identity policy
// in the template (functions' Policies, roles' Policies, IAM policies),
// with both branches of each Fn::If.
func allowStatements(t *testing.T, tmpl map[string]any) []statement {
	t.Helper()
	var out []statement
	add := func(owner, where string, doc any) {
		for _, s := range expandIf(at(doc, "Statement")) {
			if at(s, "NotAction") != nil || at(s, "NotResource") != nil {
				t.Errorf("%s: NotAction/NotResource: %s", where, jsonString(s))
			}
			if at(s, "Effect") != "Allow" {
				continue
			}
			st := statement{where: where, owner: owner, condition: at(s, "Condition"), resources: expandIf(at(s, "Resource"))}
			for _, a := range list(at(s, "Action")) {
				st.actions = append(st.actions, fmt.Sprint(a))
			}
			out = append(out, st)
		}
	}
	for id, r := range at(tmpl, "Resources").(map[string]any) {
		switch at(r, "Type") {
		case "AWS::Serverless::Function":
			for i, p := range expandIf(at(r, "Properties", "Policies")) {
				add(id, fmt.Sprintf("%s Policies[%d]", id, i), p)
			}
		case "AWS::IAM::Role":
			for i, p := range expandIf(at(r, "Properties", "Policies")) {
				add(id, fmt.Sprintf("%s Policies[%d]", id, i), at(p, "PolicyDocument"))
			}
		case "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy":
			add(id, id, at(r, "Properties", "PolicyDocument"))
		}
	}
	return out
}

// expandIf returns the elements of a list, replacing each Fn::If by both
// of its branches and dropping AWS::NoValue.
func expandIf(v any) []any {
	var out []any
	for _, x := range list(v) {
		if args, ok := at(x, "Fn::If").([]any); ok && len(args) == 3 {
			out = append(out, expandIf(args[1])...)
			out = append(out, expandIf(args[2])...)
			continue
		}
		if jsonString(x) == jsonString(ref("AWS::NoValue")) {
			continue
		}
		out = append(out, x)
	}
	return out
}

func statementsOf(all []statement, owner string) []statement {
	var out []statement
	for _, st := range all {
		if st.owner == owner {
			out = append(out, st)
		}
	}
	return out
}

// isReadAction reports an IAM action that reads (Get*, List*, Describe*,
// BatchGet*, BatchCheck*).
func isReadAction(action string) bool {
	_, verb, _ := strings.Cut(action, ":")
	for _, p := range []string{"Get", "List", "Describe", "BatchGet", "BatchCheck"} {
		if strings.HasPrefix(verb, p) {
			return true
		}
	}
	return false
}

func sortedJSON(vs []any) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = jsonString(v)
	}
	sort.Strings(s)
	return "[" + strings.Join(s, ",") + "]"
}

// resource returns a template resource, failing unless it has the type.
func resource(t *testing.T, tmpl map[string]any, id, typ string) any {
	t.Helper()
	r := at(tmpl, "Resources", id)
	if r == nil {
		t.Fatalf("resource %s is missing", id)
	}
	if got := at(r, "Type"); got != typ {
		t.Fatalf("resource %s is %v, want %s", id, got, typ)
	}
	return r
}
