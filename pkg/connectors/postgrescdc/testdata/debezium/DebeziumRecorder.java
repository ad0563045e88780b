// DebeziumRecorder runs a real Debezium connector in Debezium's embedded
// engine and prints every change event as one JSON line on stdout:
// {"topic": ..., "key": <JsonConverter bytes>, "value": <JsonConverter bytes or null>}.
// It reads the connector's properties from the file named by its first
// argument and runs until it is killed. record.sh builds its class path.
import io.debezium.engine.ChangeEvent;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.format.Json;

import java.io.FileReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import java.util.concurrent.Executors;

public class DebeziumRecorder {
    public static void main(String[] args) throws Exception {
        Properties props = new Properties();
        try (FileReader r = new FileReader(args[0], StandardCharsets.UTF_8)) {
            props.load(r);
        }
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        DebeziumEngine<ChangeEvent<String, String>> engine = DebeziumEngine.create(Json.class)
                .using(props)
                .notifying(event -> {
                    synchronized (out) {
                        out.println("{\"topic\":" + quote(event.destination())
                                + ",\"key\":" + (event.key() == null ? "null" : event.key())
                                + ",\"value\":" + (event.value() == null ? "null" : event.value()) + "}");
                    }
                })
                .build();
        Executors.newSingleThreadExecutor().execute(engine);
    }

    private static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
