// DebeziumBench runs Debezium's PostgresConnector in Debezium's embedded
// engine (the connector's properties in the file named by the first
// argument) until it has emitted the number of change events given as the
// second argument, then prints "done" and exits. Each event is converted by
// Kafka's JsonConverter (the engine's JsonByteArray format). With a third
// argument, a Kafka bootstrap address, every event is sent to that broker
// by a KafkaProducer<byte[], byte[]> (acks=all, as Connect's worker
// producer) and an event counts once the broker has acknowledged it;
// without it, an event counts when the engine hands it over (no sink).
// It prints "first <ms>" when the first event arrives and "done <ms>" at
// the last, milliseconds since the JVM started.
import io.debezium.engine.ChangeEvent;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.format.JsonByteArray;

import java.io.FileReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class DebeziumBench {
    static long sinceStart() {
        return System.currentTimeMillis() - ManagementFactory.getRuntimeMXBean().getStartTime();
    }

    public static void main(String[] args) throws Exception {
        Properties props = new Properties();
        try (FileReader r = new FileReader(args[0], StandardCharsets.UTF_8)) {
            props.load(r);
        }
        long want = Long.parseLong(args[1]);
        KafkaProducer<byte[], byte[]> producer = null;
        if (args.length > 2) {
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, args[2]);
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
            p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
            producer = new KafkaProducer<>(p);
        }
        final KafkaProducer<byte[], byte[]> out = producer;
        AtomicLong seen = new AtomicLong(), acked = new AtomicLong();
        CountDownLatch done = new CountDownLatch(1);
        DebeziumEngine<ChangeEvent<byte[], byte[]>> engine = DebeziumEngine.create(JsonByteArray.class)
                .using(props)
                .notifying(event -> {
                    if (seen.incrementAndGet() == 1) {
                        System.out.println("first " + sinceStart());
                    }
                    if (out == null) {
                        if (acked.incrementAndGet() == want) {
                            done.countDown();
                        }
                        return;
                    }
                    out.send(new ProducerRecord<>(event.destination(), event.key(), event.value()), (md, err) -> {
                        if (err != null) {
                            System.out.println("error " + err);
                            System.exit(1);
                        }
                        if (acked.incrementAndGet() == want) {
                            done.countDown();
                        }
                    });
                })
                .build();
        Executors.newSingleThreadExecutor().execute(engine);
        done.await();
        System.out.println("done " + sinceStart());
        System.out.flush();
        // The Go side reads the JVM's CPU time and peak RSS from /proc now,
        // then kills it.
        Thread.sleep(Long.MAX_VALUE);
    }
}
