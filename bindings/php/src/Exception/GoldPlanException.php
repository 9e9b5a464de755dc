<?php

declare(strict_types=1);

namespace GoldPlan\Exception;

/**
 * Base of every goldplan exception. getCode() is WeChat Pay's error code (a string such as
 * "PARAM_ERROR") for API errors, as PDOException does with SQLSTATE, and 0 otherwise.
 * Instances come from the core's error report (GoldPlan\Internal\Failure), mapped once.
 */
class GoldPlanException extends \RuntimeException
{
    /** The precise error kind, e.g. "clock_skew", "api", "timeout". */
    protected string $kind = "internal";
    /** The family, e.g. "signature"; one exception class per family. */
    protected string $family = "internal";
    protected ?string $requestId = null;
    /** The HTTP status of an API error. */
    protected ?int $status = null;
    /** WeChat Pay's error detail of an API error (decoded JSON). */
    protected mixed $detail = null;
    protected bool $retryable = false;

    public function getKind(): string
    {
        return $this->kind;
    }

    public function getFamily(): string
    {
        return $this->family;
    }

    public function getRequestId(): ?string
    {
        return $this->requestId;
    }

    public function getStatus(): ?int
    {
        return $this->status;
    }

    public function getDetail(): mixed
    {
        return $this->detail;
    }

    public function isRetryable(): bool
    {
        return $this->retryable;
    }
}
