<?php

declare(strict_types=1);

namespace GoldPlan;

/**
 * The merchant receipt (商家小票) page's check_code under its former names.
 *
 * @deprecated The helpers are GoldPlan\Protocol's, under the registry's names:
 *   Protocol::expectedCheckCode, Protocol::verifyCheckCode, Protocol::parseReceiptQuery.
 */
final class Receipt
{
    /** @deprecated Use Protocol::expectedCheckCode() (the same result). */
    public static function checkCode(string $configuredLink, string $subMchId, string $outTradeNo, string $transactionId): string
    {
        self::deprecated('checkCode');
        return Protocol::expectedCheckCode($configuredLink, $subMchId, $outTradeNo, $transactionId);
    }

    /** @deprecated Use Protocol::verifyCheckCode() (the same result). */
    public static function verifyCheckCode(string $configuredLink, string $subMchId, string $outTradeNo, string $transactionId, string $checkCode): bool
    {
        self::deprecated('verifyCheckCode');
        return Protocol::verifyCheckCode($configuredLink, $subMchId, $outTradeNo, $transactionId, $checkCode);
    }

    /** @deprecated Use Protocol::parseReceiptQuery() (the same result). */
    public static function parseUrl(string $url): array
    {
        self::deprecated('parseUrl');
        return Protocol::parseReceiptQuery($url);
    }

    /**
     * The notice PHP gives for the extension's deprecated methods, word for word (E_DEPRECATED
     * there; user code can raise only E_USER_DEPRECATED), so either door tells the caller alike.
     */
    private static function deprecated(string $method): void
    {
        trigger_error("Method GoldPlan\\Receipt::$method() is deprecated", \E_USER_DEPRECATED);
    }
}
