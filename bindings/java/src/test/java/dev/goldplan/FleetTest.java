package dev.goldplan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.File;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The fleet settings from Java: clients (as instances of a service would) configured with one
 * Redis share the platform certificate download; a shared rate limit is accepted; an unknown
 * store is a configuration error that does not show its URL.
 */
class FleetTest {
    private static int freePort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /** A redis-server of its own on a loopback port; killed by the caller. */
    private static Process startRedis(int port) throws Exception {
        Path dir = Files.createTempDirectory("goldplan-java-redis-");
        Process redis = new ProcessBuilder("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", dir.toString())
                .redirectOutput(new File("/dev/null"))
                .redirectError(new File("/dev/null"))
                .start();
        for (int i = 0; i < 200; i++) {
            try {
                new Socket("127.0.0.1", port).close();
                return redis;
            } catch (java.io.IOException notYet) {
                Thread.sleep(25);
            }
        }
        redis.destroyForcibly();
        throw new AssertionError("redis-server did not start (cargo make redis-tools installs it)");
    }

    @Test
    void instancesConfiguredWithOneRedisDownloadTheCertificatesOnce() throws Exception {
        int port = freePort();
        Process redis = startRedis(port);
        try (PaymentsTest.Sandbox sandbox = new PaymentsTest.Sandbox("certificate")) {
            JsonObject config = sandbox.info.deepCopy();
            config.addProperty("mode", "certificate");
            config.addProperty("certificate_store", "redis://127.0.0.1:" + port + "/0");
            JsonObject rate = new JsonObject();
            rate.addProperty("per_second", 500);
            config.add("rate_limit", rate);
            for (int instance = 0; instance < 3; instance++) {
                try (GoldPlanClient client = GoldPlanClient.fromJson(config.toString())) {
                    client.changeGoldPlanStatus("1900000109", "OPEN", "JSAPI");
                }
            }
            int downloads = 0;
            for (JsonElement request : sandbox.admin("GET", "/requests", null).body.getAsJsonArray()) {
                if (request.getAsJsonObject().get("path").getAsString().startsWith("/v3/certificates")) {
                    downloads++;
                }
            }
            assertEquals(1, downloads);
        } finally {
            redis.destroyForcibly();
        }
    }

    @Test
    void anUnknownStoreIsAConfigurationErrorWithoutItsUrl() throws Exception {
        try (PaymentsTest.Sandbox sandbox = new PaymentsTest.Sandbox("certificate")) {
            JsonObject config = sandbox.info.deepCopy();
            config.addProperty("certificate_store", "memcached://:hunter2@127.0.0.1/");
            GoldPlanException e = assertThrows(GoldPlanException.class,
                    () -> GoldPlanClient.fromJson(config.toString()).close());
            assertEquals("configuration", e.kind());
            assertFalse(e.getMessage().contains("hunter2"), e.getMessage());
            assertTrue(e.getMessage().contains("certificate_store"), e.getMessage());
        }
    }
}
