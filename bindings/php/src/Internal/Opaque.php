<?php

declare(strict_types=1);

namespace GoldPlan\Internal;

/**
 * What the extension's @strict-properties and @not-serializable classes do, for the classes
 * that own a native handle: a copy or a serialized form would share or lose the handle, and a
 * dynamic property would be a typo the extension refuses.
 *
 * @internal
 */
trait Opaque
{
    public function __clone()
    {
        // $this is the copy, already holding the original's handle: when it dies, its
        // __destruct must not free the handle the original still uses.
        $this->handle = null;
        throw new \Error('Trying to clone an uncloneable object of class ' . static::class);
    }

    public function __serialize(): array
    {
        throw new \Exception("Serialization of '" . static::class . "' is not allowed");
    }

    /** @param array<mixed> $data */
    public function __unserialize(array $data): void
    {
        throw new \Exception("Unserialization of '" . static::class . "' is not allowed");
    }

    public function __sleep(): array
    {
        throw new \Exception("Serialization of '" . static::class . "' is not allowed");
    }

    public function __wakeup(): void
    {
        throw new \Exception("Unserialization of '" . static::class . "' is not allowed");
    }

    public function __set(string $name, mixed $value): void
    {
        throw new \Error('Cannot create dynamic property ' . static::class . '::$' . $name);
    }
}
