<?php

declare(strict_types=1);

namespace GoldPlan\Internal;

/**
 * JSON both ways across the C boundary. Encoding failures (invalid UTF-8 above all) are the
 * caller's bad input; their messages never quote the value.
 *
 * @internal
 */
final class Json
{
    public static function encode(#[\SensitiveParameter] mixed $value, string $what): string
    {
        if ($value === []) {
            return '{}';
        }
        // No JSON_PRESERVE_ZERO_FRACTION: 100.0 goes as 100, as json_encode() and the extension
        // send it, so an integer field computed in floats is accepted by either door.
        try {
            return json_encode($value, \JSON_THROW_ON_ERROR | \JSON_UNESCAPED_UNICODE | \JSON_UNESCAPED_SLASHES);
        } catch (\JsonException $e) {
            throw Failure::of('invalid_input', 'invalid_input', "$what cannot be sent as JSON: " . self::problem($e->getCode()));
        }
    }

    /** The words of the extension's encode_problem() (goldplan_json.c) for a json_encode() error. */
    private static function problem(int $code): string
    {
        return match ($code) {
            \JSON_ERROR_UTF8 => 'a string is not valid UTF-8',
            \JSON_ERROR_DEPTH => 'it is nested too deeply',
            \JSON_ERROR_RECURSION => 'it contains a recursive reference',
            \JSON_ERROR_INF_OR_NAN => 'it contains INF or NAN',
            \JSON_ERROR_UNSUPPORTED_TYPE => 'it contains a value that has no JSON form (a resource or a closure)',
            default => 'it has no JSON form',
        };
    }

    /** @return array<mixed> */
    public static function decode(#[\SensitiveParameter] string $json): array
    {
        try {
            $value = json_decode($json, true, 512, \JSON_THROW_ON_ERROR | \JSON_BIGINT_AS_STRING);
        } catch (\JsonException $e) {
            throw Failure::of('decode', 'decode', 'libgoldplan returned malformed JSON: ' . $e->getMessage());
        }
        return $value === null ? [] : (array) $value;
    }

    /** Any JSON value decoded (a helper's string, bool or object result). */
    public static function decodeValue(#[\SensitiveParameter] string $json): mixed
    {
        try {
            return json_decode($json, true, 512, \JSON_THROW_ON_ERROR | \JSON_BIGINT_AS_STRING);
        } catch (\JsonException $e) {
            throw Failure::of('decode', 'decode', 'libgoldplan returned malformed JSON: ' . $e->getMessage());
        }
    }

    /**
     * Overwrites a string that held secrets (a configuration's JSON). PHP strings are shared
     * copy-on-write: writing the bytes of our only reference changes them in place.
     */
    public static function wipe(#[\SensitiveParameter] string &$text): void
    {
        for ($i = 0, $n = \strlen($text); $i < $n; $i++) {
            $text[$i] = "\0";
        }
        $text = '';
    }
}
