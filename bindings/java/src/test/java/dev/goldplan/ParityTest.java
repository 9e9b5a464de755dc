package dev.goldplan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Parity with the operation registry ({@code bindings/operations.json}): every entry has its one
 * name on its receiver, and every operation vector ({@code tests/vectors/operations/}) gives the
 * same wire request and result through the typed method as in every other language.
 */
class ParityTest {
    private static final Path VECTORS = Paths.get(System.getProperty("goldplan.vectors"));

    private static JsonElement read(Path path) throws Exception {
        return JsonParser.parseString(new String(Files.readAllBytes(path), StandardCharsets.UTF_8));
    }

    private static JsonArray operations() throws Exception {
        return read(VECTORS.resolve("../../bindings/operations.json").normalize()).getAsJsonArray();
    }

    /** Where each receiver lives in Java. */
    private static Class<?> receiverClass(String receiver) {
        switch (receiver) {
            case "client":
                return GoldPlanClient.class;
            case "module":
                return Protocol.class;
            case "signer":
                return Signer.class;
            case "verifier":
                return Verifier.class;
            default:
                throw new AssertionError("a receiver Java does not know: " + receiver);
        }
    }

    /** {@code snake_case} to {@code camelCase}. */
    static String camel(String snake) {
        StringBuilder out = new StringBuilder();
        boolean upper = false;
        for (char c : snake.toCharArray()) {
            if (c == '_') {
                upper = true;
            } else {
                out.append(upper ? Character.toUpperCase(c) : c);
                upper = false;
            }
        }
        return out.toString();
    }

    /** The public methods named {@code name} of {@code type}, static or not as asked. */
    private static List<Method> methods(Class<?> type, String name, boolean isStatic) {
        List<Method> found = new ArrayList<>();
        for (Method m : type.getMethods()) {
            if (m.getName().equals(name) && Modifier.isStatic(m.getModifiers()) == isStatic
                    && !m.isAnnotationPresent(Deprecated.class)) {
                found.add(m);
            }
        }
        return found;
    }

    @Test
    void everyRegistryEntryHasItsNameOnItsReceiver() throws Exception {
        JsonArray ops = operations();
        assertTrue(ops.size() > 0, "operations.json lists operations");
        List<String> missing = new ArrayList<>();
        for (JsonElement e : ops) {
            JsonObject op = e.getAsJsonObject();
            String receiver = op.get("receiver").getAsString();
            String kind = op.get("kind").getAsString();
            String name = camel(op.get("name").getAsString());
            Class<?> type = receiverClass(receiver);
            List<Method> found = methods(type, name, receiver.equals("module"));
            // A registry operation with parameters is callable with them, positionally; an object's
            // method ("method" kind) has its own idiomatic parameters.
            int arity = op.getAsJsonArray("parameters").size();
            boolean callable = kind.equals("method") ? !found.isEmpty()
                    : found.stream().anyMatch(m -> m.getParameterCount() == arity);
            if (!callable) {
                missing.add(type.getSimpleName() + "." + name + " (" + kind + ", " + arity + " parameters)");
            }
        }
        assertTrue(missing.isEmpty(), "missing from the Java binding: " + missing);
    }

    /** A Java value for a registry parameter from a case's arguments ({@code null} when absent). */
    private static Object argument(JsonObject args, JsonObject param, Class<?> javaType) {
        String name = param.get("name").getAsString();
        JsonElement v = args.get(name);
        if (v == null || v.isJsonNull()) {
            return null;
        }
        switch (param.get("type").getAsString()) {
            case "text":
            case "choice":
                return v.getAsString();
            case "text_list":
            case "choice_list": {
                List<String> list = new ArrayList<>();
                for (JsonElement item : v.getAsJsonArray()) {
                    list.add(item.getAsString());
                }
                return list;
            }
            case "flag":
                return v.getAsBoolean();
            case "integer":
                // Whatever integer type the generated signature takes.
                return javaType == Integer.class || javaType == int.class ? (Object) v.getAsInt() : (Object) v.getAsLong();
            case "json":
                // JSON text (a vector's object or list, as given) unless the signature takes a tree.
                return javaType == String.class ? v.toString() : v;
            default:
                throw new AssertionError("a parameter type Java does not know: " + param);
        }
    }

    /** The typed client method of a remote operation: its name, one parameter per registry parameter. */
    private static Method typedMethod(JsonObject op) {
        int arity = op.getAsJsonArray("parameters").size();
        for (Method m : methods(GoldPlanClient.class, camel(op.get("name").getAsString()), false)) {
            if (m.getParameterCount() == arity) {
                return m;
            }
        }
        throw new AssertionError("no typed method for " + op.get("name"));
    }

    /** A sandbox process of its own (public-key mode) and a client of it. */
    private static final class Sandbox implements AutoCloseable {
        final Process process;
        final String baseUrl;
        final GoldPlanClient client;

        Sandbox() throws Exception {
            Path state = Files.createTempDirectory("goldplan-java-parity-");
            process = new ProcessBuilder(System.getProperty("goldplan.sandbox"), "--port", "0", "--state-dir",
                    state.toString(), "--mode", "public_key")
                    .redirectError(state.resolve("sandbox.log").toFile())
                    .start();
            BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8));
            baseUrl = out.readLine();
            assertNotNull(baseUrl, "the sandbox printed its base URL");
            client = GoldPlanClient.fromFile(state.resolve("sandbox.json").toString());
        }

        /** An admin API call; its JSON answer. */
        JsonElement admin(String method, String path) throws Exception {
            HttpURLConnection c = (HttpURLConnection) new URL(baseUrl + "/sandbox" + path).openConnection();
            c.setRequestMethod(method);
            assertEquals(200, c.getResponseCode(), method + " " + path);
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            try (InputStream in = c.getInputStream()) {
                byte[] buf = new byte[4096];
                for (int n; (n = in.read(buf)) > 0; ) {
                    body.write(buf, 0, n);
                }
            }
            return JsonParser.parseString(new String(body.toByteArray(), StandardCharsets.UTF_8));
        }

        @Override
        public void close() {
            client.close();
            process.destroy();
        }
    }

    @Test
    void everyOperationVectorThroughTheTypedMethods() throws Exception {
        Map<String, JsonObject> remote = new HashMap<>();
        for (JsonElement e : operations()) {
            JsonObject op = e.getAsJsonObject();
            if (op.get("kind").getAsString().equals("remote")) {
                remote.put(op.get("name").getAsString(), op);
            }
        }
        TreeSet<String> seen = new TreeSet<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(VECTORS.resolve("operations"), "*.json")) {
            for (Path file : files) {
                JsonObject root = read(file).getAsJsonObject();
                assertEquals(1, root.get("format_version").getAsInt(), file.toString());
                String name = root.get("operation").getAsString();
                JsonObject op = remote.get(name);
                assertNotNull(op, file + " names no remote operation");
                seen.add(name);
                runVectors(op, root);
            }
        }
        assertEquals(new TreeSet<>(remote.keySet()), seen, "every remote operation has a vector file, read here");
    }

    private static void runVectors(JsonObject op, JsonObject root) throws Exception {
        String operation = op.get("name").getAsString();
        JsonArray params = op.getAsJsonArray("parameters");
        Method typed = typedMethod(op);
        try (Sandbox sb = new Sandbox()) {
            if (root.has("before")) {
                for (JsonElement step : root.getAsJsonArray("before")) {
                    JsonObject s = step.getAsJsonObject();
                    sb.client.call(s.get("operation").getAsString(), s.get("arguments").toString());
                }
            }
            for (JsonElement e : root.getAsJsonArray("cases")) {
                JsonObject c = e.getAsJsonObject();
                String label = operation + ": " + c.get("name").getAsString();
                JsonObject args = c.getAsJsonObject("arguments");
                for (String key : args.keySet()) {
                    boolean known = false;
                    for (JsonElement p : params) {
                        known |= p.getAsJsonObject().get("name").getAsString().equals(key);
                    }
                    assertTrue(known, label + ": argument " + key + " is not a parameter");
                }
                Object[] positional = new Object[params.size()];
                for (int i = 0; i < params.size(); i++) {
                    positional[i] = argument(args, params.get(i).getAsJsonObject(), typed.getParameterTypes()[i]);
                }
                sb.admin("DELETE", "/requests");
                Reply reply = null;
                GoldPlanException error = null;
                try {
                    reply = (Reply) typed.invoke(sb.client, positional);
                } catch (InvocationTargetException ex) {
                    if (!(ex.getCause() instanceof GoldPlanException)) {
                        throw ex;
                    }
                    error = (GoldPlanException) ex.getCause();
                }
                JsonArray log = sb.admin("GET", "/requests").getAsJsonArray();
                JsonElement request = c.get("request");
                if (request == null || request.isJsonNull()) {
                    assertEquals(0, log.size(), label + ": nothing may reach the gateway: " + log);
                } else {
                    assertTrue(log.size() > 0, label + ": nothing was sent");
                    JsonObject last = log.get(log.size() - 1).getAsJsonObject();
                    JsonObject want = request.getAsJsonObject();
                    assertEquals(want.get("method").getAsString(), last.get("method").getAsString(), label);
                    assertEquals(want.get("path").getAsString(), last.get("path").getAsString(), label);
                    assertEquals(want.get("body").getAsString(),
                            last.get("body") == null || last.get("body").isJsonNull() ? null
                                    : last.get("body").getAsString(), label);
                }
                if (c.has("error")) {
                    JsonObject want = c.getAsJsonObject("error");
                    if (error == null) {
                        fail(label + ": expected " + want + ", got " + reply);
                    }
                    assertEquals(want.get("kind").getAsString(), error.kind(), label);
                    if (want.has("code")) {
                        assertEquals(want.get("code").getAsString(), error.code(), label);
                    }
                } else {
                    if (error != null) {
                        fail(label + ": " + error.report());
                    }
                    if (c.has("result_keys")) {
                        // Values the server chooses (a prepay_id): exactly these keys, each a
                        // non-empty string.
                        JsonElement data = reply.data();
                        assertTrue(data.isJsonObject(), label + ": an object: " + reply.json());
                        TreeSet<String> want = new TreeSet<>();
                        for (JsonElement k : c.getAsJsonArray("result_keys")) {
                            want.add(k.getAsString());
                        }
                        assertEquals(want, new TreeSet<>(data.getAsJsonObject().keySet()), label + ": " + reply.json());
                        for (String k : want) {
                            JsonElement value = data.getAsJsonObject().get(k);
                            assertTrue(value.isJsonPrimitive() && value.getAsJsonPrimitive().isString()
                                    && !value.getAsString().isEmpty(), label + ": " + k + " is a non-empty string");
                        }
                    } else {
                        assertEquals(c.get("result"), reply.data(), label);
                    }
                    assertNotNull(reply.requestId(), label);
                }
            }
        }
    }
}
