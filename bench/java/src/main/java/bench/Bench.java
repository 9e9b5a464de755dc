package bench;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.wechat.pay.java.core.Config;
import com.wechat.pay.java.core.RSAPublicKeyConfig;
import com.wechat.pay.java.core.http.DefaultHttpClientBuilder;
import com.wechat.pay.java.core.http.HttpClient;
import com.wechat.pay.java.core.http.HttpMethod;
import com.wechat.pay.java.core.http.HttpRequest;
import com.wechat.pay.java.core.http.JsonRequestBody;
import dev.goldplan.GoldPlanClient;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

/**
 * The same signed call (POST close-advertising-show: sign, send, verify the 204's signature)
 * through goldplan-java and through wechatpay-java, against one sandbox in public-key mode.
 * Prints calls/s and this JVM's CPU time per call (all its threads, native ones included; the
 * sandbox's CPU is not counted). usage: Bench SANDBOX_JSON CALLS THREADS
 */
public final class Bench {
    interface Call {
        void run() throws Exception;
    }

    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    private static void measure(String name, Call call, int calls, int threads) throws Exception {
        for (int i = 0; i < Math.min(500, calls); i++) {
            call.run(); // warm-up: JIT, connections
        }
        long cpu0 = cpuNanos();
        long t0 = System.nanoTime();
        List<Thread> workers = new ArrayList<>();
        final Exception[] failure = new Exception[1];
        for (int t = 0; t < threads; t++) {
            Thread w = new Thread(() -> {
                try {
                    for (int i = 0; i < calls / threads; i++) {
                        call.run();
                    }
                } catch (Exception e) {
                    failure[0] = e;
                }
            });
            workers.add(w);
            w.start();
        }
        for (Thread w : workers) {
            w.join();
        }
        if (failure[0] != null) {
            throw failure[0];
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        double cpuMs = (cpuNanos() - cpu0) / 1e6;
        int done = (calls / threads) * threads;
        System.out.printf("%-16s threads=%d calls=%d  %8.0f calls/s  %6.3f ms CPU/call%n", name, threads, done,
                done / secs, cpuMs / done);
    }

    public static void main(String[] args) throws Exception {
        String path = args[0];
        int calls = Integer.parseInt(args[1]);
        int threads = Integer.parseInt(args[2]);
        JsonObject info = JsonParser.parseString(new String(Files.readAllBytes(Paths.get(path)), StandardCharsets.UTF_8))
                .getAsJsonObject();
        String sub = info.getAsJsonArray("sub_mchids").get(0).getAsString();
        String body = "{\"sub_mchid\":\"" + sub + "\"}";
        String url = info.get("base_url").getAsString() + "/v3/goldplan/merchants/close-advertising-show";

        GoldPlanClient goldplan = GoldPlanClient.fromFile(path);
        // Ad display can only be switched once Gold Plan is open for the special merchant.
        goldplan.changeGoldPlanStatus(sub, "OPEN", null);
        Config config = new RSAPublicKeyConfig.Builder()
                .merchantId(info.get("mchid").getAsString())
                .privateKey(info.get("private_key_pem").getAsString())
                .merchantSerialNumber(info.get("serial_no").getAsString())
                .publicKeyId(info.get("public_key_id").getAsString())
                .publicKey(info.get("public_key_pem").getAsString())
                .apiV3Key(info.get("apiv3_key").getAsString())
                .build();
        HttpClient wechatpay = new DefaultHttpClientBuilder().config(config).build();

        Call viaGoldplan = () -> goldplan.closeAdvertisingShow(sub);
        Call viaWechatpay = () -> {
            HttpRequest request = new HttpRequest.Builder()
                    .httpMethod(HttpMethod.POST)
                    .url(url)
                    .addHeader("Accept", "application/json")
                    .addHeader("Content-Type", "application/json")
                    .body(new JsonRequestBody.Builder().body(body).build())
                    .build();
            wechatpay.execute(request, Object.class);
        };
        // Alternate, twice each, so neither side always runs on a warmer machine.
        for (int round = 0; round < 2; round++) {
            measure("goldplan-java", viaGoldplan, calls, threads);
            measure("wechatpay-java", viaWechatpay, calls, threads);
        }
        goldplan.close();
    }
}
