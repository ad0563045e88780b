// Launcher starts Hadoop's own test cluster, MiniDFSCluster (and, for a
// secured cluster, Hadoop's test KDC, MiniKdc) on loopback ports for the Go
// tests in package hdfstest, and takes commands on standard input so that a
// test can stop and restart nodes, fail over between namenodes and read
// files back through Hadoop's own FileSystem API.
//
// It runs as a single-file source program (java -cp 'libs/*' Launcher.java
// DIR [kerberos] [ha]); the jars come from pom.xml beside it.
//
// Output: one line "READY {json}" once the cluster is up, then one line per
// command, "OK ..." or "ERR ...". Commands:
//
//	stop-namenode N | restart-namenode N | stop-datanode | restart-datanode
//	failover FROM TO          (HA: FROM becomes standby, TO active)
//	get HDFS_PATH LOCAL_PATH  (copy a file out through Hadoop's FileSystem)
//	mkdir PATH | chmod PATH OCTAL | chown PATH USER | exists PATH
//	count PATH                (files under PATH, recursively; 0 if absent)
//	exit
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URI;
import java.security.PrivilegedExceptionAction;
import java.util.ArrayList;
import java.util.List;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.hadoop.hdfs.MiniDFSNNTopology;
import org.apache.hadoop.minikdc.MiniKdc;
import org.apache.hadoop.security.UserGroupInformation;
import org.apache.hadoop.security.ssl.KeyStoreTestUtil;

public class Launcher {
    static MiniDFSCluster cluster;
    static MiniDFSCluster.DataNodeProperties stoppedDataNode;
    static Configuration conf;
    static boolean ha;
    static String superUser;

    public static void main(String[] args) {
        try {
            start(args);
        } catch (Throwable t) {
            t.printStackTrace();
            System.out.flush();
            new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true)
                .println("FAILED " + t.toString().replace('\n', ' '));
            System.exit(1);
        }
    }

    static void start(String[] args) throws Exception {
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true);
        // Hadoop logs to stdout through log4j; keep stdout for the protocol.
        System.setOut(System.err);
        File dir = new File(args[0]);
        boolean kerberos = false;
        for (int i = 1; i < args.length; i++) {
            if (args[i].equals("kerberos")) kerberos = true;
            if (args[i].equals("ha")) ha = true;
        }
        conf = new Configuration();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, new File(dir, "dfs").getAbsolutePath());
        conf.setInt("dfs.replication", 1);
        conf.setInt("dfs.namenode.safemode.extension", 0);
        conf.setLong("dfs.blocksize", 1024 * 1024);
        conf.setInt("dfs.heartbeat.interval", 1);
        conf.setInt("dfs.namenode.heartbeat.recheck-interval", 2000);
        conf.set("dfs.permissions.enabled", "true");
        conf.set("dfs.namenode.rpc-bind-host", "127.0.0.1");
        StringBuilder extra = new StringBuilder();
        MiniKdc kdc = null;
        if (kerberos) {
            File kdcDir = new File(dir, "kdc");
            kdcDir.mkdirs();
            kdc = new MiniKdc(MiniKdc.createConf(), kdcDir);
            kdc.start();
            String realm = kdc.getRealm();
            File serviceKeytab = new File(kdcDir, "hdfs.keytab");
            kdc.createPrincipal(serviceKeytab, "hdfs/localhost", "HTTP/localhost");
            File clientKeytab = new File(kdcDir, "sluice.keytab");
            kdc.createPrincipal(clientKeytab, "sluice");
            String hdfsPrincipal = "hdfs/localhost@" + realm;
            conf.set("hadoop.security.authentication", "kerberos");
            conf.set("hadoop.security.authorization", "true");
            conf.set("dfs.namenode.kerberos.principal", hdfsPrincipal);
            conf.set("dfs.namenode.keytab.file", serviceKeytab.getAbsolutePath());
            conf.set("dfs.datanode.kerberos.principal", hdfsPrincipal);
            conf.set("dfs.datanode.keytab.file", serviceKeytab.getAbsolutePath());
            conf.set("dfs.web.authentication.kerberos.principal", "HTTP/localhost@" + realm);
            conf.set("dfs.web.authentication.kerberos.keytab", serviceKeytab.getAbsolutePath());
            conf.setBoolean("dfs.block.access.token.enable", true);
            conf.set("dfs.data.transfer.protection", "authentication");
            conf.set("dfs.http.policy", "HTTPS_ONLY");
            conf.set("dfs.namenode.https-address", "localhost:0");
            conf.set("dfs.datanode.https.address", "localhost:0");
            File ssl = new File(dir, "ssl");
            ssl.mkdirs();
            KeyStoreTestUtil.setupSSLConfig(ssl.getAbsolutePath(),
                ssl.getAbsolutePath(), conf, false);
            conf.set("dfs.client.https.keystore.resource", KeyStoreTestUtil.getClientSSLConfigFileName());
            conf.set("dfs.https.server.keystore.resource", KeyStoreTestUtil.getServerSSLConfigFileName());
            UserGroupInformation.setConfiguration(conf);
            UserGroupInformation.loginUserFromKeytab(hdfsPrincipal, serviceKeytab.getAbsolutePath());
            superUser = "hdfs";
            extra.append(",\"realm\":\"").append(realm).append('"');
            extra.append(",\"kdc\":\"").append(kdc.getHost()).append(':').append(kdc.getPort()).append('"');
            extra.append(",\"krb5conf\":\"").append(kdc.getKrb5conf().getAbsolutePath()).append('"');
            extra.append(",\"keytab\":\"").append(clientKeytab.getAbsolutePath()).append('"');
            extra.append(",\"principal\":\"sluice@").append(realm).append('"');
            extra.append(",\"namenodePrincipal\":\"").append(hdfsPrincipal).append('"');
        } else {
            superUser = UserGroupInformation.getCurrentUser().getShortUserName();
        }
        MiniDFSCluster.Builder b = new MiniDFSCluster.Builder(conf).numDataNodes(1);
        if (ha) {
            b.nnTopology(MiniDFSNNTopology.simpleHATopology());
        }
        cluster = b.build();
        if (ha) {
            cluster.transitionToActive(0);
        }
        cluster.waitActive();
        FileSystem fs = fileSystem();
        fs.setPermission(new Path("/"), new FsPermission((short) 0777));
        List<String> nns = new ArrayList<>();
        int n = ha ? 2 : 1;
        for (int i = 0; i < n; i++) {
            nns.add("\"127.0.0.1:" + cluster.getNameNodePort(i) + "\"");
        }
        out.println("READY {\"namenodes\":" + nns + ",\"superuser\":\"" + superUser + "\"" + extra + "}");

        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        String line;
        while ((line = in.readLine()) != null) {
            String[] f = line.trim().split("\\s+");
            if (f.length == 0 || f[0].isEmpty()) continue;
            try {
                String res = run(f);
                if (res == null) break;
                out.println("OK " + res);
            } catch (Throwable t) {
                out.println("ERR " + t.toString().replace('\n', ' '));
            }
        }
        cluster.shutdown(true);
        if (kdc != null) kdc.stop();
        System.exit(0);
    }

    static FileSystem fileSystem() throws Exception {
        if (ha) {
            return cluster.getFileSystem(activeIndex());
        }
        return cluster.getFileSystem();
    }

    static int activeIndex() {
        for (int i = 0; i < 2; i++) {
            if (cluster.getNameNode(i) != null && cluster.getNameNode(i).isActiveState()) return i;
        }
        return 0;
    }

    static String run(String[] f) throws Exception {
        switch (f[0]) {
            case "exit":
                return null;
            case "stop-namenode":
                cluster.shutdownNameNode(Integer.parseInt(f[1]));
                return "";
            case "restart-namenode":
                cluster.restartNameNode(Integer.parseInt(f[1]), true);
                if (ha) cluster.transitionToActive(Integer.parseInt(f[1]));
                return "";
            case "stop-datanode":
                stoppedDataNode = cluster.stopDataNode(0);
                return "";
            case "restart-datanode":
                cluster.restartDataNode(stoppedDataNode, true);
                cluster.waitActive();
                return "";
            case "failover":
                cluster.transitionToStandby(Integer.parseInt(f[1]));
                cluster.transitionToActive(Integer.parseInt(f[2]));
                return "";
            case "get": {
                FileSystem fs = fileSystem();
                fs.copyToLocalFile(new Path(f[1]), new Path(new File(f[2]).toURI()));
                return "";
            }
            case "mkdir":
                fileSystem().mkdirs(new Path(f[1]));
                return "";
            case "chmod":
                fileSystem().setPermission(new Path(f[1]), new FsPermission(Short.parseShort(f[2], 8)));
                return "";
            case "chown":
                fileSystem().setOwner(new Path(f[1]), f[2], null);
                return "";
            case "count": {
                FileSystem fs = fileSystem();
                Path p = new Path(f[1]);
                if (!fs.exists(p)) return "0";
                int n = 0;
                for (org.apache.hadoop.fs.RemoteIterator<org.apache.hadoop.fs.LocatedFileStatus> it = fs.listFiles(p, true); it.hasNext(); it.next()) n++;
                return Integer.toString(n);
            }
            case "exists":
                return Boolean.toString(fileSystem().exists(new Path(f[1])));
            default:
                throw new IllegalArgumentException("unknown command " + f[0]);
        }
    }
}
