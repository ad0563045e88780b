//go:build hdfs

package hdfsstore

// Tests against a real HDFS: Hadoop's MiniDFSCluster (and MiniKdc for
// Kerberos), started by package hdfstest. What the client writes is read
// back through Hadoop's own FileSystem API, not through the client.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/sluicehq/sluice/internal/hdfstest"
	"github.com/sluicehq/sluice/pkg/storage"
	"github.com/sluicehq/sluice/pkg/storage/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(hdfstest.Main(m)) }

// testUser is the HDFS user the client acts as on unsecured clusters: not
// the superuser, so that permissions apply.
const testUser = "sluice"

func uniqueRoot() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "/sluice-test-" + hex.EncodeToString(b)
}

func dialCluster(t *testing.T, c *hdfstest.Cluster, root string) *Store {
	t.Helper()
	s, err := Dial(testCtx(t), Options{URL: c.URL() + root, User: testUser})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func longCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestMiniClusterContract(t *testing.T) {
	c := hdfstest.Shared(t, hdfstest.Mode{})
	storetest.Run(t, func(t *testing.T) storage.Store {
		return dialCluster(t, c, uniqueRoot())
	})
}

// A committed object is what Hadoop reads; a temporary file is where
// Confluent's connector puts it and is gone after the commit.
func TestMiniClusterHadoopReadsCommittedObject(t *testing.T) {
	c := hdfstest.Shared(t, hdfstest.Mode{})
	root := uniqueRoot()
	s := dialCluster(t, c, root)
	ctx := longCtx(t)
	data := bytes.Repeat([]byte("0123456789abcdef"), 200_000) // 3.2 MB: several 1 MB blocks
	const key = "topics/t/partition=0/t+0+0000000000.json"
	w, err := s.Create(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if c.Exists(t, root+"/"+key) {
		t.Fatal("the object is visible before Commit")
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := c.ReadFile(t, root+"/"+key); !bytes.Equal(got, data) {
		t.Fatalf("Hadoop read %d bytes, want the %d written", len(got), len(data))
	}
	tmp := c.MustDo(t, "exists "+root+"/topics/t/partition=0/"+TmpDir)
	if tmp == "true" {
		// The +tmp folder may stay, empty, as in Confluent's connector.
		if keys, err := s.List(ctx, ""); err != nil || len(keys) != 1 {
			t.Fatalf("List = %v, %v; want only the object", keys, err)
		}
	}
}

func TestMiniClusterPermissionDenied(t *testing.T) {
	c := hdfstest.Shared(t, hdfstest.Mode{})
	root := uniqueRoot()
	c.MustDo(t, "mkdir "+root)
	c.MustDo(t, "chmod "+root+" 755")
	s := dialCluster(t, c, root)
	_, err := s.Create(longCtx(t), "topics/t/partition=0/t+0+0000000000.json")
	if err == nil {
		t.Fatalf("creating under %s (mode 755, owned by %s) as %s succeeded", root, c.SuperUser, testUser)
	}
	if !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("error %q does not say permission denied", err)
	}
}

// putReissued writes an object as re-issued leases would: each attempt
// with a new client, until one commits. Right after a node restarts, HDFS
// may still refuse a block (NotReplicatedYetException), which Hadoop's Java
// client retries and colinmarc/hdfs reports; the lease then fails
// retriably and the coordinator re-issues it.
func putReissued(t *testing.T, c *hdfstest.Cluster, root, key string, data []byte) {
	t.Helper()
	ctx := longCtx(t)
	var last error
	for attempt := range 6 {
		if attempt > 0 {
			time.Sleep(time.Duration(attempt) * time.Second)
		}
		s, err := Dial(ctx, Options{URL: c.URL() + root, User: testUser})
		if err != nil {
			last = err
			continue
		}
		w, err := s.Create(ctx, key)
		if err == nil {
			if _, err = w.Write(data); err == nil {
				err = w.Commit(ctx)
			} else {
				_ = w.Abort(ctx)
			}
		}
		_ = s.Close()
		if err == nil {
			return
		}
		last = err
	}
	t.Fatalf("no re-issued write of %s committed: %v", key, last)
}

// Node restarts on one cluster: a datanode that stops while an object is
// written fails the commit and leaves the key absent, and once it is back
// the re-issued write commits in full with no temporary file listed; a
// namenode that is down fails the write, and once restarted a new client
// writes.
func TestMiniClusterNodeRestarts(t *testing.T) {
	c := hdfstest.Start(t, hdfstest.Mode{})
	root := uniqueRoot()
	s := dialCluster(t, c, root)
	ctx := longCtx(t)
	const key = "topics/t/partition=0/t+0+0000000000.json"
	data := bytes.Repeat([]byte("x"), 3<<20)
	w, err := s.Create(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data[:1<<20]); err != nil {
		t.Fatal(err)
	}
	c.MustDo(t, "stop-datanode")
	_, werr := w.Write(data[1<<20:])
	cerr := w.Commit(ctx)
	if werr == nil && cerr == nil {
		t.Fatal("writing and committing with the only datanode stopped succeeded")
	}
	if c.Exists(t, root+"/"+key) {
		t.Fatal("a failed commit left the object visible")
	}
	c.MustDo(t, "restart-datanode")
	putReissued(t, c, root, key, data)
	if got := c.ReadFile(t, root+"/"+key); !bytes.Equal(got, data) {
		t.Fatalf("after the replay Hadoop read %d bytes, want %d", len(got), len(data))
	}
	keys, err := dialCluster(t, c, root).List(ctx, "")
	if err != nil || len(keys) != 1 || keys[0] != key {
		t.Fatalf("List = %v, %v; want only %s", keys, err, key)
	}

	c.MustDo(t, "stop-namenode 0")
	// The client may connect lazily: either Dial or the first call fails.
	s2, err := Dial(ctx, Options{URL: c.URL() + root, User: testUser})
	if err == nil {
		_, err = s2.Create(ctx, "a/b")
		_ = s2.Close()
	}
	if err == nil {
		t.Fatal("Create with the namenode stopped succeeded")
	}
	c.MustDo(t, "restart-namenode 0")
	putReissued(t, c, root, "a/b", []byte("after restart"))
	if got := string(c.ReadFile(t, root+"/a/b")); got != "after restart" {
		t.Fatalf("read %q", got)
	}
}

// An HA nameservice from hadoop.conf.dir: the client follows a failover to
// the standby namenode.
func TestMiniClusterHAFailover(t *testing.T) {
	c := hdfstest.Start(t, hdfstest.Mode{HA: true})
	confDir := t.TempDir()
	hdfsSite := fmt.Sprintf(`<?xml version="1.0"?>
<configuration>
  <property><name>dfs.nameservices</name><value>sluicens</value></property>
  <property><name>dfs.ha.namenodes.sluicens</name><value>nn1,nn2</value></property>
  <property><name>dfs.namenode.rpc-address.sluicens.nn1</name><value>%s</value></property>
  <property><name>dfs.namenode.rpc-address.sluicens.nn2</name><value>%s</value></property>
</configuration>
`, c.Namenodes[0], c.Namenodes[1])
	if err := os.WriteFile(filepath.Join(confDir, "hdfs-site.xml"), []byte(hdfsSite), 0o644); err != nil {
		t.Fatal(err)
	}
	root := uniqueRoot()
	ctx := longCtx(t)
	s, err := Dial(ctx, Options{URL: "hdfs://sluicens" + root, HadoopConfDir: confDir, User: testUser})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.Put(ctx, t, s, "before", []byte("written to nn1"))
	c.MustDo(t, "failover 0 1")
	storetest.Put(ctx, t, s, "after", []byte("written to nn2"))
	storetest.ExpectKeys(ctx, t, s, "", []string{"after", "before"})
	if got := string(c.ReadFile(t, root+"/after")); got != "written to nn2" {
		t.Fatalf("read %q", got)
	}
}

func TestMiniClusterKerberos(t *testing.T) {
	c := hdfstest.Shared(t, hdfstest.Mode{Kerberos: true})
	t.Setenv("KRB5_CONFIG", c.Krb5Conf)
	confDir := t.TempDir()
	hdfsSite := `<?xml version="1.0"?>
<configuration>
  <property><name>hadoop.security.authentication</name><value>kerberos</value></property>
  <property><name>dfs.data.transfer.protection</name><value>authentication</value></property>
</configuration>
`
	if err := os.WriteFile(filepath.Join(confDir, "hdfs-site.xml"), []byte(hdfsSite), 0o644); err != nil {
		t.Fatal(err)
	}
	secured := func(keytabPath string) Options {
		// The namenode's principal is hdfs/localhost: reach it as localhost,
		// so that _HOST resolves as in a real deployment.
		return Options{URL: "hdfs://" + strings.Replace(c.Namenodes[0], "127.0.0.1", "localhost", 1),
			HadoopConfDir: confDir, Kerberos: true, Principal: c.Principal,
			Keytab: keytabPath, NamenodePrincipal: strings.Replace(c.NamenodePrincipal, "localhost", "_HOST", 1)}
	}

	t.Run("valid keytab writes", func(t *testing.T) {
		ctx := longCtx(t)
		root := uniqueRoot()
		o := secured(c.Keytab)
		o.URL += root
		s, err := Dial(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		data := bytes.Repeat([]byte("kerberos "), 100_000)
		storetest.Put(ctx, t, s, "topics/k/partition=0/k+0+0000000000.json", data)
		if got := c.ReadFile(t, root+"/topics/k/partition=0/k+0+0000000000.json"); !bytes.Equal(got, data) {
			t.Fatalf("Hadoop read %d bytes, want %d", len(got), len(data))
		}
	})

	t.Run("wrong keytab fails before writing", func(t *testing.T) {
		// A keytab for the right principal with a key from another password:
		// what a rotated or stale keytab looks like.
		kt := keytab.New()
		name, realm, _ := strings.Cut(c.Principal, "@")
		if err := kt.AddEntry(name, realm, "not-the-password", time.Now(), 1, 18); err != nil {
			t.Fatal(err)
		}
		b, err := kt.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		wrong := filepath.Join(t.TempDir(), "wrong.keytab")
		if err := os.WriteFile(wrong, b, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err = Dial(longCtx(t), secured(wrong))
		if err == nil || !strings.Contains(err.Error(), "Kerberos login as "+c.Principal) {
			t.Fatalf("Dial with a wrong keytab: err = %v, want a Kerberos login error naming the principal", err)
		}
	})

	t.Run("no Kerberos against a secured cluster is refused", func(t *testing.T) {
		_, err := Dial(longCtx(t), Options{URL: c.URL(), HadoopConfDir: confDir, User: testUser})
		if err == nil || !strings.Contains(err.Error(), KerberosConfig) {
			t.Fatalf("err = %v, want one naming %s", err, KerberosConfig)
		}
		// Without the conf the client tries simple authentication, which the
		// namenode refuses.
		s, err := Dial(longCtx(t), Options{URL: c.URL(), User: testUser})
		if err == nil {
			defer s.Close()
			_, err = s.Create(longCtx(t), "simple/auth")
		}
		if err == nil {
			t.Fatal("simple authentication against a Kerberos cluster succeeded")
		}
	})

	t.Run("missing keys are named", func(t *testing.T) {
		_, err := Dial(longCtx(t), Options{URL: c.URL(), Kerberos: true})
		if err == nil || !strings.Contains(err.Error(), PrincipalConfig) || !strings.Contains(err.Error(), KeytabConfig) {
			t.Fatalf("err = %v, want one naming %s and %s", err, PrincipalConfig, KeytabConfig)
		}
	})
}
