package dev.goldplan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;

/** Reply: what a 204 gives, and toString never shows a decrypted resource (no native library needed). */
class ReplyTest {
    private static final String PLAINTEXT = "{\"out_trade_no\":\"SECRET-ORDER-42\",\"payer\":{\"openid\":\"o-SECRET\"}}";
    private static final String NOTIFICATION = notification();

    /** A notification as GoldPlanClient.parseNotification gets it from libgoldplan. */
    private static String notification() {
        JsonObject o = new JsonObject();
        o.addProperty("id", "EV-1");
        o.addProperty("create_time", "2026-12-07T08:00:00+08:00");
        o.addProperty("event_type", "TRANSACTION.SUCCESS");
        o.addProperty("resource_type", "encrypt-resource");
        o.addProperty("summary", "ok");
        o.addProperty("original_type", "transaction");
        o.add("request_id", null);
        o.addProperty("serial", "PUB_KEY_ID_1");
        o.addProperty("plaintext", PLAINTEXT);
        o.add("resource", JsonParser.parseString(PLAINTEXT));
        return o.toString();
    }

    @Test
    void aNotificationShowsItsEnvelopeAndThePlaintextLengthOnly() {
        Reply reply = new Reply(NOTIFICATION, "REQ-1", true);
        String shown = reply.toString();
        assertFalse(shown.contains("SECRET"), shown);
        assertFalse(shown.contains("out_trade_no"), shown);
        assertEquals("Reply(Notification(id=\"EV-1\", event_type=\"TRANSACTION.SUCCESS\", "
                + "create_time=\"2026-12-07T08:00:00+08:00\", serial=\"PUB_KEY_ID_1\", plaintext_len="
                + PLAINTEXT.length() + "), requestId=REQ-1)", shown);
        // The content itself is still there for the caller.
        assertTrue(reply.json().contains("SECRET-ORDER-42"));
    }

    @Test
    void aNotificationThatIsNotAnObjectShowsItsLengthOnly() {
        for (String json : new String[] {"[\"SECRET\"]", "{\"SECRET\"", "\"SECRET\""}) {
            String shown = new Reply(json, null, true).toString();
            assertEquals("Reply(json_len=" + json.length() + ", requestId=null)", shown);
        }
    }

    @Test
    void aCallThatAnswers204HasNoJsonAndJsonNullData() {
        // libgoldplan gives the JSON text "null" for a 204.
        Reply reply = new Reply("null", "R");
        assertNull(reply.json());
        assertTrue(reply.data().isJsonNull());
        assertEquals("Reply(null, requestId=R)", reply.toString());
    }

    @Test
    void otherRepliesShowTheirJson() {
        assertEquals("Reply({\"sub_mchid\":\"1900000109\"}, requestId=R)",
                new Reply("{\"sub_mchid\":\"1900000109\"}", "R").toString());
    }
}
