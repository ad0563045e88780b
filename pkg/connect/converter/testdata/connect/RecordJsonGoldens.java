// Records Sluice's own JsonConverter golden files (float64.json, string.json,
// optional_null.json, default.json, struct.json,
// decimal_negative_base64.json, schemaless_numbers.json) from Apache Kafka
// Connect's JsonConverter, never from Sluice. Run by ../record.sh:
//
//	java -cp '<Kafka libs>/*' RecordJsonGoldens.java <testdata folder>
//
// Each case is the schema and value json_test.go converts; the file holds
// exactly the bytes JsonConverter.fromConnectData returns.

import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.json.JsonConverter;

public class RecordJsonGoldens {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        JsonConverter withSchemas = new JsonConverter();
        withSchemas.configure(Map.of("schemas.enable", "true"), false);
        JsonConverter schemaless = new JsonConverter();
        schemaless.configure(Map.of("schemas.enable", "false"), false);

        Schema inner = SchemaBuilder.struct().field("n", Schema.OPTIONAL_INT64_SCHEMA)
                .optional().name("inner").version(2).doc("nested").build();
        Schema outer = SchemaBuilder.struct()
                .field("field1", Schema.BOOLEAN_SCHEMA)
                .field("field2", Schema.STRING_SCHEMA)
                .field("field3", SchemaBuilder.string().optional().defaultValue("x").build())
                .field("inner", inner)
                .name("com.example.Outer").build();
        Struct outerValue = new Struct(outer).put("field1", true).put("field2", "string2").put("field3", "x")
                .put("inner", new Struct(inner).put("n", 7L));

        write(dir, "float64.json", withSchemas.fromConnectData("t", Schema.FLOAT64_SCHEMA, 1e10));
        write(dir, "string.json", withSchemas.fromConnectData("t", Schema.STRING_SCHEMA, "foo \"bar\"\n\u0001/é"));
        write(dir, "optional_null.json", withSchemas.fromConnectData("t", Schema.OPTIONAL_STRING_SCHEMA, null));
        write(dir, "default.json", withSchemas.fromConnectData("t",
                SchemaBuilder.int32().optional().defaultValue(42).build(), 42));
        write(dir, "struct.json", withSchemas.fromConnectData("t", outer, outerValue));
        write(dir, "decimal_negative_base64.json", withSchemas.fromConnectData("t", Decimal.schema(2), new BigDecimal("-1.56")));

        Map<String, Object> numbers = new LinkedHashMap<>();
        numbers.put("a", 1L);
        numbers.put("b", 1.5);
        numbers.put("c", Arrays.asList(true, null, "s", Long.MIN_VALUE, 1e-5));
        numbers.put("d", new HashMap<String, Object>());
        write(dir, "schemaless_numbers.json", schemaless.fromConnectData("t", null, numbers));
    }

    private static void write(Path dir, String name, byte[] b) throws Exception {
        Files.write(dir.resolve(name), b);
        System.out.println(name);
    }
}
