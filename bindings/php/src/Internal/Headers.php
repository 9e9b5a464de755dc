<?php

declare(strict_types=1);

namespace GoldPlan\Internal;

/**
 * HTTP headers as servers hand them to PHP (getallheaders(): name => value; PSR-7
 * getHeaders(): name => [values]; or [name, value] pairs), as the JSON list of pairs the
 * library reads. Names match case-insensitively there.
 *
 * @internal
 */
final class Headers
{
    /** @param array<mixed> $headers */
    public static function json(array $headers): string
    {
        $pairs = [];
        foreach ($headers as $name => $value) {
            if (\is_int($name)) {
                if (!\is_array($value) || !array_is_list($value) || \count($value) !== 2) {
                    throw Failure::of('invalid_input', 'invalid_input', "headers: entry $name is neither name => value nor a [name, value] pair");
                }
                $pairs[] = $value;
            } elseif (\is_array($value)) {
                foreach ($value as $one) {
                    $pairs[] = [$name, $one];
                }
            } else {
                $pairs[] = [$name, $value];
            }
        }
        return $pairs === [] ? '[]' : Json::encode($pairs, 'the headers');
    }
}
