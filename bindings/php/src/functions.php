<?php

declare(strict_types=1);

namespace GoldPlan;

// Functions cannot be autoloaded, so this file is loaded eagerly: it must declare nothing
// when the extension (or an earlier load) already did.
if (!\function_exists('GoldPlan\version')) {
    /** The library version of libgoldplan (e.g. "0.1.0"). */
    function version(): string
    {
        return Internal\Native::version();
    }
}
