package dev.goldplan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.sun.net.httpserver.HttpServer;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A partner JSAPI payment end to end against a sandbox process, in each key mode: prepay, the
 * front-end pay-sign, the payer pays with those six values through the sandbox's admin API (which
 * checks paySign like the WeChat client), the TRANSACTION.SUCCESS notification reaches an
 * {@link HttpServer} on 127.0.0.1 and goes through {@link GoldPlanClient#parseNotification}, then
 * both queries, close and the refusals. Also payments.json (P1) on a sandbox client.
 *
 * <p>The pom compiles for Java 8, so the admin calls use {@link HttpURLConnection}
 * ({@code java.net.http.HttpClient} is Java 11+).
 */
class PaymentsTest {
    private static final Path VECTORS = Paths.get(System.getProperty("goldplan.vectors"));
    private static final String SUB = "1900000109";
    private static final String SP_APPID = "wx8888888888888888";
    private static final String SUB_APPID = "wxd678efh567hg6999";
    private static final String SUB_OPENID = "oSubTest0123456789abcdefABCD";
    private static final String SP_OPENID = "oSpTest0123456789abcdefABCDE";
    private static final List<String> FORM_KEYS =
            Arrays.asList("appId", "nonceStr", "package", "paySign", "signType", "timeStamp");
    private static final SecureRandom RANDOM = new SecureRandom();

    /** A sandbox process of its own in a key mode, and a client of it. */
    static final class Sandbox implements AutoCloseable {
        final Process process;
        final String baseUrl;
        final JsonObject info;
        final GoldPlanClient client;

        Sandbox(String mode) throws Exception {
            Path state = Files.createTempDirectory("goldplan-java-payments-");
            process = new ProcessBuilder(System.getProperty("goldplan.sandbox"), "--port", "0", "--state-dir",
                    state.toString(), "--mode", mode)
                    .redirectError(state.resolve("sandbox.log").toFile())
                    .start();
            BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8));
            baseUrl = out.readLine();
            assertNotNull(baseUrl, "the sandbox printed its base URL");
            info = JsonParser.parseString(new String(Files.readAllBytes(state.resolve("sandbox.json")),
                    StandardCharsets.UTF_8)).getAsJsonObject();
            assertEquals(baseUrl, info.get("base_url").getAsString());
            client = GoldPlanClient.fromFile(state.resolve("sandbox.json").toString());
        }

        String s(String name) {
            return info.get(name).getAsString();
        }

        /** A call to the admin API ({base_url}/sandbox + path): its status and JSON answer. */
        AdminReply admin(String method, String path, String json) throws IOException {
            HttpURLConnection c = (HttpURLConnection) new URL(baseUrl + "/sandbox" + path).openConnection();
            c.setRequestMethod(method);
            c.setConnectTimeout(10_000);
            c.setReadTimeout(10_000);
            if (json != null) {
                byte[] body = json.getBytes(StandardCharsets.UTF_8);
                c.setDoOutput(true);
                c.setRequestProperty("Content-Type", "application/json");
                c.setFixedLengthStreamingMode(body.length);
                try (OutputStream o = c.getOutputStream()) {
                    o.write(body);
                }
            }
            int status = c.getResponseCode();
            InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream();
            String text = in == null ? "" : new String(readAll(in), StandardCharsets.UTF_8);
            return new AdminReply(status, text.isEmpty() ? null : JsonParser.parseString(text));
        }

        @Override
        public void close() {
            client.close();
            process.destroy();
        }
    }

    static final class AdminReply {
        final int status;
        final JsonElement body;

        AdminReply(int status, JsonElement body) {
            this.status = status;
            this.body = body;
        }

        JsonObject object() {
            assertTrue(body != null && body.isJsonObject(), "a JSON object: " + body);
            return body.getAsJsonObject();
        }
    }

    private static byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        try (InputStream input = in) {
            for (int n; (n = input.read(buf)) > 0;) {
                out.write(buf, 0, n);
            }
        }
        return out.toByteArray();
    }

    private static String s(JsonObject o, String name) {
        JsonElement e = o.get(name);
        assertTrue(e != null && e.isJsonPrimitive() && e.getAsJsonPrimitive().isString(), name + " is a string in " + o);
        return e.getAsString();
    }

    /** {@code appId\ntimeStamp\nnonceStr\npackage\n}: what paySign signs. */
    static String message(JsonObject pay) {
        return s(pay, "appId") + "\n" + s(pay, "timeStamp") + "\n" + s(pay, "nonceStr") + "\n" + s(pay, "package") + "\n";
    }

    /** Whether {@code signature} is SHA256withRSA over {@code message} by the certificate's key (the JDK checks). */
    static boolean verifies(String signature, String message, String certificatePem) throws Exception {
        X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(certificatePem.getBytes(StandardCharsets.US_ASCII)));
        Signature v = Signature.getInstance("SHA256withRSA");
        v.initVerify(cert.getPublicKey());
        v.update(message.getBytes(StandardCharsets.UTF_8));
        return v.verify(Base64.getDecoder().decode(signature));
    }

    static String sha256(String text) throws Exception {
        StringBuilder hex = new StringBuilder();
        for (byte b : MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8))) {
            hex.append(String.format("%02x", b));
        }
        return hex.toString();
    }

    /**
     * One payments.json case through {@code client.requestPayment} at the vector's time and
     * nonce: the vector's four values, signType RSA, the vector's message and digest, never a
     * negative one. Returns the six values.
     */
    static JsonObject checkPaymentVector(GoldPlanClient client, JsonObject root, JsonObject c) throws Exception {
        String name = s(c, "name");
        assertEquals("prepay_id=" + s(c, "prepay_id"), s(c, "package"), name);
        assertEquals(c.get("len").getAsInt(), s(c, "message").getBytes(StandardCharsets.UTF_8).length, name);
        assertEquals(s(c, "sha256"), sha256(s(c, "message")), name);
        assertTrue(s(c, "time_stamp").matches("\\d{10}"), name);
        JsonObject pay = client.requestPayment(s(c, "app_id"), s(c, "prepay_id"), s(c, "nonce_str"),
                Long.valueOf(Long.parseLong(s(c, "time_stamp")))).data().getAsJsonObject();
        assertEquals(new TreeSet<>(FORM_KEYS), new TreeSet<>(pay.keySet()), name);
        assertEquals(s(c, "app_id"), s(pay, "appId"), name);
        assertEquals(s(c, "time_stamp"), s(pay, "timeStamp"), name + ": timeStamp is a string of seconds");
        assertEquals(s(c, "nonce_str"), s(pay, "nonceStr"), name);
        assertEquals(s(c, "package"), s(pay, "package"), name);
        assertEquals("RSA", s(pay, "signType"), name);
        String message = message(pay);
        assertEquals(s(c, "message"), message, name);
        assertEquals(s(c, "sha256"), sha256(message), name);
        for (JsonElement e : root.getAsJsonArray("negative")) {
            JsonObject n = e.getAsJsonObject();
            assertNotEquals(s(n, "message"), message, name + " vs " + s(n, "name"));
            assertNotEquals(s(n, "sha256"), sha256(message), name + " vs " + s(n, "name"));
        }
        return pay;
    }

    @Test
    void thePaymentVectorsOnASandboxClient() throws Exception {
        JsonObject root = JsonParser.parseString(new String(Files.readAllBytes(VECTORS.resolve("payments.json")),
                StandardCharsets.UTF_8)).getAsJsonObject();
        assertEquals(1, root.get("format_version").getAsInt());
        assertTrue(root.getAsJsonArray("cases").size() > 0);
        try (Sandbox sb = new Sandbox("public_key")) {
            assertEquals(200, sb.admin("DELETE", "/requests", null).status);
            for (JsonElement e : root.getAsJsonArray("cases")) {
                JsonObject c = e.getAsJsonObject();
                JsonObject pay = checkPaymentVector(sb.client, root, c);
                // paySign is the sandbox merchant's key over the message, and over nothing else.
                assertTrue(verifies(s(pay, "paySign"), s(c, "message"), sb.s("certificate_pem")), s(c, "name"));
                for (JsonElement n : root.getAsJsonArray("negative")) {
                    assertFalse(verifies(s(pay, "paySign"), s(n.getAsJsonObject(), "message"), sb.s("certificate_pem")),
                            s(n.getAsJsonObject(), "name"));
                }
            }
            assertEquals(new JsonArray(), sb.admin("GET", "/requests", null).body, "requestPayment sends nothing");
        }
    }

    /** What the notify URL received, and what parseNotification made of it. */
    private static final class Received {
        Reply parsed;
        GoldPlanException refused;
    }

    @ParameterizedTest
    @ValueSource(strings = {"certificate", "public_key", "combined"})
    void aJsapiPaymentFromPrepayToNotification(String mode) throws Exception {
        try (Sandbox sb = new Sandbox(mode)) {
            GoldPlanClient client = sb.client;
            String mchid = sb.s("mchid");
            // The defaults every binding's sandbox documents.
            assertEquals("1900000100", mchid);
            assertEquals(SP_APPID, sb.s("sp_appid"));
            assertEquals(JsonParser.parseString("[{\"sub_mchid\":\"" + SUB + "\",\"sub_appid\":\"" + SUB_APPID
                    + "\",\"jsapi\":true}]"), sb.info.get("sub_merchants"));
            assertEquals(JsonParser.parseString("[{\"sp_openid\":\"" + SP_OPENID + "\",\"sub_openid\":\""
                    + SUB_OPENID + "\"}]"), sb.info.get("users"));

            // The merchant's notify URL: parseNotification on the raw headers and body; 204
            // only once it parsed, 400 otherwise (the sandbox then retries).
            BlockingQueue<Received> received = new LinkedBlockingQueue<>();
            HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            server.createContext("/notify", exchange -> {
                Received r = new Received();
                try {
                    List<Map.Entry<String, String>> headers = new ArrayList<>();
                    for (Map.Entry<String, List<String>> h : exchange.getRequestHeaders().entrySet()) {
                        for (String value : h.getValue()) {
                            headers.add(new AbstractMap.SimpleEntry<>(h.getKey(), value));
                        }
                    }
                    byte[] body = readAll(exchange.getRequestBody());
                    try {
                        r.parsed = client.parseNotification(headers, body);
                        exchange.sendResponseHeaders(204, -1);
                    } catch (GoldPlanException e) {
                        r.refused = e;
                        byte[] answer = "{\"code\":\"FAIL\",\"message\":\"rejected\"}".getBytes(StandardCharsets.UTF_8);
                        exchange.getResponseHeaders().set("Content-Type", "application/json");
                        exchange.sendResponseHeaders(400, answer.length);
                        exchange.getResponseBody().write(answer);
                    }
                } finally {
                    exchange.close();
                    received.add(r);
                }
            });
            server.start();
            try {
                String notifyUrl = "http://127.0.0.1:" + server.getAddress().getPort() + "/notify";
                pay(sb, client, mchid, notifyUrl, received);
            } finally {
                server.stop(0);
            }
        }
    }

    private static void pay(Sandbox sb, GoldPlanClient client, String mchid, String notifyUrl,
            BlockingQueue<Received> received) throws Exception {
        byte[] random = new byte[4];
        RANDOM.nextBytes(random);
        StringBuilder suffix = new StringBuilder();
        for (byte b : random) {
            suffix.append(String.format("%02x", b));
        }
        String outTradeNo = "JAVA" + System.currentTimeMillis() + "_" + suffix;
        assertTrue(outTradeNo.length() <= 32, outTradeNo);
        int total = 1234;

        // 1. Prepay: the payer is known under the special merchant's AppID.
        Reply prepay = client.jsapiPrepay(SP_APPID, mchid, SUB, "点金计划测试商品", outTradeNo, notifyUrl,
                "{\"total\":" + total + ",\"currency\":\"CNY\"}", "{\"sub_openid\":\"" + SUB_OPENID + "\"}",
                "store=7", null, null, null, null, null, SUB_APPID, null, null);
        JsonObject prepayObject = prepay.data().getAsJsonObject();
        assertEquals(Collections.singleton("prepay_id"), prepayObject.keySet(), prepay.json());
        String prepayId = s(prepayObject, "prepay_id");
        assertFalse(prepayId.isEmpty());
        assertNotNull(prepay.requestId());
        JsonObject unpaid = client.queryOrderByOutTradeNo(outTradeNo, mchid, SUB).data().getAsJsonObject();
        assertEquals("NOTPAY", s(unpaid, "trade_state"), unpaid.toString());
        assertFalse(unpaid.has("transaction_id"), "no transaction_id before payment");

        // 2. The six values the page passes to getBrandWCPayRequest.
        long before = System.currentTimeMillis() / 1000;
        JsonObject form = client.requestPayment(SUB_APPID, prepayId, null, null).data().getAsJsonObject();
        long after = System.currentTimeMillis() / 1000;
        assertEquals(new TreeSet<>(FORM_KEYS), new TreeSet<>(form.keySet()), form.toString());
        for (String key : FORM_KEYS) {
            assertFalse(s(form, key).isEmpty(), key);
        }
        assertEquals(SUB_APPID, s(form, "appId"));
        assertEquals("prepay_id=" + prepayId, s(form, "package"));
        assertEquals("RSA", s(form, "signType"));
        assertTrue(s(form, "timeStamp").matches("\\d{10}"), "Unix seconds, not milliseconds: " + s(form, "timeStamp"));
        long at = Long.parseLong(s(form, "timeStamp"));
        assertTrue(before <= at && at <= after, at + " not in [" + before + ", " + after + "]");
        assertNotEquals(s(form, "nonceStr"),
                s(client.requestPayment(SUB_APPID, prepayId, null, null).data().getAsJsonObject(), "nonceStr"),
                "a fresh nonce each time");
        assertTrue(verifies(s(form, "paySign"), message(form), sb.s("certificate_pem")),
                "paySign is the merchant key over the four lines");

        // 3. The payer pays. A tampered paySign is refused like the WeChat client would.
        JsonObject tampered = form.deepCopy();
        byte[] bogus = new byte[256];
        RANDOM.nextBytes(bogus);
        tampered.addProperty("paySign", Base64.getEncoder().encodeToString(bogus));
        AdminReply refused = sb.admin("POST", "/v1/pay", tampered.toString());
        assertEquals(400, refused.status, String.valueOf(refused.body));
        assertEquals("SIGNATURE_MISMATCH", s(refused.object(), "code"));
        AdminReply paidReply = sb.admin("POST", "/v1/pay", form.toString());
        assertEquals(200, paidReply.status, String.valueOf(paidReply.body));
        JsonObject paid = paidReply.object();
        assertEquals("SUCCESS", s(paid, "trade_state"));
        String transactionId = s(paid, "transaction_id");
        assertFalse(transactionId.isEmpty());
        String callbackId = s(paid, "callback_id");

        // 4. The notification, through parseNotification (bounded wait; the listener answered
        // 204 only once it parsed).
        Received r = received.poll(15, TimeUnit.SECONDS);
        assertNotNull(r, "no notification within 15 s");
        if (r.refused != null) {
            throw new AssertionError("the notification did not parse: " + r.refused.report(), r.refused);
        }
        JsonObject n = r.parsed.data().getAsJsonObject();
        assertEquals(callbackId, s(n, "id"));
        assertEquals("TRANSACTION.SUCCESS", s(n, "event_type"));
        assertEquals("encrypt-resource", s(n, "resource_type"));
        assertEquals("支付成功", s(n, "summary"));
        JsonObject resource = n.getAsJsonObject("resource");
        assertNotNull(resource, n.toString());
        assertEquals(JsonParser.parseString(s(n, "plaintext")), resource, "resource is the plaintext, decoded");
        assertEquals("SUCCESS", s(resource, "trade_state"));
        assertEquals(transactionId, s(resource, "transaction_id"));
        assertEquals(outTradeNo, s(resource, "out_trade_no"));
        assertEquals(total, resource.getAsJsonObject("amount").get("total").getAsInt());
        assertEquals(mchid, s(resource, "sp_mchid"));
        assertEquals(SUB, s(resource, "sub_mchid"));
        assertEquals("store=7", s(resource, "attach"));
        assertEquals(SUB_OPENID, s(resource.getAsJsonObject("payer"), "sub_openid"));
        // The sandbox took the 204 as the acknowledgement.
        JsonObject record = delivered(sb, callbackId);
        assertEquals("delivered", s(record, "status"), record.toString());
        JsonArray attempts = record.getAsJsonArray("attempts");
        JsonObject last = attempts.get(attempts.size() - 1).getAsJsonObject();
        assertEquals(204, last.get("status").getAsInt(), last.toString());
        assertTrue(last.get("acknowledged").getAsBoolean(), last.toString());
        assertEquals(notifyUrl, s(record, "url"));

        // 5. Both queries answer the paid order.
        JsonObject byNo = client.queryOrderByOutTradeNo(outTradeNo, mchid, SUB).data().getAsJsonObject();
        assertEquals("SUCCESS", s(byNo, "trade_state"), byNo.toString());
        assertEquals(transactionId, s(byNo, "transaction_id"));
        assertEquals(total, byNo.getAsJsonObject("amount").get("total").getAsInt());
        JsonObject byId = client.queryOrderByTransactionId(transactionId, mchid, SUB).data().getAsJsonObject();
        assertEquals("SUCCESS", s(byId, "trade_state"), byId.toString());
        assertEquals(transactionId, s(byId, "transaction_id"));
        assertEquals(outTradeNo, s(byId, "out_trade_no"));
        JsonObject resolved = client.resolveTransactionId(SUB, outTradeNo, null).data().getAsJsonObject();
        assertEquals(JsonParser.parseString("{\"transaction_id\":\"" + transactionId + "\",\"trade_state\":\"SUCCESS\"}"),
                resolved);

        // 6. A paid order cannot be closed; an unknown one does not exist.
        GoldPlanException closed = assertThrows(GoldPlanException.class, () -> client.closeOrder(outTradeNo, mchid, SUB));
        assertEquals("api", closed.kind(), closed.report());
        assertEquals("ORDERPAID", closed.code(), closed.report());
        assertNotNull(closed.requestId());
        String unknown = "JAVANONE" + suffix;
        GoldPlanException missing = assertThrows(GoldPlanException.class,
                () -> client.queryOrderByOutTradeNo(unknown, mchid, SUB));
        assertEquals("api", missing.kind(), missing.report());
        assertEquals("ORDER_NOT_EXIST", missing.code(), missing.report());
        assertEquals(Integer.valueOf(404), missing.httpStatus());
        assertEquals(JsonParser.parseString("{\"transaction_id\":null,\"trade_state\":null}"),
                client.resolveTransactionId(SUB, unknown, null).data());

        // 7. An amount of 0 is refused by the core before anything is signed or sent.
        assertEquals(200, sb.admin("DELETE", "/requests", null).status);
        GoldPlanException zero = assertThrows(GoldPlanException.class, () -> client.jsapiPrepay(SP_APPID, mchid, SUB,
                "点金计划测试商品", unknown, notifyUrl, "{\"total\":0}", "{\"sub_openid\":\"" + SUB_OPENID + "\"}",
                null, null, null, null, null, null, SUB_APPID, null, null));
        assertEquals("invalid_input", zero.kind(), zero.report());
        assertEquals(new JsonArray(), sb.admin("GET", "/requests", null).body, "nothing may reach the gateway");
        assertTrue(received.isEmpty(), "one notification, acknowledged once");
    }

    /** The sandbox's delivery record once it is no longer pending (bounded wait). */
    private static JsonObject delivered(Sandbox sb, String callbackId) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        JsonObject record;
        do {
            AdminReply r = sb.admin("GET", "/callbacks/" + callbackId, null);
            assertEquals(200, r.status, String.valueOf(r.body));
            record = r.object();
            if (!s(record, "status").equals("pending")) {
                return record;
            }
            Thread.sleep(20);
        } while (System.nanoTime() < deadline);
        return record;
    }
}
