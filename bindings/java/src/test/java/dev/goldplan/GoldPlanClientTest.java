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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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

    @Test
    void notificationsAreVerifiedAndDecrypted() throws Exception {
        BlockingQueue<Object[]> received = new ArrayBlockingQueue<>(4);
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/notify", exchange -> {
            Map<String, String> headers = new HashMap<>();
            for (Map.Entry<String, List<String>> h : exchange.getRequestHeaders().entrySet()) {
                headers.put(h.getKey(), h.getValue().get(0));
            }
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            InputStream in = exchange.getRequestBody();
            byte[] buf = new byte[4096];
            for (int n; (n = in.read(buf)) > 0;) {
                body.write(buf, 0, n);
            }
            received.add(new Object[] {headers, body.toByteArray()});
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        server.start();
        try {
            int port = server.getAddress().getPort();
            assertEquals(200, admin("POST", "/callbacks", "{\"url\":\"http://127.0.0.1:" + port
                    + "/notify\",\"max_attempts\":1,\"resource\":{\"out_trade_no\":\"J-1\",\"trade_state\":\"SUCCESS\"}}"));
            Object[] got = received.poll(10, TimeUnit.SECONDS);
            assertNotNull(got, "callback received");
            @SuppressWarnings("unchecked")
            Map<String, String> headers = (Map<String, String>) got[0];
            byte[] body = (byte[]) got[1];
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
        } finally {
            server.stop(0);
        }
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
