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
        if (array_is_list($headers)) {
            return $headers === [] ? '[]' : Json::encode($headers, 'the headers');
        }
        $pairs = [];
        foreach ($headers as $name => $value) {
            foreach (\is_array($value) ? $value : [$value] as $one) {
                $pairs[] = [(string) $name, $one];
            }
        }
        return $pairs === [] ? '[]' : Json::encode($pairs, 'the headers');
    }
}
