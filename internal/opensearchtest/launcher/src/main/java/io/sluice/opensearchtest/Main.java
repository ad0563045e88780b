package io.sluice.opensearchtest;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Collections;
import java.util.List;

import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;

/**
 * Main starts one OpenSearch node for Sluice's tests: single-node discovery,
 * HTTP and transport on loopback through the netty4 module, no security
 * plugin, data under the given home directory. It prints "OPENSEARCH
 * STARTED" once the node is up and runs until it is killed.
 *
 * <p>Usage: Main &lt;home&gt; &lt;http port&gt; &lt;transport port&gt;
 */
public final class Main {
    /** LauncherNode opens Node's constructor that takes classpath plugins. */
    static final class LauncherNode extends Node {
        LauncherNode(Settings settings, List<Class<? extends Plugin>> plugins) {
            super(InternalSettingsPreparer.prepareEnvironment(settings, Collections.emptyMap(), null, () -> "sluice-test"),
                plugins, true);
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: Main <home> <http port> <transport port>");
            System.exit(2);
        }
        Path home = Paths.get(args[0]).toAbsolutePath();
        Settings settings = Settings.builder()
            .put("path.home", home.toString())
            .put("path.data", home.resolve("data").toString())
            .put("path.logs", home.resolve("logs").toString())
            .put("cluster.name", "sluice-test")
            .put("node.name", "sluice-test")
            .put("discovery.type", "single-node")
            .put("network.host", "127.0.0.1")
            .put("http.port", args[1])
            .put("transport.port", args[2])
            .put("http.type", "netty4")
            .put("transport.type", "netty4")
            .put("action.auto_create_index", "true")
            // Tests fill small disks; the default watermarks would block writes.
            .put("cluster.routing.allocation.disk.threshold_enabled", "false")
            .build();
        LogConfigurator.configureWithoutConfig(settings);
        Node node = new LauncherNode(settings, List.of(Netty4Plugin.class));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
            } catch (Exception e) {
                e.printStackTrace();
            }
        }));
        node.start();
        System.out.println("OPENSEARCH STARTED");
        System.out.flush();
        Thread.currentThread().join();
    }
}
