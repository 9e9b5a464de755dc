package dev.goldplan;

import com.sun.jna.ptr.ByteByReference;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;

/** The merchant receipt (商家小票) page's {@code check_code}, computed and checked by libgoldplan. */
public final class Receipt {
    private static final GoldPlanNative LIB = GoldPlanNative.LIB;

    private Receipt() {
    }

    /**
     * The {@code check_code} expected for an order: lower-case hex MD5 of {@code
     * <configured_link>?sub_mch_id=...&out_trade_no=...&transaction_id=...}, the values exactly as
     * received (raw, not percent-decoded).
     */
    public static String checkCode(String configuredLink, String subMchId, String outTradeNo, String transactionId) {
        byte[] l = GoldPlanClient.utf8(configuredLink);
        byte[] s = GoldPlanClient.utf8(subMchId);
        byte[] o = GoldPlanClient.utf8(outTradeNo);
        byte[] t = GoldPlanClient.utf8(transactionId);
        PointerByReference out = new PointerByReference();
        LongByReference len = new LongByReference();
        GoldPlanClient.check(LIB.goldplan_receipt_check_code(l, l.length, s, s.length, o, o.length, t, t.length,
                out, len));
        return GoldPlanClient.takeString(out.getValue(), len.getValue());
    }

    /** Whether a received {@code checkCode} is the one WeChat computed (constant time, any case). */
    public static boolean verifyCheckCode(String configuredLink, String subMchId, String outTradeNo,
            String transactionId, String checkCode) {
        byte[] l = GoldPlanClient.utf8(configuredLink);
        byte[] s = GoldPlanClient.utf8(subMchId);
        byte[] o = GoldPlanClient.utf8(outTradeNo);
        byte[] t = GoldPlanClient.utf8(transactionId);
        byte[] c = GoldPlanClient.utf8(checkCode);
        ByteByReference valid = new ByteByReference();
        GoldPlanClient.check(LIB.goldplan_receipt_verify_check_code(l, l.length, s, s.length, o, o.length, t,
                t.length, c, c.length, valid));
        return valid.getValue() != 0;
    }

    /**
     * Parses a received receipt URL (or its query): {@code sub_mch_id}, {@code out_trade_no} and
     * {@code check_code}, each {@code {raw, decoded}}; use the raw values for the check code.
     */
    public static Reply parseUrl(String url) {
        byte[] u = GoldPlanClient.utf8(url);
        PointerByReference out = new PointerByReference();
        GoldPlanClient.check(LIB.goldplan_receipt_parse_url(u, u.length, out));
        return GoldPlanClient.reply(out.getValue());
    }
}
