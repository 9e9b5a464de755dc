<?php

declare(strict_types=1);

namespace GoldPlan\Internal;

use GoldPlan\Exception;
use GoldPlan\Exception\GoldPlanException;

/**
 * Turns the core's error report into the one exception class of its family: the only place
 * where errors are mapped, for failures of the library and of this package alike.
 *
 * @internal
 */
final class Failure
{
    private const CLASSES = [
        'configuration' => Exception\ConfigurationException::class,
        'invalid_input' => Exception\InvalidInputException::class,
        'signature' => Exception\SignatureException::class,
        'signing' => Exception\SigningException::class,
        'encryption' => Exception\EncryptionException::class,
        'decryption' => Exception\DecryptionException::class,
        'certificate' => Exception\CertificateException::class,
        'replay' => Exception\ReplayException::class,
        'decode' => Exception\DecodeException::class,
        'api' => Exception\ApiException::class,
        'transport' => Exception\TransportException::class,
        'internal' => Exception\InternalException::class,
    ];

    /** The family of each goldplan_status, for a failure that left no readable report. */
    private const FAMILY_OF_STATUS = [
        1 => 'configuration', 2 => 'invalid_input', 3 => 'signature', 4 => 'signing',
        5 => 'encryption', 6 => 'decryption', 7 => 'certificate', 8 => 'replay', 9 => 'decode',
        10 => 'api', 11 => 'transport', 12 => 'internal', 13 => 'invalid_input',
        14 => 'invalid_input', 15 => 'invalid_input',
    ];

    /** @param array<string, mixed>|null $report goldplan_last_error_report(), decoded */
    public static function fromReport(?array $report, int $status): GoldPlanException
    {
        $report ??= [];
        $family = \is_string($report['family'] ?? null) && isset(self::CLASSES[$report['family']])
            ? $report['family']
            : (self::FAMILY_OF_STATUS[$status] ?? 'internal');
        $message = \is_string($report['message'] ?? null) && $report['message'] !== ''
            ? $report['message']
            : "goldplan failed with status $status and no error report";
        return self::build(
            $family,
            \is_string($report['kind'] ?? null) ? $report['kind'] : $family,
            $message,
            [
                'requestId' => \is_string($report['request_id'] ?? null) ? $report['request_id'] : null,
                'status' => \is_int($report['status'] ?? null) ? $report['status'] : null,
                'detail' => $report['detail'] ?? null,
                'retryable' => ($report['retryable'] ?? false) === true,
                'code' => $family === 'api' && \is_string($report['code'] ?? null) ? $report['code'] : 0,
            ],
        );
    }

    /** A failure detected by this package before the library was asked. */
    public static function of(string $family, string $kind, string $message, ?\Throwable $previous = null): GoldPlanException
    {
        return self::build($family, $kind, $message, [], $previous);
    }

    /** @param array<string, mixed> $fields */
    private static function build(string $family, string $kind, string $message, array $fields, ?\Throwable $previous = null): GoldPlanException
    {
        $class = self::CLASSES[$family];
        $e = new $class($message, 0, $previous);
        // The stub gives the exceptions no setters; the properties are protected, so bind.
        (function () use ($family, $kind, $fields): void {
            $this->family = $family;
            $this->kind = $kind;
            $this->requestId = $fields['requestId'] ?? null;
            $this->status = $fields['status'] ?? null;
            $this->detail = $fields['detail'] ?? null;
            $this->retryable = $fields['retryable'] ?? false;
            // Exception::$code is untyped: a WeChat code string, as PDOException keeps SQLSTATE.
            $this->code = $fields['code'] ?? 0;
        })->call($e);
        self::forgetArguments($e);
        return $e;
    }

    /**
     * Several calls take keys, and a key is also pasted where a path or a ciphertext belongs
     * (Client::fromFile, decryptSensitive): the trace of a goldplan exception keeps no
     * arguments, whatever zend.exception_ignore_args says, as the extension's
     * (goldplan_errors.c). Exception::$trace is private to an internal class, which a bound
     * closure cannot reach; reflection can.
     */
    private static function forgetArguments(\Exception $e): void
    {
        $trace = array_map(static function (array $frame): array {
            unset($frame['args']);
            return $frame;
        }, $e->getTrace());
        (new \ReflectionProperty(\Exception::class, 'trace'))->setValue($e, $trace);
    }
}
