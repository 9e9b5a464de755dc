package dev.goldplan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * tests/vectors/secret_sweep.json: a private key (PEM, body, body as lines) and the APIv3 key put
 * into every configuration field, one at a time. Whatever fails must not show {@code window}
 * consecutive characters of a {@code must_not_appear} line: not in getMessage(), toString(), the
 * stack trace or the report; a client that builds must not show one in its toString() either.
 * No sandbox: the gateway is a closed port, so a call on an accepted client fails too.
 */
class SecretSweepTest {
    private static final Path VECTORS = Paths.get(System.getProperty("goldplan.vectors"));
    private static final String SUB_MCHID = "1900000109";
    /**
     * The older names a configuration document may give a setting (GoldPlanClient.fromJson
     * accepts them too), swept like the setting itself.
     */
    private static final Map<String, List<String>> OLDER_SPELLINGS = new HashMap<>();

    static {
        OLDER_SPELLINGS.put("timeout", Collections.singletonList("timeout_secs"));
        OLDER_SPELLINGS.put("connect_timeout", Collections.singletonList("connect_timeout_secs"));
        OLDER_SPELLINGS.put("private_key", Arrays.asList("private_key_pem", "private_key_path"));
        OLDER_SPELLINGS.put("merchant_certificate", Collections.singletonList("certificate_pem"));
        OLDER_SPELLINGS.put("public_key", Arrays.asList("public_key_pem", "public_key_path"));
    }

    private static JsonObject sweep;
    private static int window;
    private static List<String> mustNotAppear;
    private static JsonObject valid;

    /** What leaked, described without the secret. */
    private final List<String> leaks = new ArrayList<>();
    private int refused;

    @BeforeAll
    static void readTheVectors() throws Exception {
        sweep = JsonParser.parseString(read(VECTORS.resolve("secret_sweep.json"))).getAsJsonObject();
        window = sweep.get("window").getAsInt();
        mustNotAppear = new ArrayList<>();
        for (JsonElement line : sweep.getAsJsonArray("must_not_appear")) {
            assertTrue(line.getAsString().length() >= window, "a must_not_appear line is shorter than the window");
            mustNotAppear.add(line.getAsString());
        }
        JsonObject notification = JsonParser.parseString(read(VECTORS.resolve("notification.json"))).getAsJsonObject();
        // Public-key mode against a closed port: builds without a network.
        valid = new JsonObject();
        valid.addProperty("base_url", "http://127.0.0.1:9");
        valid.addProperty("mchid", "1900000100");
        valid.addProperty("serial_no", "3775B6A45ACD588826D15E583A95F5DD12345678");
        valid.addProperty("private_key", VECTORS.resolve("keys/merchant_test_key.pem").toString());
        valid.addProperty("apiv3_key", notification.get("apiv3_key").getAsString());
        valid.addProperty("public_key_id", notification.get("public_key_id").getAsString());
        valid.addProperty("public_key", notification.get("public_key_pem").getAsString());
        valid.addProperty("mode", "public_key");
        valid.addProperty("max_attempts", 1);
    }

    private static String read(Path path) throws Exception {
        return new String(Files.readAllBytes(path), StandardCharsets.UTF_8);
    }

    /** The index of the must_not_appear line {@code text} shows a window of, or -1. */
    private static int leaked(String text) {
        if (text == null) {
            return -1;
        }
        for (int i = 0; i < mustNotAppear.size(); i++) {
            String line = mustNotAppear.get(i);
            for (int at = 0; at + window <= line.length(); at++) {
                if (text.contains(line.substring(at, at + window))) {
                    return i;
                }
            }
        }
        return -1;
    }

    private void scan(String label, String what, String text) {
        int line = leaked(text);
        if (line >= 0) {
            leaks.add(label + ": " + what + " shows must_not_appear[" + line + "]");
        }
    }

    /** Everything a caller may print of a failure. */
    private void scanFailure(String label, RuntimeException e) {
        refused++;
        scan(label, "getMessage()", e.getMessage());
        scan(label, "toString()", e.toString());
        StringWriter trace = new StringWriter();
        e.printStackTrace(new PrintWriter(trace));
        scan(label, "the stack trace", trace.toString());
        if (e instanceof GoldPlanException) {
            scan(label, "report()", ((GoldPlanException) e).report());
        } else {
            leaks.add(label + ": failed with " + e.getClass().getName() + ", not a GoldPlanException");
        }
    }

    /** Builds a client; an accepted one is shown and makes a call, which fails (closed port). */
    private void attempt(String label, ClientFactory factory) {
        GoldPlanClient client;
        try {
            client = factory.build();
        } catch (RuntimeException e) {
            scanFailure(label, e);
            return;
        }
        try {
            scan(label, "the client's toString()", client.toString());
            try {
                client.closeAdvertisingShow(SUB_MCHID);
                leaks.add(label + ": a call to a closed port succeeded");
            } catch (RuntimeException e) {
                scanFailure(label + ", a call", e);
            }
        } finally {
            client.close();
        }
    }

    private interface ClientFactory {
        GoldPlanClient build();
    }

    /** The valid configuration with {@code setting} given {@code value} under {@code name}. */
    private static JsonObject with(String setting, String name, String value) {
        JsonObject config = valid.deepCopy();
        config.remove(setting);
        config.addProperty(name, value);
        return config;
    }

    /** Each swept setting with the names it may be given under, each paired with each value. */
    private void sweepConfigurations(ConfigurationAttempt each) {
        for (JsonElement field : sweep.getAsJsonArray("fields")) {
            String setting = field.getAsString();
            if (setting.equals("config_path")) {
                continue;
            }
            List<String> names = new ArrayList<>();
            names.add(setting);
            names.addAll(OLDER_SPELLINGS.getOrDefault(setting, Collections.<String>emptyList()));
            for (String name : names) {
                for (Map.Entry<String, JsonElement> value : sweep.getAsJsonObject("values").entrySet()) {
                    each.run(name + " = " + value.getKey(), with(setting, name, value.getValue().getAsString()));
                }
            }
        }
    }

    private interface ConfigurationAttempt {
        void run(String label, JsonObject config);
    }

    private void assertNothingLeaked(int atLeastRefused) {
        assertEquals(Collections.emptyList(), leaks);
        assertTrue(refused >= atLeastRefused, "only " + refused + " misplaced secrets were refused");
    }

    @Test
    void theWindowCheckSeesAKeyLineInsideLongerText() {
        String line = mustNotAppear.get(3);
        assertEquals(-1, leaked("nothing secret here, only " + line.substring(0, window - 1)));
        assertEquals(3, leaked("prefix " + line.substring(5, 5 + window) + " suffix"));
    }

    @Test
    void theValidConfigurationBuildsAndShowsNoSecret() {
        attempt("the valid configuration", () -> GoldPlanClient.fromJson(valid.toString()));
        // Only its call to the closed port failed.
        assertEquals(1, refused);
        assertNothingLeaked(1);
    }

    @Test
    void everySecretInEveryFieldOfFromJsonIsNotEchoed() {
        sweepConfigurations((label, config) -> attempt("fromJson, " + label,
                () -> GoldPlanClient.fromJson(config.toString())));
        assertNothingLeaked(80);
    }

    @Test
    void everySecretInEveryFieldOfAConfigFileIsNotEchoed() throws Exception {
        Path file = Files.createTempFile("goldplan-sweep-", ".json");
        try {
            sweepConfigurations((label, config) -> {
                try {
                    Files.write(file, config.toString().getBytes(StandardCharsets.UTF_8));
                } catch (IOException e) {
                    throw new IllegalStateException("cannot write the configuration file", e);
                }
                attempt("fromFile, " + label, () -> GoldPlanClient.fromFile(file.toString()));
            });
        } finally {
            // The file held the keys: overwrite it before it goes.
            Files.write(file, new byte[8192]);
            Files.delete(file);
        }
        assertNothingLeaked(80);
    }

    /** config_path: the value given where GoldPlanClient.fromFile expects a path. */
    @Test
    void everySecretGivenAsTheConfigFilePathIsNotEchoed() {
        for (Map.Entry<String, JsonElement> value : sweep.getAsJsonObject("values").entrySet()) {
            String secret = value.getValue().getAsString();
            attempt("fromFile, config_path = " + value.getKey(), () -> GoldPlanClient.fromFile(secret));
        }
        assertNothingLeaked(sweep.getAsJsonObject("values").size());
    }
}
