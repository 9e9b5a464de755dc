package dev.goldplan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.sun.net.httpserver.HttpServer;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** GoldPlanClient against a goldplan-sandbox process (combined key mode). */
class GoldPlanClientTest {
    private static Process sandbox;
    private static Path stateDir;
    private static String config;
    private static String adminHostPort;
    private static String subMchid;
    private static GoldPlanClient client;

    @BeforeAll
    static void startSandbox() throws Exception {
        String bin = System.getProperty("goldplan.sandbox");
        stateDir = Files.createTempDirectory("goldplan-java-");
        sandbox = new ProcessBuilder(bin, "--port", "0", "--state-dir", stateDir.toString(), "--mode", "combined")
                .redirectError(stateDir.resolve("sandbox.log").toFile())
                .start();
        BufferedReader out = new BufferedReader(new InputStreamReader(sandbox.getInputStream(), StandardCharsets.UTF_8));
        String baseUrl = out.readLine();
        assertNotNull(baseUrl, "the sandbox printed its base URL");
        assertTrue(baseUrl.startsWith("http://127.0.0.1:"), baseUrl);
        adminHostPort = baseUrl.substring("http://".length());
        config = stateDir.resolve("sandbox.json").toString();
        JsonObject info = JsonParser.parseString(new String(Files.readAllBytes(Paths.get(config)), StandardCharsets.UTF_8))
                .getAsJsonObject();
        subMchid = info.getAsJsonArray("sub_mchids").get(0).getAsString();
        // The receipt (商家小票) needs the provider's receipt link first.
        assertEquals(200, admin("PATCH", "/merchants/" + info.get("mchid").getAsString(),
                "{\"receipt_link\":\"https://shop.example.com/receipt\"}"));
        client = GoldPlanClient.fromFile(config);
    }

    @AfterAll
    static void stopSandbox() {
        if (client != null) {
            client.close();
        }
        if (sandbox != null) {
            sandbox.destroy();
        }
    }

    /** A plain HTTP/1.1 request to the sandbox's admin API (HttpURLConnection cannot PATCH). */
    private static int admin(String method, String path, String json) throws Exception {
        String[] hp = adminHostPort.split(":");
        try (Socket s = new Socket(hp[0], Integer.parseInt(hp[1]))) {
            byte[] body = json.getBytes(StandardCharsets.UTF_8);
            String head = method + " /sandbox" + path + " HTTP/1.1\r\nHost: " + adminHostPort
                    + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length
                    + "\r\nConnection: close\r\n\r\n";
            OutputStream o = s.getOutputStream();
            o.write(head.getBytes(StandardCharsets.US_ASCII));
            o.write(body);
            o.flush();
            String status = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII))
                    .readLine();
            return Integer.parseInt(status.split(" ")[1]);
        }
    }

    @Test
    void theFiveGoldPlanCallsAndRequest() {
        Reply r = client.changeGoldPlanStatus(subMchid, "OPEN", "JSAPI");
        assertEquals(subMchid, r.data().getAsJsonObject().get("sub_mchid").getAsString());
        assertNotNull(r.requestId());
        assertNotNull(client.changeCustomPageStatus(subMchid, "OPEN").requestId());
        assertNotNull(client.setAdvertisingIndustryFilter(subMchid, Arrays.asList("SOFTWARE", "POTOGRAPHY")).requestId());
        assertNotNull(client.openAdvertisingShow(subMchid, null).requestId());
        Reply closed = client.closeAdvertisingShow(subMchid); // 204: no body
        assertNotNull(closed.requestId());
        assertNull(closed.json());
        assertTrue(closed.data().isJsonNull());
        Reply any = client.request("POST", "/v3/goldplan/merchants/close-advertising-show",
                "{\"sub_mchid\":\"" + subMchid + "\"}");
        JsonObject o = any.data().getAsJsonObject();
        assertEquals(204, o.get("status").getAsInt(), any.json());
        assertNotNull(any.requestId());
    }

    @Test
    void apiErrorsAreTyped() {
        GoldPlanException e = assertThrows(GoldPlanException.class,
                () -> client.changeGoldPlanStatus("1234567890", "OPEN", null));
        assertEquals("api", e.kind());
        assertEquals("api", e.family());
        assertEquals(10, e.status());
        assertEquals(Integer.valueOf(400), e.httpStatus());
        assertEquals("MCH_NOT_EXISTS", e.code());
        assertNotNull(e.requestId());
        assertNotNull(e.apiMessage());
    }

    @Test
    void invalidInputIsTypedAndNeverEchoesSecrets() {
        GoldPlanException e = assertThrows(GoldPlanException.class,
                () -> client.changeGoldPlanStatus(subMchid, "MAYBE", null));
        assertEquals("invalid_input", e.kind());
        assertEquals(2, e.status());
        GoldPlanException c = assertThrows(GoldPlanException.class, () -> GoldPlanClient.fromJson(
                "{\"mchid\":\"1\",\"serial_no\":\"A\",\"private_key_pem\":\"TOPSECRET\",\"apiv3_key\":\"TOPSECRET2\"}"));
        assertEquals("configuration", c.family());
        assertTrue(!c.report().contains("TOPSECRET"), c.report());
    }

    @Test
    void certificatesProbeAndSensitiveFields() {
        assertTrue(client.probe().data().getAsJsonObject().get("ok").getAsBoolean());
        assertTrue(client.refreshCertificates().data().getAsJsonObject().getAsJsonArray("certificates").size() > 0);
        JsonObject sealed = client.encryptSensitive("张三").data().getAsJsonObject();
        assertTrue(sealed.get("ciphertext").getAsString().length() > 300);
        assertTrue(sealed.get("wechatpay_serial").getAsString().length() > 0);
        GoldPlanException e = assertThrows(GoldPlanException.class, () -> client.decryptSensitive("bm90IG9hZXA="));
        assertEquals("decryption", e.family());
    }

    /** A callback the sandbox sends: its headers as received (name, value pairs, in order) and its body. */
    private static final class Callback {
        final List<Map.Entry<String, String>> headers = new ArrayList<>();
        byte[] body;

        Map<String, String> headerMap() {
            Map<String, String> m = new HashMap<>();
            for (Map.Entry<String, String> h : headers) {
                m.put(h.getKey(), h.getValue());
            }
            return m;
        }
    }

    /** Has the sandbox send a TRANSACTION.SUCCESS callback for {@code outTradeNo} and receives it. */
    private static Callback callback(String outTradeNo) throws Exception {
        BlockingQueue<Callback> received = new ArrayBlockingQueue<>(4);
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/notify", exchange -> {
            Callback c = new Callback();
            for (Map.Entry<String, List<String>> h : exchange.getRequestHeaders().entrySet()) {
                for (String value : h.getValue()) {
                    c.headers.add(new AbstractMap.SimpleEntry<>(h.getKey(), value));
                }
            }
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            InputStream in = exchange.getRequestBody();
            byte[] buf = new byte[4096];
            for (int n; (n = in.read(buf)) > 0;) {
                body.write(buf, 0, n);
            }
            c.body = body.toByteArray();
            received.add(c);
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        server.start();
        try {
            int port = server.getAddress().getPort();
            assertEquals(200, admin("POST", "/callbacks", "{\"url\":\"http://127.0.0.1:" + port
                    + "/notify\",\"max_attempts\":1,\"resource\":{\"out_trade_no\":\"" + outTradeNo
                    + "\",\"trade_state\":\"SUCCESS\"}}"));
            Callback got = received.poll(10, TimeUnit.SECONDS);
            assertNotNull(got, "callback received");
            return got;
        } finally {
            server.stop(0);
        }
    }

    @Test
    void notificationsAreVerifiedAndDecrypted() throws Exception {
        Callback cb = callback("J-1");
        Map<String, String> headers = cb.headerMap();
        byte[] body = cb.body;
        Reply parsed = client.parseNotification(headers, body);
        JsonObject n = parsed.data().getAsJsonObject();
        assertEquals("TRANSACTION.SUCCESS", n.get("event_type").getAsString());
        assertEquals("J-1", n.getAsJsonObject("resource").get("out_trade_no").getAsString());
        // Logging the reply must not log the decrypted resource.
        String shown = parsed.toString();
        assertFalse(shown.contains("J-1") || shown.contains("out_trade_no") || shown.contains("trade_state"), shown);
        assertTrue(shown.contains(n.get("id").getAsString()), shown);
        assertTrue(shown.contains("plaintext_len=" + n.get("plaintext").getAsString().length()), shown);
        body[body.length - 2] ^= 1;
        GoldPlanException e = assertThrows(GoldPlanException.class, () -> client.parseNotification(headers, body));
        assertEquals("signature", e.family());
    }

    @Test
    void repeatedHeaderNamesReachTheLibraryAsReceived() throws Exception {
        Callback cb = callback("J-2");
        List<Map.Entry<String, String>> headers = new ArrayList<>(cb.headers);
        headers.add(new AbstractMap.SimpleEntry<>("X-Forwarded-For", "10.0.0.1"));
        headers.add(new AbstractMap.SimpleEntry<>("X-Forwarded-For", "10.0.0.2"));
        JsonObject n = client.parseNotification(headers, cb.body).data().getAsJsonObject();
        assertEquals("J-2", n.getAsJsonObject("resource").get("out_trade_no").getAsString());
        // A signed header sent twice is ambiguous: the library refuses it (a Map would have hidden one).
        String nonce = cb.headerMap().entrySet().stream()
                .filter(h -> h.getKey().equalsIgnoreCase("Wechatpay-Nonce")).findFirst().get().getValue();
        headers.add(new AbstractMap.SimpleEntry<>("Wechatpay-Nonce", nonce + "X"));
        GoldPlanException e = assertThrows(GoldPlanException.class, () -> client.parseNotification(headers, cb.body));
        assertEquals("invalid_header", e.kind());
        assertEquals("signature", e.family());
    }

    @Test
    void aReplayedCallbackIsRefusedByTheCallersGuard() throws Exception {
        Callback cb = callback("J-3");
        Set<String> processed = new HashSet<>();
        List<String> asked = new ArrayList<>();
        ReplayGuard guard = id -> {
            asked.add(id);
            return processed.contains(id);
        };
        // First time: the guard says no, the callback goes through.
        JsonObject n = client.parseNotification(cb.headers, cb.body, guard).data().getAsJsonObject();
        String id = n.get("id").getAsString();
        assertEquals(Arrays.asList(id), asked);
        processed.add(id);
        GoldPlanException e = assertThrows(GoldPlanException.class,
                () -> client.parseNotification(cb.headerMap(), cb.body, guard));
        assertEquals("replay", e.family());
        assertEquals("replay", e.kind());
        assertEquals(8, e.status());
        // Without a guard the same callback still parses (the old overloads are unchanged).
        assertEquals(id, client.parseNotification(cb.headerMap(), cb.body).data().getAsJsonObject().get("id")
                .getAsString());
        // A guard that fails is not a replay: its exception reaches the caller.
        IllegalStateException down = new IllegalStateException("replay store down");
        ReplayGuard broken = x -> {
            throw down;
        };
        assertEquals(down, assertThrows(IllegalStateException.class,
                () -> client.parseNotification(cb.headers, cb.body, broken)));
        // A forged callback never reaches the guard.
        int before = asked.size();
        byte[] tampered = cb.body.clone();
        tampered[tampered.length - 2] ^= 1;
        assertEquals("signature", assertThrows(GoldPlanException.class,
                () -> client.parseNotification(cb.headers, tampered, guard)).family());
        assertEquals(before, asked.size());
    }

    @Test
    void aReplayedCallbackIsRefusedByTheLibrarysGuard() throws Exception {
        Callback cb = callback("J-4");
        MemoryReplayGuard guard = new MemoryReplayGuard(100);
        try {
            String id = client.parseNotification(cb.headers, cb.body, guard).data().getAsJsonObject().get("id")
                    .getAsString();
            assertFalse(guard.alreadyProcessed(id));
            // Asking never records: parsing again before the handler finished still works.
            client.parseNotification(cb.headers, cb.body, guard);
            guard.recordProcessed(id);
            assertTrue(guard.alreadyProcessed(id));
            GoldPlanException e = assertThrows(GoldPlanException.class,
                    () -> client.parseNotification(cb.headers, cb.body, guard));
            assertEquals("replay", e.family());
            GoldPlanException tooLong = assertThrows(GoldPlanException.class,
                    () -> guard.recordProcessed(new String(new char[300]).replace('\0', 'Q')));
            assertEquals("invalid_input", tooLong.kind());
            assertFalse(tooLong.getMessage().contains("QQQ"), tooLong.getMessage());
        } finally {
            guard.close();
        }
        guard.close();
        assertThrows(IllegalStateException.class, () -> guard.recordProcessed("EV-1"));
        assertThrows(IllegalStateException.class, () -> client.parseNotification(cb.headers, cb.body, guard));
        assertEquals("configuration", assertThrows(GoldPlanException.class, () -> new MemoryReplayGuard(0)).family());
    }

    @Test
    void uploadImage() {
        byte[] png = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
        Reply r = client.uploadImage("logo.png", png);
        assertTrue(r.data().getAsJsonObject().get("media_id").getAsString().length() > 0, r.json());
        assertNotNull(r.requestId());
        GoldPlanException e = assertThrows(GoldPlanException.class, () -> client.uploadImage("logo.gif", png));
        assertEquals("invalid_input", e.family());
    }

    @Test
    void oneClientFromManyThreads() throws Exception {
        AtomicInteger failures = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            Thread thread = new Thread(() -> {
                for (int i = 0; i < 100; i++) {
                    try {
                        client.closeAdvertisingShow(subMchid);
                    } catch (GoldPlanException e) {
                        failures.incrementAndGet();
                    }
                }
            });
            threads.add(thread);
            thread.start();
        }
        for (Thread thread : threads) {
            thread.join();
        }
        assertEquals(0, failures.get());
    }

    @Test
    void versionAndClosedClients() {
        assertTrue(GoldPlanClient.version().matches("\\d+\\.\\d+\\.\\d+.*"), GoldPlanClient.version());
        GoldPlanClient other = GoldPlanClient.fromFile(config);
        other.close();
        other.close();
        assertThrows(IllegalStateException.class, () -> other.closeAdvertisingShow(subMchid));
    }

    @Test
    void theReadmeQuickStartRuns() throws Exception {
        // The README shows QuickStart.java verbatim.
        String readme = new String(Files.readAllBytes(Paths.get(System.getProperty("goldplan.readme"))),
                StandardCharsets.UTF_8);
        String source = new String(Files.readAllBytes(
                Paths.get("src/test/java/dev/goldplan/QuickStart.java")), StandardCharsets.UTF_8);
        assertTrue(readme.contains("```java\n" + source + "```"), "README.md shows QuickStart.java verbatim");
        PrintStream saved = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, "UTF-8"));
        try {
            QuickStart.main(new String[] {config, subMchid});
        } finally {
            System.setOut(saved);
        }
        String printed = new String(captured.toByteArray(), StandardCharsets.UTF_8);
        assertTrue(printed.contains("\"sub_mchid\":\"" + subMchid + "\""), printed);
        assertTrue(printed.contains("api 400 MCH_NOT_EXISTS"), printed);
        assertTrue(new File(config).exists());
    }
}
