package configprovider

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func resolverFor(t *testing.T, name, class string, params map[string]string) *Resolver {
	t.Helper()
	props := map[string]string{
		"config.providers":                    name,
		"config.providers." + name + ".class": class,
	}
	for k, v := range params {
		props["config.providers."+name+".param."+k] = v
	}
	r, err := NewResolver(props)
	if err != nil {
		t.Fatalf("NewResolver: %v", err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func TestFileProvider(t *testing.T) {
	root := t.TempDir()
	allowed := filepath.Join(root, "allowed")
	props := writeFile(t, filepath.Join(allowed, "db.properties"),
		"# credentials\nuser=admin\npassword : s3cr\\u0065t\nurl=jdbc:postgresql://db:5432/x\n")
	outside := writeFile(t, filepath.Join(root, "outside.properties"), "password=outside\n")
	writeFile(t, filepath.Join(allowed, "bad.properties"), "password=\\u00zz-hunter2\n")
	// A sibling whose name is a prefix of "allowed".
	if err := os.Mkdir(allowed[:len(allowed)-1], 0o755); err != nil {
		t.Fatal(err)
	}
	// A link inside the allowed folder to a file outside it.
	if err := os.Symlink(outside, filepath.Join(allowed, "link.properties")); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		params  map[string]string
		value   string
		want    string
		wantErr string
	}{
		{name: "key", value: "${file:" + props + ":user}", want: "admin"},
		{name: "escapes", value: "${file:" + props + ":password}", want: "s3cret"},
		{name: "value with colons", value: "${file:" + props + ":url}", want: "jdbc:postgresql://db:5432/x"},
		{name: "two keys", value: "${file:" + props + ":user}/${file:" + props + ":password}", want: "admin/s3cret"},
		{name: "missing key left as is", value: "${file:" + props + ":nope}", want: "${file:" + props + ":nope}"},
		{name: "no path left as is", value: "${file:user}", want: "${file:user}"},
		{name: "missing file", value: "${file:" + root + "/nope.properties:user}", wantErr: "could not read properties from file"},
		{name: "malformed file", value: "${file:" + allowed + "/bad.properties:password}", wantErr: "malformed properties"},
		{name: "allowed path", params: map[string]string{"allowed.paths": allowed}, value: "${file:" + props + ":user}", want: "admin"},
		{
			name:    "outside allowed.paths refused",
			params:  map[string]string{"allowed.paths": allowed},
			value:   "${file:" + outside + ":password}",
			wantErr: `file "` + outside + `" is not allowed by config.providers.file.param.allowed.paths`,
		},
		{
			name:    "traversal out of allowed.paths refused",
			params:  map[string]string{"allowed.paths": allowed},
			value:   "${file:" + allowed + "/../outside.properties:password}",
			wantErr: "is not allowed by config.providers.file.param.allowed.paths",
		},
		{
			name:    "sibling with a common prefix is outside",
			params:  map[string]string{"allowed.paths": allowed[:len(allowed)-1]},
			value:   "${file:" + props + ":user}",
			wantErr: "is not allowed by config.providers.file.param.allowed.paths",
		},
		{
			name:    "relative path refused",
			params:  map[string]string{"allowed.paths": allowed},
			value:   "${file:db.properties:user}",
			wantErr: "is not allowed by config.providers.file.param.allowed.paths",
		},
		{
			name:    "symbolic link out of allowed.paths refused",
			params:  map[string]string{"allowed.paths": allowed},
			value:   "${file:" + filepath.Join(allowed, "link.properties") + ":password}",
			wantErr: "is not allowed by config.providers.file.param.allowed.paths",
		},
		{
			name:    "allowed.paths unset allows nothing",
			params:  map[string]string{},
			value:   "${file:" + props + ":user}",
			wantErr: "config.providers.file.param.allowed.paths is not set",
		},
		{
			name:   "root allows every file",
			params: map[string]string{"allowed.paths": "/"},
			value:  "${file:" + outside + ":password}",
			want:   "outside",
		},
		{
			name:   "second allowed path",
			params: map[string]string{"allowed.paths": allowed + "," + root},
			value:  "${file:" + outside + ":password}",
			want:   "outside",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			params := tt.params
			if params == nil {
				params = map[string]string{"allowed.paths": root}
			}
			r := resolverFor(t, "file", FileClass, params)
			got, err := r.Resolve(testContext(t), map[string]string{"k": tt.value})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Resolve error = %v, want one containing %q", err, tt.wantErr)
				}
				if strings.Contains(tt.wantErr, "allowed.paths") && !errors.Is(err, ErrNotAllowed) {
					t.Errorf("error %v is not ErrNotAllowed", err)
				}
				for _, secret := range []string{"s3cret", "hunter2", "admin", "outside\n"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error %q leaks a value", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if got["k"] != tt.want {
				t.Errorf("Resolve = %q, want %q", got["k"], tt.want)
			}
		})
	}
}

func TestFileGetAll(t *testing.T) {
	path := writeFile(t, filepath.Join(t.TempDir(), "a.properties"), "a=1\nb=2\n")
	var f File
	if err := f.Configure(map[string]string{"allowed.paths": filepath.Dir(path)}); err != nil {
		t.Fatal(err)
	}
	got, err := f.Get(testContext(t), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"a": "1", "b": "2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Get(nil keys) = %v, want %v", got, want)
	}
}

func TestDirectoryProvider(t *testing.T) {
	// The layout of Kafka's DirectoryConfigProviderTest.
	parent := t.TempDir()
	dir := filepath.Join(parent, "dir")
	writeFile(t, filepath.Join(dir, "foo"), "FOO")
	writeFile(t, filepath.Join(dir, "bar"), "BAR\n")
	writeFile(t, filepath.Join(dir, "subdir", "subdirFile"), "SUBDIRFILE")
	writeFile(t, filepath.Join(parent, "siblingdir", "siblingdirFile"), "SIBLINGDIRFILE")
	writeFile(t, filepath.Join(parent, "siblingFile"), "SIBLINGFILE")
	if err := os.Symlink(filepath.Join(dir, "foo"), filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(parent, "siblingFile"), filepath.Join(dir, "outlink")); err != nil {
		t.Fatal(err)
	}

	ref := func(path, key string) string { return "${directory:" + path + ":" + key + "}" }
	tests := []struct {
		name    string
		params  map[string]string
		value   string
		want    string
		wantErr string
	}{
		{name: "file content", value: ref(dir, "foo"), want: "FOO"},
		{name: "content kept verbatim", value: ref(dir, "bar"), want: "BAR\n"},
		{name: "symlink followed", value: ref(dir, "link"), want: "FOO"},
		{name: "missing file left as is", value: ref(dir, "baz"), want: ref(dir, "baz")},
		{name: "no subdirectories", value: ref(dir, "subdir"), want: ref(dir, "subdir")},
		{name: "no subdirectory files", value: ref(dir, "subdir/subdirFile"), want: ref(dir, "subdir/subdirFile")},
		{name: "no traversal", value: ref(dir, "../siblingFile"), want: ref(dir, "../siblingFile")},
		{name: "no traversal to dir", value: ref(dir, "../siblingdir/siblingdirFile"), want: ref(dir, "../siblingdir/siblingdirFile")},
		{name: "not a directory left as is", value: ref(filepath.Join(dir, "foo"), "x"), want: ref(filepath.Join(dir, "foo"), "x")},
		{name: "no path left as is", value: "${directory:foo}", want: "${directory:foo}"},
		{name: "allowed", params: map[string]string{"allowed.paths": dir}, value: ref(dir, "foo"), want: "FOO"},
		{
			name:    "outside allowed.paths refused",
			params:  map[string]string{"allowed.paths": dir},
			value:   ref(filepath.Join(parent, "siblingdir"), "siblingdirFile"),
			wantErr: `directory "` + filepath.Join(parent, "siblingdir") + `" is not allowed by config.providers.directory.param.allowed.paths`,
		},
		{
			name:    "dot-dot out of allowed.paths refused",
			params:  map[string]string{"allowed.paths": dir},
			value:   ref(dir+"/../siblingdir", "siblingdirFile"),
			wantErr: "is not allowed by config.providers.directory.param.allowed.paths",
		},
		{
			name:    "symbolic link out of allowed.paths refused",
			params:  map[string]string{"allowed.paths": dir},
			value:   ref(dir, "outlink"),
			wantErr: "is not allowed by config.providers.directory.param.allowed.paths",
		},
		{name: "symbolic link within allowed.paths", params: map[string]string{"allowed.paths": parent}, value: ref(dir, "outlink"), want: "SIBLINGFILE"},
		{
			name:    "allowed.paths unset allows nothing",
			params:  map[string]string{},
			value:   ref(dir, "foo"),
			wantErr: "config.providers.directory.param.allowed.paths is not set",
		},
		{
			name:   "subdirectory of allowed path",
			params: map[string]string{"allowed.paths": dir},
			value:  ref(filepath.Join(dir, "subdir"), "subdirFile"),
			want:   "SUBDIRFILE",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			params := tt.params
			if params == nil {
				params = map[string]string{"allowed.paths": parent}
			}
			r := resolverFor(t, "directory", DirectoryClass, params)
			got, err := r.Resolve(testContext(t), map[string]string{"k": tt.value})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrNotAllowed) {
					t.Fatalf("Resolve error = %v, want ErrNotAllowed containing %q", err, tt.wantErr)
				}
				for _, secret := range []string{"FOO", "SIBLING"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error %q leaks a value", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if got["k"] != tt.want {
				t.Errorf("Resolve = %q, want %q", got["k"], tt.want)
			}
		})
	}

	t.Run("get all", func(t *testing.T) {
		// The link out of the allowed folder is left out.
		var d Directory
		if err := d.Configure(map[string]string{"allowed.paths": dir}); err != nil {
			t.Fatal(err)
		}
		got, err := d.Get(testContext(t), dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]string{"foo": "FOO", "bar": "BAR\n", "link": "FOO"}; !reflect.DeepEqual(got, want) {
			t.Errorf("Get(nil keys) = %v, want %v", got, want)
		}
	})
}

func TestAllowedPathsParam(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		value   string
		wantErr string
		want    allowedPaths
	}{
		{name: "unset allows nothing", value: "", want: allowedPaths{}},
		{name: "one", value: dir, want: allowedPaths{set: true, roots: []string{dir}}},
		{name: "normalised", value: dir + "/./x/..", want: allowedPaths{set: true, roots: []string{dir}}},
		{name: "trailing comma dropped", value: dir + ",", want: allowedPaths{set: true, roots: []string{dir}}},
		{name: "only commas allow nothing", value: ",,", want: allowedPaths{set: true, roots: []string{}}},
		{name: "relative", value: "relative/dir", wantErr: "is not absolute"},
		{name: "empty entry", value: "," + dir, wantErr: "is not absolute"},
		{name: "space not trimmed", value: dir + ", " + dir, wantErr: "is not absolute"},
		{name: "missing", value: filepath.Join(dir, "missing"), wantErr: "does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseAllowedPaths(tt.value)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrInvalidParam) {
					t.Fatalf("error = %v, want ErrInvalidParam containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseAllowedPaths = %#v, want %#v", got, tt.want)
			}
		})
	}
	t.Run("rejected through NewResolver", func(t *testing.T) {
		for _, class := range []string{FileClass, DirectoryClass} {
			_, err := NewResolver(map[string]string{
				"config.providers":                       "p",
				"config.providers.p.class":               class,
				"config.providers.p.param.allowed.paths": "not/absolute",
			})
			if err == nil || !strings.Contains(err.Error(), `provider "p"`) || !strings.Contains(err.Error(), "allowed.paths") {
				t.Errorf("%s: error = %v", class, err)
			}
		}
	})
}
