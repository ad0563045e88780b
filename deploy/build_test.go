package deploy

import (
	"archive/zip"
	"bufio"
	"context"
	"debug/elf"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// repoRoot is where the Dockerfile's and the Makefile's commands run.
const repoRoot = ".."

// sizeTarget is the most a default (sluice.slim) bootstrap may weigh.
const sizeTarget = 20 << 20

// dockerfile is what the tests read from the Dockerfile.
type dockerfile struct {
	args        map[string]string // ARG defaults
	env         map[string]string // ENV of the build stage, unexpanded
	builds      [][]string        // the RUN go build commands, as arguments
	final       []string          // instructions of the last stage
	healthcheck []string          // HEALTHCHECK CMD, exec form
}

func readDockerfile(t *testing.T) dockerfile {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := dockerfile{args: map[string]string{}, env: map[string]string{}}
	var lines []string
	var cont strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			cont.WriteString(strings.TrimSuffix(line, `\`) + " ")
			continue
		}
		cont.WriteString(line)
		lines = append(lines, cont.String())
		cont.Reset()
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for _, line := range lines {
		instr, rest, _ := strings.Cut(line, " ")
		switch strings.ToUpper(instr) {
		case "FROM":
			d.final = nil
		case "ARG":
			for _, a := range strings.Fields(rest) {
				k, v, _ := strings.Cut(a, "=")
				d.args[k] = v
			}
		case "ENV":
			for _, a := range shellWords(t, rest) {
				k, v, _ := strings.Cut(a, "=")
				d.env[k] = v
			}
		case "RUN":
			if words := shellWords(t, rest); len(words) > 2 && words[0] == "go" && words[1] == "build" {
				d.builds = append(d.builds, words)
			}
		case "HEALTHCHECK":
			if _, cmd, ok := strings.Cut(rest, "CMD "); ok {
				d.healthcheck = shellWords(t, strings.NewReplacer("[", "", "]", "", ",", " ").Replace(cmd))
			}
		}
		d.final = append(d.final, line)
	}
	return d
}

// shellWords splits a command line as sh would for the simple quoting the
// Dockerfile uses ("..." and '...').
func shellWords(t *testing.T, s string) []string {
	t.Helper()
	var words []string
	var w strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			w.WriteRune(r)
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		t.Fatalf("unbalanced quote in %q", s)
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}

var dockerVar = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)

// expand substitutes ARG and ENV values as the Dockerfile's build stage sees them.
func expand(s string, vars map[string]string) string {
	return dockerVar.ReplaceAllStringFunc(s, func(m string) string {
		return vars[dockerVar.FindStringSubmatch(m)[1]]
	})
}

// buildAsDockerfile runs the Dockerfile's go build commands for one
// platform and returns the binaries by name.
func buildAsDockerfile(t *testing.T, d dockerfile, goos, goarch string) map[string]string {
	t.Helper()
	vars := map[string]string{}
	for k, v := range d.args {
		vars[k] = v
	}
	vars["TARGETOS"], vars["TARGETARCH"] = goos, goarch
	env := os.Environ()
	for k, v := range d.env {
		env = append(env, k+"="+expand(v, vars))
	}
	out := t.TempDir()
	bins := map[string]string{}
	for _, words := range d.builds {
		args := make([]string, len(words)-1)
		for i, w := range words[1:] {
			args[i] = expand(w, vars)
		}
		i := slices.Index(args, "-o")
		if i < 0 || i+1 >= len(args) {
			t.Fatalf("Dockerfile: %s has no -o", strings.Join(words, " "))
		}
		name := filepath.Base(args[i+1])
		args[i+1] = filepath.Join(out, name)
		cmd := exec.Command("go", args...)
		cmd.Dir, cmd.Env = repoRoot, env
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s/%s: go %s: %v\n%s", goos, goarch, strings.Join(args, " "), err, b)
		}
		bins[name] = args[i+1]
	}
	return bins
}

// checkStaticELF fails unless path is a stripped, statically linked Linux
// executable for machine, and returns its size.
func checkStaticELF(t *testing.T, path string, machine elf.Machine) int64 {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("%s: not an ELF file: %v", path, err)
	}
	defer f.Close()
	if f.Machine != machine || f.Class != elf.ELFCLASS64 || f.Type != elf.ET_EXEC {
		t.Errorf("%s: %v %v %v, want %v ELFCLASS64 ET_EXEC", path, f.Machine, f.Class, f.Type, machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("%s: has %v: dynamically linked (CGO_ENABLED=0 missing?)", path, p.Type)
		}
	}
	if f.Section(".dynamic") != nil || f.Section(".interp") != nil {
		t.Errorf("%s: has a .dynamic or .interp section", path)
	}
	if f.Section(".symtab") != nil {
		t.Errorf("%s: has a symbol table (-ldflags -s missing?)", path)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

var machines = map[string]elf.Machine{"arm64": elf.EM_AARCH64, "amd64": elf.EM_X86_64}

// TestDockerfileBuild builds the image's binaries with the Dockerfile's own
// commands (there is no Docker engine here) for both architectures and
// checks each is a static executable.
func TestDockerfileBuild(t *testing.T) {
	d := readDockerfile(t)
	if d.env["CGO_ENABLED"] != "0" {
		t.Errorf("Dockerfile build stage: ENV CGO_ENABLED=%q, want 0", d.env["CGO_ENABLED"])
	}
	var names []string
	for _, b := range d.builds {
		names = append(names, filepath.Base(b[slices.Index(b, "-o")+1]))
	}
	if got := strings.Join(names, " "); got != "coordinator source-poll sink-batch" {
		t.Fatalf("Dockerfile builds %q, want coordinator source-poll sink-batch", got)
	}
	for _, arch := range []string{"arm64", "amd64"} {
		t.Run("linux-"+arch, func(t *testing.T) {
			t.Parallel()
			bins := buildAsDockerfile(t, d, "linux", arch)
			for _, name := range names {
				size := checkStaticELF(t, bins[name], machines[arch])
				t.Logf("linux/%s %-12s %6.2f MB (%d bytes)", arch, name, float64(size)/(1<<20), size)
			}
		})
	}
}

// TestDockerfileRuntimeImage checks the runtime stage: distroless (or
// scratch), the three binaries in /usr/local/bin, non-root, port 8083, a
// health check in exec form (there is no shell), the coordinator by default.
func TestDockerfileRuntimeImage(t *testing.T) {
	d := readDockerfile(t)
	final := strings.Join(d.final, "\n")
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^FROM (gcr\.io/distroless/static-debian12:nonroot@sha256:[0-9a-f]{64}|scratch)$`),
		regexp.MustCompile(`(?m)^COPY --from=build .*/coordinator .*/source-poll .*/sink-batch /usr/local/bin/$`),
		regexp.MustCompile(`(?m)^USER (nonroot|65532)`),
		regexp.MustCompile(`(?m)^EXPOSE 8083$`),
		regexp.MustCompile(`(?m)^HEALTHCHECK .*CMD \[`),
		regexp.MustCompile(`(?m)^CMD \["coordinator"\]$`),
	} {
		if !want.MatchString(final) {
			t.Errorf("Dockerfile's last stage has no line matching %s", want)
		}
	}
	if strings.Contains(final, "ENTRYPOINT") {
		t.Error("an ENTRYPOINT would stop the command from choosing the role")
	}
	// ECS ignores the image's HEALTHCHECK: the task definition must run the
	// same command.
	tmpl := loadTemplate(t, templatePath)
	ecs := list(at(tmpl, "Resources", "CoordinatorTaskDefinition", "Properties", "ContainerDefinitions", "0", "HealthCheck", "Command"))
	if got, want := jsonString(ecs), jsonString(append([]any{"CMD"}, anySlice(d.healthcheck)...)); got != want {
		t.Errorf("ECS health check %s, Dockerfile HEALTHCHECK %s: want the same command", got, want)
	}
}

// TestCoordinatorHealthCheck runs the image's HEALTHCHECK command against a
// stand-in coordinator's GET /health: it must exit 0 when healthy and
// non-zero otherwise.
func TestCoordinatorHealthCheck(t *testing.T) {
	hc := readDockerfile(t).healthcheck
	if len(hc) == 0 || filepath.Base(hc[0]) != "coordinator" {
		t.Fatalf("HEALTHCHECK %q does not run the coordinator binary", hc)
	}
	coordinator := hostBinaries(t)["coordinator"]
	for _, tt := range []struct {
		name    string
		status  int
		healthy bool
	}{
		{"healthy", http.StatusOK, true},
		{"unhealthy", http.StatusInternalServerError, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var asked atomic.Bool
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/health" {
					asked.Store(true)
				}
				w.WriteHeader(tt.status)
				fmt.Fprint(w, `{"status":"healthy","message":"","details":{}}`)
			}))
			defer srv.Close()
			out, err := runBinary([]string{"SLUICE_REST_LISTENER=" + srv.Listener.Addr().String()}, coordinator, hc[1:]...)
			if strings.Contains(string(out), "flag provided but not defined") {
				t.Fatalf("the coordinator has no %s flag, which the Dockerfile's HEALTHCHECK and the ECS task's "+
					"health check run: every coordinator container would be marked unhealthy (and ECS would replace it). "+
					"Wanted: `coordinator --health-check` GETs http://127.0.0.1:<port of SLUICE_REST_LISTENER>/health "+
					"and exits 0 on 200, 1 otherwise.", hc[1])
			}
			if healthy := err == nil; healthy != tt.healthy {
				t.Errorf("%s with /health answering %d: err = %v, want healthy=%v\n%s", strings.Join(hc, " "), tt.status, err, tt.healthy, out)
			}
			if !asked.Load() {
				t.Errorf("%s did not GET /health on SLUICE_REST_LISTENER", strings.Join(hc, " "))
			}
		})
	}
}

// TestMakefileLambdaTargets runs SAM's build targets and make lambda, and
// checks the bootstraps and the zips.
func TestMakefileLambdaTargets(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatal("make is not installed: the Lambda build (sam build, make lambda) needs it")
	}
	for _, target := range []string{"build-SourcePollFunction", "build-SinkBatchFunction"} {
		t.Run(target, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			make := exec.Command("make", "--no-print-directory", target, "ARTIFACTS_DIR="+dir)
			make.Dir = repoRoot
			if out, err := make.CombinedOutput(); err != nil {
				t.Fatalf("make %s: %v\n%s", target, err, out)
			}
			size := checkStaticELF(t, filepath.Join(dir, "bootstrap"), elf.EM_AARCH64)
			t.Logf("%s bootstrap: %.2f MB (%d bytes; target at most %d MB)", target, float64(size)/(1<<20), size, sizeTarget>>20)
			// A size, not a timing: the build is deterministic. Families
			// named in LAMBDA_PLUGINS are the deployer's choice and may go
			// past it; the default build must not.
			if size > sizeTarget && os.Getenv("LAMBDA_PLUGINS") == "" {
				t.Errorf("%s bootstrap is %.2f MB, over %d MB: keep heavy plugin families optional (pkg/plugins/optional)",
					target, float64(size)/(1<<20), sizeTarget>>20)
			}
		})
	}
	t.Run("lambda", func(t *testing.T) {
		t.Parallel()
		dist := t.TempDir()
		make := exec.Command("make", "--no-print-directory", "lambda", "DIST="+dist)
		make.Dir = repoRoot
		if out, err := make.CombinedOutput(); err != nil {
			t.Fatalf("make lambda: %v\n%s", err, out)
		}
		for _, name := range []string{"source-poll", "sink-batch"} {
			path := filepath.Join(dist, name+".zip")
			z, err := zip.OpenReader(path)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if len(z.File) != 1 || z.File[0].Name != "bootstrap" {
				var got []string
				for _, f := range z.File {
					got = append(got, f.Name)
				}
				t.Errorf("%s holds %q, want just bootstrap at the root", path, got)
			} else if mode := z.File[0].Mode(); mode&0o111 == 0 {
				t.Errorf("%s: bootstrap has mode %v, want executable", path, mode)
			}
			st, _ := os.Stat(path)
			t.Logf("%s.zip: %.2f MB", name, float64(st.Size())/(1<<20))
			z.Close()
		}
	})
}

// TestFunctionsKeepDeadCodeElimination links each function as its Lambda
// target does, with the linker's -dumpdep, and fails when a method lookup
// by reflection is reachable (text/template, reflect.Value.Method,
// MethodByName with a name not known at compile time). One such call makes
// the linker keep every exported method of every reachable type: sink-batch
// grows from about 19 MB to over 26 MB. The failure shows the chain of
// references from main to the lookup.
func TestFunctionsKeepDeadCodeElimination(t *testing.T) {
	for _, name := range []string{"source-poll", "sink-batch"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w -dumpdep",
				"-o", filepath.Join(t.TempDir(), "bootstrap"), "./functions/"+name)
			cmd.Dir = repoRoot
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
			var deps strings.Builder
			cmd.Stdout, cmd.Stderr = &deps, &deps
			if err := cmd.Run(); err != nil {
				t.Fatalf("go build %s: %v\n%s", name, err, deps.String()[:min(deps.Len(), 4000)])
			}
			// Lines are "from -> to [<flags>]", in the order the linker
			// reached the symbols; keep the first reference to each.
			from := map[string]string{}
			var lookup string
			for _, line := range strings.Split(deps.String(), "\n") {
				a, b, ok := strings.Cut(line, "-> ")
				if !ok {
					continue
				}
				sym, _, _ := strings.Cut(b, " ")
				parent, _, _ := strings.Cut(a, " ")
				if _, seen := from[sym]; !seen && parent != "" {
					from[sym] = parent
				}
				if lookup == "" && strings.Contains(b, "<ReflectMethod>") {
					lookup = sym
				}
			}
			if lookup == "" {
				return
			}
			chain := []string{lookup}
			for s := lookup; len(chain) < 40; {
				p, ok := from[s]
				if !ok || slices.Contains(chain, p) {
					break
				}
				chain = append(chain, p)
				s = p
			}
			slices.Reverse(chain)
			t.Errorf("%s reaches %s, a method lookup by reflection: the linker keeps every exported method "+
				"of every reachable type. Reached through:\n  %s", name, lookup, strings.Join(chain, "\n  -> "))
		})
	}
}

var (
	hostBinsOnce sync.Once
	hostBins     map[string]string
	hostBinsErr  error
	hostBinsDir  string
)

// hostBinaries builds the three binaries for this machine, once per test
// run, for the tests that run them.
func hostBinaries(t *testing.T) map[string]string {
	t.Helper()
	hostBinsOnce.Do(func() {
		hostBinsDir, hostBinsErr = os.MkdirTemp("", "sluice-deploy-")
		if hostBinsErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", hostBinsDir+string(filepath.Separator),
			"./coordinator/cmd/coordinator", "./functions/source-poll", "./functions/sink-batch")
		cmd.Dir = repoRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			hostBinsErr = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		hostBins = map[string]string{}
		for _, name := range []string{"coordinator", "source-poll", "sink-batch"} {
			p := filepath.Join(hostBinsDir, name)
			if runtime.GOOS == "windows" {
				p += ".exe"
			}
			hostBins[name] = p
		}
	})
	if hostBinsErr != nil {
		t.Fatal(hostBinsErr)
	}
	return hostBins
}

func TestMain(m *testing.M) {
	code := m.Run()
	if hostBinsDir != "" {
		os.RemoveAll(hostBinsDir)
	}
	os.Exit(code)
}

var helpVariable = regexp.MustCompile(`(?m)^\s*(SLUICE_[A-Z0-9_]+)\s`)

// helpVariables returns the SLUICE_* variables a binary lists in --help.
func helpVariables(t *testing.T, binary string) map[string]bool {
	t.Helper()
	out, err := runBinary(nil, binary, "--help")
	if err != nil {
		t.Fatalf("%s --help: %v\n%s", binary, err, out)
	}
	vars := map[string]bool{}
	for _, m := range helpVariable.FindAllStringSubmatch(string(out), -1) {
		vars[m[1]] = true
	}
	if len(vars) == 0 {
		t.Fatalf("%s --help lists no SLUICE_* variables:\n%s", binary, out)
	}
	return vars
}

// runBinary runs a binary with extra environment variables and returns its
// combined output; the binary is killed after a minute.
func runBinary(env []string, binary string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(os.Environ(), env...)
	return cmd.CombinedOutput()
}

func anySlice(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
