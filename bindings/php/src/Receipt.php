<?php

declare(strict_types=1);

namespace GoldPlan;

use GoldPlan\Internal\Native;

/** The merchant receipt (商家小票) page's check_code. */
final class Receipt
{
    /** The lower-case hex check_code WeChat computes for an order (raw, undecoded values). */
    public static function checkCode(string $configuredLink, string $subMchId, string $outTradeNo, string $transactionId): string
    {
        return Native::string(
            'goldplan_receipt_check_code',
            $configuredLink,
            \strlen($configuredLink),
            $subMchId,
            \strlen($subMchId),
            $outTradeNo,
            \strlen($outTradeNo),
            $transactionId,
            \strlen($transactionId),
        );
    }

    /** Whether a received check_code is the expected one (constant time). */
    public static function verifyCheckCode(string $configuredLink, string $subMchId, string $outTradeNo, string $transactionId, string $checkCode): bool
    {
        return Native::bool(
            'goldplan_receipt_verify_check_code',
            $configuredLink,
            \strlen($configuredLink),
            $subMchId,
            \strlen($subMchId),
            $outTradeNo,
            \strlen($outTradeNo),
            $transactionId,
            \strlen($transactionId),
            $checkCode,
            \strlen($checkCode),
        );
    }

    /** sub_mch_id, out_trade_no, check_code, each ["raw" => …, "decoded" => …]. */
    public static function parseUrl(string $url): array
    {
        return Native::response('goldplan_receipt_parse_url', $url, \strlen($url))[0];
    }
}
