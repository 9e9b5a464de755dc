package dev.goldplan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Signer, Verifier, Receipt and the replay guards against tests/vectors (no sandbox). */
class HelpersTest {
    private static final Path VECTORS = Paths.get(System.getProperty("goldplan.vectors"));

    private static JsonObject vectors(String name) throws Exception {
        return JsonParser.parseString(new String(Files.readAllBytes(VECTORS.resolve(name)), StandardCharsets.UTF_8))
                .getAsJsonObject();
    }

    private static String s(JsonObject o, String name) {
        return o.get(name).getAsString();
    }

    private static Map<String, String> headers(JsonObject c) {
        Map<String, String> h = new HashMap<>();
        for (Map.Entry<String, JsonElement> e : c.getAsJsonObject("headers").entrySet()) {
            h.put(e.getKey(), e.getValue().getAsString());
        }
        return h;
    }

    private static List<Map.Entry<String, String>> pairs(JsonObject c) {
        List<Map.Entry<String, String>> h = new ArrayList<>();
        for (Map.Entry<String, String> e : headers(c).entrySet()) {
            h.add(new AbstractMap.SimpleEntry<>(e.getKey(), e.getValue()));
        }
        return h;
    }

    private static Verifier verifier(JsonObject root) {
        JsonObject config = new JsonObject();
        config.addProperty("public_key_id", s(root, "public_key_id"));
        config.addProperty("public_key_pem", s(root, "public_key_pem"));
        return Verifier.fromJson(config.toString());
    }

    /** The first positive notification case. */
    private static JsonObject notificationCase(JsonObject root) {
        for (JsonElement e : root.getAsJsonArray("cases")) {
            JsonObject c = e.getAsJsonObject();
            if (s(c, "kind").equals("notification") && !c.has("apiv3_key")) {
                return c;
            }
        }
        throw new AssertionError("notification.json has no notification case");
    }

    @Test
    void theVerifierParsesVectorCallbacksAndRefusesReplays() throws Exception {
        JsonObject root = vectors("notification.json");
        JsonObject c = notificationCase(root);
        byte[] body = s(c, "body").getBytes(StandardCharsets.UTF_8);
        long now = c.get("now").getAsLong();
        String key = s(root, "apiv3_key");
        try (Verifier v = verifier(root); MemoryReplayGuard guard = new MemoryReplayGuard(10)) {
            JsonObject n = v.parseNotification(key, pairs(c), body, now, 0, guard).data().getAsJsonObject();
            String id = s(c.getAsJsonObject("expect"), "id");
            assertEquals(id, s(n, "id"));
            guard.recordProcessed(id);
            GoldPlanException replay = assertThrows(GoldPlanException.class,
                    () -> v.parseNotification(key, pairs(c), body, now, 0, guard));
            assertEquals("replay", replay.family());
            List<String> asked = new ArrayList<>();
            ReplayGuard no = x -> asked.add(x) && false;
            assertEquals(id, s(v.parseNotification(key, pairs(c), body, now, 0, no).data().getAsJsonObject(), "id"));
            assertEquals(1, asked.size());
            assertEquals("replay", assertThrows(GoldPlanException.class,
                    () -> v.parseNotification(key, pairs(c), body, now, 0, id::equals)).family());
            // The system clock is years past the vector's timestamp.
            assertEquals("clock_skew", assertThrows(GoldPlanException.class,
                    () -> v.parseNotification(key, headers(c), body, null)).kind());
            JsonObject verified = v.verify(pairs(c), body, now, 0).data().getAsJsonObject();
            assertEquals(s(root, "public_key_id"), s(verified, "serial"));
            assertTrue(v.encryptSensitive("张三").data().getAsJsonObject().get("ciphertext").getAsString().length() > 300);
        }
    }

    @Test
    void theVerifierRefusesTheNegativeVectors() throws Exception {
        JsonObject root = vectors("notification.json");
        try (Verifier v = verifier(root)) {
            int checked = 0;
            List<String> asked = new ArrayList<>();
            for (JsonElement e : root.getAsJsonArray("negative")) {
                JsonObject c = e.getAsJsonObject();
                byte[] body = s(c, "body").getBytes(StandardCharsets.UTF_8);
                long now = c.get("now").getAsLong();
                String key = c.has("apiv3_key") ? s(c, "apiv3_key") : s(root, "apiv3_key");
                GoldPlanException ex = assertThrows(GoldPlanException.class, () -> {
                    if (s(c, "kind").equals("notification")) {
                        v.parseNotification(key, pairs(c), body, now, 0, x -> asked.add(x) && false);
                    } else {
                        v.verify(pairs(c), body, now, 0);
                    }
                }, s(c, "name"));
                assertEquals(s(c, "expect_error"), ex.kind(), s(c, "name"));
                checked++;
            }
            assertTrue(checked > 0);
            assertEquals(new ArrayList<String>(), asked, "a refused callback reached the guard");
        }
    }

    @Test
    void theSignerSignsAsTheVectorsSay() throws Exception {
        JsonObject root = vectors("signing.json");
        JsonObject config = new JsonObject();
        config.addProperty("mchid", "1900000100");
        config.addProperty("serial_no", s(root, "serial_no"));
        config.addProperty("private_key_path", VECTORS.resolve(s(root, "key_pkcs8")).toString());
        try (Signer signer = Signer.fromJson(config.toString())) {
            for (JsonElement e : root.getAsJsonArray("cases")) {
                JsonObject c = e.getAsJsonObject();
                assertEquals(s(c, "signature"), signer.sign(s(c, "message").getBytes(StandardCharsets.UTF_8)),
                        s(c, "name"));
            }
            JsonObject signed = signer.signRequest("POST", "/v3/x?a=1", "{}".getBytes(StandardCharsets.UTF_8),
                    1700000000L).data().getAsJsonObject();
            assertEquals("/v3/x?a=1", s(signed, "canonical_url"));
            assertTrue(s(signed, "authorization").startsWith("WECHATPAY2-SHA256-RSA2048 mchid=\"1900000100\""));
            assertEquals("decryption", assertThrows(GoldPlanException.class,
                    () -> signer.decryptSensitive("bm90IG9hZXA=")).family());
        }
        Signer closed = Signer.fromJson(config.toString());
        closed.close();
        closed.close();
        assertThrows(IllegalStateException.class, () -> closed.sign(new byte[1]));
    }

    /**
     * payments.json (P1, the JSAPI pay-sign) through {@link GoldPlanClient#requestPayment} with the
     * merchant test key at the vector's time and nonce: the vector's four values, a paySign over
     * exactly the vector's message, and that paySign is signing.json's P1. requestPayment is
     * local, so the client needs no gateway ({@link PaymentsTest} does the same on a sandbox
     * client).
     */
    @Test
    void thePaySignAsThePaymentVectorsSay() throws Exception {
        JsonObject root = vectors("payments.json");
        JsonObject signing = vectors("signing.json");
        Map<String, String> signatures = new HashMap<>();
        for (JsonElement e : signing.getAsJsonArray("cases")) {
            signatures.put(s(e.getAsJsonObject(), "name"), s(e.getAsJsonObject(), "signature"));
        }
        JsonObject config = new JsonObject();
        config.addProperty("mchid", "1900000100");
        config.addProperty("serial_no", s(signing, "serial_no"));
        config.addProperty("private_key_path", VECTORS.resolve(s(signing, "key_pkcs8")).toString());
        config.addProperty("apiv3_key", "0123456789abcdefghijklmnopqrstuv");
        config.addProperty("public_key_id", "PUB_KEY_ID_0114232134912410000000000000000001");
        config.addProperty("public_key_path", VECTORS.resolve("keys/wechatpay_test_pubkey.pem").toString());
        config.addProperty("base_url", "http://127.0.0.1:9");
        assertTrue(root.getAsJsonArray("cases").size() > 0);
        assertTrue(root.getAsJsonArray("negative").size() > 0);
        try (GoldPlanClient client = GoldPlanClient.fromJson(config.toString())) {
            for (JsonElement e : root.getAsJsonArray("cases")) {
                JsonObject c = e.getAsJsonObject();
                String name = s(c, "name");
                JsonObject pay = PaymentsTest.checkPaymentVector(client, root, c);
                assertTrue(signatures.containsKey(name), "signing.json has no " + name);
                assertEquals(signatures.get(name), s(pay, "paySign"), name + ": paySign under the merchant test key");
                assertTrue(PaymentsTest.verifies(s(pay, "paySign"),
                        PaymentsTest.message(pay), new String(Files.readAllBytes(VECTORS.resolve(s(signing, "certificate"))),
                                StandardCharsets.UTF_8)), name);
            }
        }
    }

    @Test
    void receiptCheckCodesAsTheVectorsSay() throws Exception {
        JsonObject root = vectors("receipt.json");
        for (String list : new String[] {"cases", "negative"}) {
            for (JsonElement e : root.getAsJsonArray(list)) {
                JsonObject c = e.getAsJsonObject();
                assertEquals(s(c, "expected_check_code"), Protocol.expectedCheckCode(s(c, "configured_link"),
                        s(c, "sub_mch_id"), s(c, "out_trade_no"), s(c, "transaction_id")), s(c, "name"));
                assertEquals(s(c, "string_to_hash"), Protocol.checkCodeInput(s(c, "configured_link"),
                        s(c, "sub_mch_id"), s(c, "out_trade_no"), s(c, "transaction_id")), s(c, "name"));
                boolean valid = Protocol.verifyCheckCode(s(c, "configured_link"), s(c, "sub_mch_id"),
                        s(c, "out_trade_no"), s(c, "transaction_id"), s(c, "check_code"));
                assertEquals(c.get("valid").getAsBoolean(), valid, s(c, "name"));
            }
        }
        for (JsonElement e : root.getAsJsonArray("urls")) {
            JsonObject c = e.getAsJsonObject();
            JsonObject parsed = Protocol.parseReceiptQuery(s(c, "url")).data().getAsJsonObject();
            for (String field : new String[] {"sub_mch_id", "out_trade_no", "check_code"}) {
                assertEquals(c.get(field), parsed.get(field), s(c, "name") + " " + field);
            }
        }
        assertFalse(Protocol.verifyCheckCode("https://a", "1", "2", "3", "0"));
        assertNotNull(Protocol.expectedCheckCode("https://a", "1", "2", "3"));
    }

    /** The former {@code Receipt} methods answer as the {@link Protocol} ones they became. */
    @Test
    @SuppressWarnings("deprecation")
    void theDeprecatedReceiptNamesAnswerTheSame() throws Exception {
        JsonObject c = vectors("receipt.json").getAsJsonArray("cases").get(0).getAsJsonObject();
        assertEquals(s(c, "expected_check_code"), Receipt.checkCode(s(c, "configured_link"), s(c, "sub_mch_id"),
                s(c, "out_trade_no"), s(c, "transaction_id")));
        assertTrue(Receipt.verifyCheckCode(s(c, "configured_link"), s(c, "sub_mch_id"), s(c, "out_trade_no"),
                s(c, "transaction_id"), s(c, "check_code")));
        JsonObject u = vectors("receipt.json").getAsJsonArray("urls").get(0).getAsJsonObject();
        assertEquals(Protocol.parseReceiptQuery(s(u, "url")).json(), Receipt.parseUrl(s(u, "url")).json());
    }

    @Test
    void messagesAndCanonicalUrlsAsTheVectorsSay() throws Exception {
        for (JsonElement e : vectors("messages.json").getAsJsonArray("cases")) {
            JsonObject c = e.getAsJsonObject();
            if (s(c, "kind").equals("request")) {
                assertEquals(s(c, "message"), Protocol.messageToSign(s(c, "method"), s(c, "canonical_url"),
                        Long.parseLong(s(c, "timestamp")), s(c, "nonce"), s(c, "body")), s(c, "name"));
                assertEquals(s(c, "canonical_url"), Protocol.canonicalUrl(s(c, "canonical_url")), s(c, "name"));
            } else {
                assertEquals(s(c, "message"), Protocol.messageToVerify(s(c, "timestamp"), s(c, "nonce"),
                        s(c, "body")), s(c, "name"));
            }
        }
        GoldPlanException e = assertThrows(GoldPlanException.class, () -> Protocol.canonicalUrl("no-slash"));
        assertEquals("invalid_input", e.kind());
    }

    @Test
    void certificatesDecryptAsTheVectorsSay() throws Exception {
        JsonObject root = vectors("certificates.json");
        JsonObject response = root.getAsJsonObject("response");
        Reply r = Protocol.decryptCertificates(headers(response), s(response, "body"), s(root, "apiv3_key"),
                root.get("now").getAsLong(), new ArrayList<>());
        JsonObject got = r.data().getAsJsonObject();
        assertEquals(root.getAsJsonArray("expect").size(), got.getAsJsonArray("certificates").size());
        assertEquals(s(root, "newest_serial"), s(got, "newest_serial"));
        GoldPlanException e = assertThrows(GoldPlanException.class, () -> Protocol.decryptCertificates(
                headers(response), s(response, "body"), "0123456789abcdef0123456789abcdeX", root.get("now").getAsLong(),
                null));
        assertTrue(!e.report().contains("0123456789abcdef0123456789abcdeX"), e.report());
    }
}
