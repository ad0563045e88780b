package hdfsstore

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"time"

	"github.com/colinmarc/hdfs/v2"
	"github.com/colinmarc/hdfs/v2/hadoopconf"
	krbclient "github.com/jcmturner/gokrb5/v8/client"
	krbconfig "github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/sluicehq/sluice/pkg/connect/config"
)

// The HDFS keys of Confluent's HDFS sink connector that the store reads.
const (
	// URLConfig is hdfs.url. Confluent deprecates it in favour of store.url,
	// which the connector reads first.
	URLConfig = "hdfs.url"
	// HadoopConfDirConfig is hadoop.conf.dir: a folder with core-site.xml and
	// hdfs-site.xml (nameservices, namenode addresses, Kerberos settings).
	HadoopConfDirConfig = "hadoop.conf.dir"
	// KerberosConfig is hdfs.authentication.kerberos.
	KerberosConfig = "hdfs.authentication.kerberos"
	// PrincipalConfig is connect.hdfs.principal, the connector's principal.
	PrincipalConfig = "connect.hdfs.principal"
	// KeytabConfig is connect.hdfs.keytab, the principal's keytab file.
	KeytabConfig = "connect.hdfs.keytab"
	// NamenodePrincipalConfig is hdfs.namenode.principal.
	NamenodePrincipalConfig = "hdfs.namenode.principal"
	// TicketRenewConfig is kerberos.ticket.renew.period.ms.
	TicketRenewConfig = "kerberos.ticket.renew.period.ms"
)

// dialTimeout bounds one connection attempt to a namenode or datanode.
const dialTimeout = 10 * time.Second

// ConfigDef returns the HDFS store's keys for a connector to merge.
func Config() *config.Def {
	const group = "HDFS"
	return config.NewDef().
		Define(config.Key{Name: URLConfig, Type: config.String, Default: nil,
			Importance: config.High, Group: group, OrderInGroup: 1, Width: config.WidthMedium,
			DisplayName: "HDFS URL",
			Doc: "The HDFS connection URL, hdfs://namenode:8020 (several namenodes: " +
				"hdfs://nn1:8020,nn2:8020; an HA nameservice: hdfs://<nameservice> with " +
				HadoopConfDirConfig + "); a path after the host is the root under which keys " +
				"(topics.dir/...) are written. Deprecated in Confluent's connector in favour of store.url."}).
		Define(config.Key{Name: HadoopConfDirConfig, Type: config.String, Default: "",
			Importance: config.High, Group: group, OrderInGroup: 2, Width: config.WidthMedium,
			DisplayName: "Hadoop Configuration Directory",
			Doc: "A folder holding core-site.xml and hdfs-site.xml. Sluice reads the namenodes of " +
				"an HA nameservice (dfs.nameservices, dfs.ha.namenodes.*, dfs.namenode.rpc-address.*), " +
				"dfs.data.transfer.protection and dfs.client.use.datanode.hostname from it. " +
				"Empty: HADOOP_CONF_DIR when set."}).
		Define(config.Key{Name: KerberosConfig, Type: config.Boolean, Default: false,
			Importance: config.High, Group: "Security", OrderInGroup: 1, Width: config.WidthShort,
			DisplayName: "HDFS Authentication Kerberos",
			Doc: "Authenticate to HDFS with Kerberos, with the keytab in " + KeytabConfig + " for the " +
				"principal in " + PrincipalConfig + ". The Kerberos configuration is KRB5_CONFIG's file, " +
				"else /etc/krb5.conf."}).
		Define(config.Key{Name: PrincipalConfig, Type: config.String, Default: "",
			Importance: config.High, Group: "Security", OrderInGroup: 2, Width: config.WidthMedium,
			DisplayName: "Connect Kerberos Principal",
			Doc: "The principal the connector authenticates as, user@REALM or user/host@REALM " +
				"(_HOST is replaced by this host's name)."}).
		Define(config.Key{Name: KeytabConfig, Type: config.String, Default: "",
			Importance: config.High, Group: "Security", OrderInGroup: 3, Width: config.WidthMedium,
			DisplayName: "Connect Kerberos Keytab",
			Doc:         "The keytab file of " + PrincipalConfig + "."}).
		Define(config.Key{Name: NamenodePrincipalConfig, Type: config.String, Default: "",
			Importance: config.High, Group: "Security", OrderInGroup: 4, Width: config.WidthMedium,
			DisplayName: "Hdfs Namenode Kerberos Principal",
			Doc: "The namenode's principal, for example hdfs/_HOST@EXAMPLE.COM (_HOST is replaced by " +
				"the namenode's host). Empty: dfs.namenode.kerberos.principal from " + HadoopConfDirConfig + "."}).
		Define(config.Key{Name: TicketRenewConfig, Type: config.Long, Default: int64(3600000),
			Importance: config.Low, Group: "Security", OrderInGroup: 5, Width: config.WidthShort,
			DisplayName: "Kerberos Ticket Renew Period (ms)",
			Doc: "Accepted for Confluent's configurations. A lease logs in from the keytab when it " +
				"starts, and the Kerberos client logs in again before its ticket expires, so no " +
				"separate renewal period applies."})
}

// Options says how to reach HDFS: Dial's input.
type Options struct {
	// URL is hdfs://host:port[,host:port...][/root] or hdfs://nameservice[/root].
	URL string
	// HadoopConfDir holds core-site.xml and hdfs-site.xml; "" reads
	// HADOOP_CONF_DIR when set.
	HadoopConfDir string
	// User acts on HDFS without Kerberos: HADOOP_USER_NAME, else the
	// current user, when empty.
	User string
	// Kerberos, with Principal and Keytab, authenticates with a keytab.
	Kerberos          bool
	Principal         string
	Keytab            string
	NamenodePrincipal string
	// Krb5Conf is the Kerberos configuration: KRB5_CONFIG, else
	// /etc/krb5.conf, when empty.
	Krb5Conf string
}

// OptionsFrom reads Options from a connector's properties; url is the URL
// the connector chose (store.url or hdfs.url).
func OptionsFrom(url string, props map[string]string) Options {
	return Options{
		URL:               url,
		HadoopConfDir:     strings.TrimSpace(props[HadoopConfDirConfig]),
		Kerberos:          strings.EqualFold(strings.TrimSpace(props[KerberosConfig]), "true"),
		Principal:         strings.TrimSpace(props[PrincipalConfig]),
		Keytab:            strings.TrimSpace(props[KeytabConfig]),
		NamenodePrincipal: strings.TrimSpace(props[NamenodePrincipalConfig]),
	}
}

// Dial connects to HDFS and returns a Store rooted at the URL's path ("/"
// when it has none). With Kerberos it logs in from the keytab first, so a
// wrong or expired keytab fails here, before anything is written.
func Dial(ctx context.Context, o Options) (*Store, error) {
	u, err := url.Parse(o.URL)
	if err != nil || u.Scheme != "hdfs" || u.Host == "" {
		return nil, fmt.Errorf("hdfsstore: %q is not an hdfs://namenode:port URL", o.URL)
	}
	conf, err := loadHadoopConf(o.HadoopConfDir)
	if err != nil {
		return nil, err
	}
	opts := hdfs.ClientOptionsFromConf(conf)
	opts.Addresses = namenodes(u.Host, conf)
	if len(opts.Addresses) == 0 {
		return nil, fmt.Errorf("hdfsstore: %s names no namenode (no host:port, and no nameservice %q in %s)",
			o.URL, u.Host, HadoopConfDirConfig)
	}
	dialer := &net.Dialer{Timeout: dialTimeout}
	// ctx is not kept for the connection: the client redials namenodes and
	// datanodes long after Dial returns.
	opts.NamenodeDialFunc = dialer.DialContext
	opts.DatanodeDialFunc = dialer.DialContext
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if o.Kerberos {
		kc, spn, err := kerberosClient(o, conf)
		if err != nil {
			return nil, err
		}
		opts.KerberosClient = kc
		opts.KerberosServicePrincipleName = spn
	} else {
		// A conf asking for Kerberos without the connector's keys would
		// leave an empty client that NewClient refuses with a vaguer error.
		if opts.KerberosClient != nil {
			return nil, fmt.Errorf("hdfsstore: %s says hadoop.security.authentication=kerberos: set %s=true with %s and %s",
				confName(o.HadoopConfDir), KerberosConfig, PrincipalConfig, KeytabConfig)
		}
		opts.User = o.User
		if opts.User == "" {
			opts.User = os.Getenv("HADOOP_USER_NAME")
		}
		if opts.User == "" {
			cur, err := user.Current()
			if err != nil {
				return nil, fmt.Errorf("hdfsstore: finding the user to act as (set HADOOP_USER_NAME): %w", err)
			}
			opts.User = cur.Username
		}
	}
	c, err := hdfs.NewClient(opts)
	if err != nil {
		return nil, fmt.Errorf("hdfsstore: connecting to %s: %w", strings.Join(opts.Addresses, ","), err)
	}
	return New(&Client{c: c}, u.Path), nil
}

func confName(dir string) string {
	if dir == "" {
		return "HADOOP_CONF_DIR"
	}
	return dir
}

// loadHadoopConf reads core-site.xml and hdfs-site.xml from dir, or from
// HADOOP_CONF_DIR when dir is empty; no folder is an empty configuration.
func loadHadoopConf(dir string) (hadoopconf.HadoopConf, error) {
	if dir == "" {
		dir = os.Getenv("HADOOP_CONF_DIR")
	}
	if dir == "" {
		return hadoopconf.HadoopConf{}, nil
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("hdfsstore: %s %q is not a readable folder", HadoopConfDirConfig, dir)
	}
	conf, err := hadoopconf.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("hdfsstore: reading the Hadoop configuration in %s: %w", dir, err)
	}
	if conf == nil {
		conf = hadoopconf.HadoopConf{}
	}
	return conf, nil
}

// namenodes resolves a URL's host: the namenodes of an HA nameservice of
// that name in conf, else the comma-separated host:port list itself.
func namenodes(host string, conf hadoopconf.HadoopConf) []string {
	if ids := conf["dfs.ha.namenodes."+host]; ids != "" {
		var addrs []string
		for _, id := range strings.Split(ids, ",") {
			if a := conf["dfs.namenode.rpc-address."+host+"."+strings.TrimSpace(id)]; a != "" {
				addrs = append(addrs, a)
			}
		}
		return addrs
	}
	var addrs []string
	for _, a := range strings.Split(host, ",") {
		if a = strings.TrimSpace(a); a != "" {
			if _, _, err := net.SplitHostPort(a); err != nil {
				a = net.JoinHostPort(a, "8020")
			}
			addrs = append(addrs, a)
		}
	}
	return addrs
}

// kerberosClient logs in from the keytab and returns the client with the
// namenode's service principal name.
func kerberosClient(o Options, conf hadoopconf.HadoopConf) (*krbclient.Client, string, error) {
	var missing []string
	if o.Principal == "" {
		missing = append(missing, PrincipalConfig)
	}
	if o.Keytab == "" {
		missing = append(missing, KeytabConfig)
	}
	if len(missing) > 0 {
		return nil, "", fmt.Errorf("hdfsstore: %s=true needs %s", KerberosConfig, strings.Join(missing, " and "))
	}
	krb5 := o.Krb5Conf
	if krb5 == "" {
		krb5 = os.Getenv("KRB5_CONFIG")
	}
	if krb5 == "" {
		krb5 = "/etc/krb5.conf"
	}
	kcfg, err := krbconfig.Load(krb5)
	if err != nil {
		return nil, "", fmt.Errorf("hdfsstore: reading the Kerberos configuration %s (KRB5_CONFIG): %w", krb5, err)
	}
	kt, err := keytab.Load(o.Keytab)
	if err != nil {
		return nil, "", fmt.Errorf("hdfsstore: reading %s %s: %w", KeytabConfig, o.Keytab, err)
	}
	name, realm, _ := strings.Cut(o.Principal, "@")
	if realm == "" {
		realm = kcfg.LibDefaults.DefaultRealm
	}
	if strings.Contains(name, "/_HOST") {
		host, _ := os.Hostname()
		name = strings.Replace(name, "/_HOST", "/"+strings.ToLower(host), 1)
	}
	kc := krbclient.NewWithKeytab(name, realm, kt, kcfg, krbclient.DisablePAFXFAST(true))
	if err := kc.Login(); err != nil {
		return nil, "", fmt.Errorf("hdfsstore: Kerberos login as %s@%s with keytab %s: %w", name, realm, filepath.Base(o.Keytab), err)
	}
	spn := o.NamenodePrincipal
	if spn == "" {
		spn = conf["dfs.namenode.kerberos.principal"]
	}
	if spn == "" {
		kc.Destroy()
		return nil, "", fmt.Errorf("hdfsstore: %s=true needs %s (or dfs.namenode.kerberos.principal in %s)",
			KerberosConfig, NamenodePrincipalConfig, HadoopConfDirConfig)
	}
	// The client wants the SPN without the realm.
	spn, _, _ = strings.Cut(spn, "@")
	return kc, spn, nil
}
