package dev.goldplan;

/**
 * The merchant receipt (商家小票) page's {@code check_code}.
 *
 * @deprecated the helpers are static methods of {@link Protocol}, under the names every binding
 *     uses: {@link Protocol#expectedCheckCode}, {@link Protocol#verifyCheckCode}, {@link
 *     Protocol#parseReceiptQuery}. These delegate to them.
 */
@Deprecated
public final class Receipt {
    private Receipt() {
    }

    /**
     * The {@code check_code} expected for an order.
     *
     * @deprecated use {@link Protocol#expectedCheckCode} (same behaviour).
     */
    @Deprecated
    public static String checkCode(String configuredLink, String subMchId, String outTradeNo, String transactionId) {
        return Protocol.expectedCheckCode(configuredLink, subMchId, outTradeNo, transactionId);
    }

    /**
     * Whether a received {@code checkCode} is the one WeChat computed (constant time, any case).
     *
     * @deprecated use {@link Protocol#verifyCheckCode} (same behaviour).
     */
    @Deprecated
    public static boolean verifyCheckCode(String configuredLink, String subMchId, String outTradeNo,
            String transactionId, String checkCode) {
        return Protocol.verifyCheckCode(configuredLink, subMchId, outTradeNo, transactionId, checkCode);
    }

    /**
     * Parses a received receipt URL (or its query).
     *
     * @deprecated use {@link Protocol#parseReceiptQuery} (same behaviour).
     */
    @Deprecated
    public static Reply parseUrl(String url) {
        return Protocol.parseReceiptQuery(url);
    }
}
