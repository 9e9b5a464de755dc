<?php

declare(strict_types=1);

namespace GoldPlan\Internal;

/**
 * HTTP headers as servers hand them to PHP (getallheaders(): name => value; PSR-7
 * getHeaders(): name => [values]; or a list of [name, value] pairs), as the JSON list of
 * pairs the library reads; it matches names case-insensitively and checks every pair. The
 * same rules as the extension's gp_headers_json().
 *
 * @internal
 */
final class Headers
{
    /** @param array<mixed> $headers */
    public static function json(array $headers): string
    {
        $pairs = self::pairs($headers);
        return $pairs === [] ? '[]' : Json::encode($pairs, 'the headers');
    }

    /**
     * The same headers as a list of [name, value] pairs (a list is taken as pairs already).
     *
     * @param array<mixed> $headers
     * @return list<mixed>
     */
    public static function pairs(array $headers): array
    {
        if (array_is_list($headers)) {
            return $headers;
        }
        $pairs = [];
        foreach ($headers as $name => $value) {
            foreach (\is_array($value) ? $value : [$value] as $one) {
                $pairs[] = [(string) $name, $one];
            }
        }
        return $pairs;
    }
}
