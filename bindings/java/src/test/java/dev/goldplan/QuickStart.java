package dev.goldplan;

import java.util.Arrays;

/** The README's Java quick start (GoldPlanClientTest runs it against a sandbox). */
public final class QuickStart {
    public static void main(String[] args) {
        String config = args.length > 0 ? args[0] : "goldplan-sandbox-state/sandbox.json";
        String subMchid = args.length > 1 ? args[1] : "1900000109";
        try (GoldPlanClient client = GoldPlanClient.fromFile(config)) {
            Reply reply = client.changeGoldPlanStatus(subMchid, "OPEN", "JSAPI");
            System.out.println(reply.json() + " (Request-ID " + reply.requestId() + ")");
            client.setAdvertisingIndustryFilter(subMchid, Arrays.asList("SOFTWARE"));
            try {
                client.closeAdvertisingShow("1234567890"); // not a special merchant of ours
            } catch (GoldPlanException e) {
                // kind "api", HTTP status, WeChat's code and the Request-ID to quote to support
                System.out.println(e.kind() + " " + e.httpStatus() + " " + e.code() + " " + e.requestId());
            }
        }
    }
}
