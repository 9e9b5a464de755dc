<?php

declare(strict_types=1);

namespace GoldPlan\Internal;

use FFI;
use FFI\CData;
use GoldPlan\Exception\GoldPlanException;

/**
 * libgoldplan.so over PHP's FFI: finding the library, calling it, reading and freeing what it
 * returns, and turning failures into exceptions. Every call of the FFI API (FFI::cdef,
 * FFI::scope, FFI::new, FFI::addr, FFI::string) is in this class, because under PHP-FPM with
 * ffi.enable=preload PHP allows them only from code compiled by opcache.preload: preload.php
 * preloads this class, the FFI scope "goldplan" and the rest of the package.
 *
 * The library is looked for, in this order:
 *  1. Native::useLibrary('/path/to/libgoldplan.so') — explicit configuration, before the first call;
 *  2. the environment variable GOLDPLAN_LIBRARY (a path to libgoldplan.so);
 *  3. the FFI scope "goldplan" that preload.php declares (PHP-FPM, ffi.enable=preload);
 *  4. the installed prefixes: /usr/local/lib, /usr/lib/<multiarch>, /usr/lib;
 *  5. "libgoldplan.so" through the dynamic linker (ldconfig paths, LD_LIBRARY_PATH).
 * Steps 1, 2, 4 and 5 use FFI::cdef, which ffi.enable=preload allows in the CLI only.
 *
 * @internal
 */
final class Native
{
    private const SCOPE = 'goldplan';
    private const HEADER = __DIR__ . '/../../resources/goldplan_php.h';

    private static ?FFI $ffi = null;
    private static ?string $library = null;

    /** Uses this libgoldplan.so (an absolute path, or a name for the dynamic linker). */
    public static function useLibrary(?string $path): void
    {
        self::$library = $path === '' ? null : $path;
        self::$ffi = null;
    }

    public static function ffi(): FFI
    {
        return self::$ffi ??= self::load();
    }

    /**
     * The C declarations with FFI_SCOPE "goldplan" and FFI_LIB, for php.ini's ffi.preload
     * (bin/goldplan-ffi-header writes it) or FFI::load(). $library defaults to what preload
     * would find: Native::useLibrary(), GOLDPLAN_LIBRARY, the installed prefixes, the linker.
     */
    public static function scopeHeader(?string $library = null): string
    {
        $library ??= self::$library ?? self::env() ?? self::installed() ?? 'libgoldplan.so';
        return '#define FFI_SCOPE "' . self::SCOPE . "\"\n"
            . '#define FFI_LIB "' . addcslashes($library, "\"\\") . "\"\n"
            . self::declarations();
    }

    /**
     * Makes the FFI scope "goldplan" available to PHP-FPM: called by preload.php while opcache
     * preloads. The scope comes from ffi.preload when php.ini has it (required when the FPM
     * master runs as root with opcache.preload_user: PHP refuses FFI::load() there), else from
     * FFI::load() of scopeHeader().
     */
    public static function preload(): void
    {
        try {
            self::$ffi = FFI::scope(self::SCOPE);
            return;
        } catch (FFI\Exception) {
            // not declared by ffi.preload: load it here
        }
        $library = self::$library ?? self::env() ?? self::installed() ?? 'libgoldplan.so';
        $header = self::scopeHeader($library);
        // FFI::load() only reads a file; a private temporary one, gone right after, so that
        // no other user of the machine can swap the library name in between.
        $file = tempnam(sys_get_temp_dir(), 'goldplan-ffi-');
        if ($file === false || file_put_contents($file, $header) !== \strlen($header)) {
            throw Failure::of('configuration', 'configuration', 'preload: cannot write the FFI header to ' . sys_get_temp_dir());
        }
        try {
            $ffi = FFI::load($file);
        } catch (FFI\Exception $e) {
            // FFI's message may quote the library value: only when it may be shown (describe()).
            $shown = self::describe($library) === $library;
            throw Failure::of('configuration', 'configuration', 'preload: cannot declare the FFI scope "goldplan": '
                . ($shown ? $e->getMessage() : 'the library ' . self::describe($library) . ' cannot be loaded')
                . ' (with opcache.preload_user, write the header with bin/goldplan-ffi-header and set ffi.preload to it)', $shown ? $e : null);
        } finally {
            @unlink($file);
        }
        if ($ffi === null) {
            throw Failure::of('configuration', 'configuration', 'preload: cannot declare the FFI scope "goldplan"');
        }
        self::$ffi = $ffi;
    }

    /** The C declarations as PHP's FFI parser needs them. */
    private static function declarations(): string
    {
        $text = @file_get_contents(self::HEADER);
        if (!\is_string($text)) {
            throw Failure::of('configuration', 'configuration', 'the FFI header is missing: ' . self::HEADER);
        }
        // PHP's FFI passes a PHP string without a copy only to char and void pointers; byte
        // inputs are declared `const uint8_t *`, the same ABI, so read them as `const char *`.
        return str_replace('const uint8_t *', 'const char *', $text);
    }

    /**
     * $path for a message when it can be a library (…/x.so, x.so.1), else a description: a
     * key pasted where the path belongs (a PEM, an APIv3 key) must not end up in a log.
     */
    private static function describe(#[\SensitiveParameter] string $path): string
    {
        if (\strlen($path) <= 4096 && preg_match('/^[^\x00-\x1f\x7f]*\.(so(\.[0-9.]+)?|dylib|dll)$/D', $path) === 1) {
            return $path;
        }
        return '(a value of ' . \strlen($path) . ' bytes that does not name a shared library; not shown)';
    }

    private static function env(): ?string
    {
        $path = getenv('GOLDPLAN_LIBRARY');
        return \is_string($path) && $path !== '' ? $path : null;
    }

    /** The first installed libgoldplan.so in the usual prefixes. */
    private static function installed(): ?string
    {
        foreach (self::prefixes() as $path) {
            if (is_file($path)) {
                return $path;
            }
        }
        return null;
    }

    /** @return list<string> */
    private static function prefixes(): array
    {
        $paths = ['/usr/local/lib/libgoldplan.so'];
        foreach (glob('/usr/lib/*-linux-gnu*/libgoldplan.so') ?: [] as $path) {
            $paths[] = $path;
        }
        $paths[] = '/usr/lib/libgoldplan.so';
        return $paths;
    }

    private static function load(): FFI
    {
        $how = 'Set GOLDPLAN_LIBRARY=/path/to/libgoldplan.so, '
            . 'preload bindings/php/preload.php under PHP-FPM, or load the goldplan extension instead';
        if (!\extension_loaded('ffi')) {
            throw Failure::of('configuration', 'configuration', "PHP's FFI extension (ext-ffi) is not loaded. $how.");
        }
        $mode = strtolower(trim((string) \ini_get('ffi.enable')));
        if (\in_array($mode, ['', '0', 'false', 'off', 'no'], true)) {
            throw Failure::of('configuration', 'configuration', "FFI is disabled (ffi.enable=$mode): use ffi.enable=1 in the CLI or ffi.enable=preload with bindings/php/preload.php. $how.");
        }
        $cdef = $mode !== 'preload' || \PHP_SAPI === 'cli' || \PHP_SAPI === 'phpdbg';
        $tried = [];
        foreach (['Native::useLibrary()' => self::$library, 'GOLDPLAN_LIBRARY' => self::env()] as $source => $path) {
            if ($path === null) {
                continue;
            }
            if (!$cdef) {
                $tried[] = "$source=" . self::describe($path) . ' (FFI::cdef is not allowed with ffi.enable=preload)';
                continue;
            }
            try {
                return FFI::cdef(self::declarations(), $path);
            } catch (FFI\Exception $e) {
                // An explicit choice that fails is an error, not a reason to use another library.
                // FFI's message quotes the value, so it goes only where the value may be shown.
                $shown = self::describe($path) === $path;
                throw Failure::of('configuration', 'configuration', "cannot load libgoldplan from $source=" . self::describe($path)
                    . ': ' . ($shown ? $e->getMessage() : 'it cannot be loaded'), $shown ? $e : null);
            }
        }
        try {
            return FFI::scope(self::SCOPE);
        } catch (FFI\Exception) {
            $tried[] = 'FFI::scope("' . self::SCOPE . '") (bindings/php/preload.php was not preloaded)';
        }
        if (!$cdef) {
            throw Failure::of('configuration', 'configuration', 'cannot load libgoldplan: tried ' . implode(', ', $tried) . ". With ffi.enable=preload, set opcache.preload=bindings/php/preload.php. $how.");
        }
        foreach ([...self::prefixes(), 'libgoldplan.so'] as $path) {
            if (str_contains($path, '/') && !is_file($path)) {
                $tried[] = "$path (no such file)";
                continue;
            }
            try {
                return FFI::cdef(self::declarations(), $path);
            } catch (FFI\Exception $e) {
                $tried[] = "$path (" . $e->getMessage() . ')';
            }
        }
        throw Failure::of('configuration', 'configuration', 'cannot find libgoldplan.so: tried ' . implode(', ', $tried) . ". $how.");
    }

    // ---- calls -------------------------------------------------------------------------

    public static function version(): string
    {
        $ffi = self::ffi();
        $out = $ffi->new('const char*');
        $len = $ffi->new('size_t');
        self::check($ffi->goldplan_version(FFI::addr($out), FFI::addr($len)));
        return FFI::string($out, $len->cdata);
    }

    /** Calls $function(...$args, &handle) and returns the new handle of C type $type. */
    public static function handle(string $type, string $function, #[\SensitiveParameter] mixed ...$args): CData
    {
        $ffi = self::ffi();
        $handle = $ffi->new("$type*");
        self::check($ffi->$function(...[...$args, FFI::addr($handle)]));
        return $handle;
    }

    /**
     * Like handle() for a function whose first argument is a configuration's JSON with keys:
     * the text goes over in a C buffer, and $json is wiped before the call. A failure's
     * trace then holds only that buffer, zeroed here, not a PHP string nobody can wipe
     * (#[SensitiveParameter] hides a value from output but keeps it).
     */
    public static function handleFromSecretJson(string $type, string $function, #[\SensitiveParameter] string &$json): CData
    {
        $ffi = self::ffi();
        $len = \strlen($json);
        $buffer = $ffi->new('char[' . max($len, 1) . ']', false);
        try {
            FFI::memcpy($buffer, $json, $len);
            Json::wipe($json);
            return self::handle($type, $function, $buffer, $len);
        } finally {
            FFI::memset($buffer, 0, max($len, 1));
            FFI::free($buffer);
        }
    }

    public static function free(string $function, CData $handle): void
    {
        self::ffi()->$function($handle);
    }

    /** Calls $function(...$args, &string, &length); the string is copied, then freed (wiped) by C. */
    public static function string(string $function, #[\SensitiveParameter] mixed ...$args): string
    {
        $ffi = self::ffi();
        $out = $ffi->new('char*');
        $len = $ffi->new('size_t');
        self::check($ffi->$function(...[...$args, FFI::addr($out), FFI::addr($len)]));
        try {
            return FFI::string($out, $len->cdata);
        } finally {
            $ffi->goldplan_string_free($out);
        }
    }

    /** Like string() for byte results, freed (wiped) by goldplan_bytes_free. */
    public static function bytes(string $function, #[\SensitiveParameter] mixed ...$args): string
    {
        $ffi = self::ffi();
        $out = $ffi->new('uint8_t*');
        $len = $ffi->new('size_t');
        self::check($ffi->$function(...[...$args, FFI::addr($out), FFI::addr($len)]));
        try {
            return $len->cdata === 0 ? '' : FFI::string($ffi->cast('char*', $out), $len->cdata);
        } finally {
            $ffi->goldplan_bytes_free($out);
        }
    }

    public static function bool(string $function, #[\SensitiveParameter] mixed ...$args): bool
    {
        $ffi = self::ffi();
        $out = $ffi->new('bool');
        self::check($ffi->$function(...[...$args, FFI::addr($out)]));
        return $out->cdata;
    }

    /**
     * Calls $function(...$args, &response): the response's JSON decoded (JSON null is []) and
     * its Request-ID; the response is freed (and wiped) by C.
     *
     * @return array{0: array<mixed>, 1: ?string}
     */
    public static function response(string $function, #[\SensitiveParameter] mixed ...$args): array
    {
        $ffi = self::ffi();
        $response = $ffi->new('goldplan_response*');
        self::check($ffi->$function(...[...$args, FFI::addr($response)]));
        [$json, $requestId] = self::read($response);
        return [Json::decode($json), $requestId];
    }

    /**
     * Runs a helper of the operation registry (goldplan_call_local) with $args as its JSON
     * object and returns its result decoded as it is (a string, a bool, an array): the core
     * owns every rule and message of the helpers. $args may hold a key, so its JSON is wiped.
     *
     * @param array<string, mixed> $args
     */
    public static function callLocal(string $operation, #[\SensitiveParameter] array $args): mixed
    {
        $json = Json::encode($args, "the arguments of $operation");
        try {
            $ffi = self::ffi();
            $response = $ffi->new('goldplan_response*');
            self::check($ffi->goldplan_call_local($operation, \strlen($operation), $json, \strlen($json), FFI::addr($response)));
        } finally {
            Json::wipe($json);
        }
        return Json::decodeValue(self::read($response)[0]);
    }

    /**
     * Calls a parse_notification_with_guard $function: ...$args, then no memory guard, the
     * replay hook and its context, then &response. $guard, when given, answers "was this
     * notification id already processed?"; the core asks it only for an authentic, decrypted
     * callback and turns true into its replay error. FFI cannot unwind a PHP exception
     * through C, so the hook catches what $guard throws, answers "processed" to stop the
     * parse, and the exception is rethrown here.
     *
     * @return array<mixed>
     */
    public static function notification(string $function, ?callable $guard, #[\SensitiveParameter] mixed ...$args): array
    {
        $ffi = self::ffi();
        $failure = null;
        $hook = null;
        if ($guard !== null) {
            $hook = static function ($context, $id, $len) use ($guard, &$failure): bool {
                try {
                    // FFI hands a `const char *` argument over as a PHP string; a CData otherwise.
                    $answer = $guard(\is_string($id) ? $id : FFI::string($id, $len));
                } catch (\Throwable $e) {
                    $failure = $e;
                    return true;
                }
                if (!\is_bool($answer)) {
                    $failure = Failure::of('invalid_input', 'invalid_input', 'the replay guard must return a bool, not ' . get_debug_type($answer));
                    return true;
                }
                return $answer;
            };
        }
        $response = $ffi->new('goldplan_response*');
        $status = $ffi->$function(...[...$args, null, $hook, null, FFI::addr($response)]);
        if ($failure !== null) {
            if ($status === 0) {
                $ffi->goldplan_response_free($response);
            }
            throw $failure;
        }
        self::check($status);
        return Json::decode(self::read($response)[0]);
    }

    /**
     * A response's JSON text and Request-ID; the response is freed (and wiped) by C.
     *
     * @return array{0: string, 1: ?string}
     */
    private static function read(CData $response): array
    {
        $ffi = self::ffi();
        try {
            $text = $ffi->new('const char*');
            $len = $ffi->new('size_t');
            self::check($ffi->goldplan_response_json($response, FFI::addr($text), FFI::addr($len)));
            $json = FFI::string($text, $len->cdata);
            self::check($ffi->goldplan_response_request_id($response, FFI::addr($text), FFI::addr($len)));
            $requestId = FFI::isNull($text) ? null : FFI::string($text, $len->cdata);
        } finally {
            $ffi->goldplan_response_free($response);
        }
        return [$json, $requestId];
    }

    /** Throws the calling thread's last error when $status is not GOLDPLAN_STATUS_OK. */
    public static function check(int $status): void
    {
        if ($status !== 0) {
            throw self::lastError($status);
        }
    }

    private static function lastError(int $status): GoldPlanException
    {
        $ffi = self::ffi();
        $out = $ffi->new('char*');
        $len = $ffi->new('size_t');
        $report = null;
        if ($ffi->goldplan_last_error_report(FFI::addr($out), FFI::addr($len)) === 0) {
            try {
                $decoded = json_decode(FFI::string($out, $len->cdata), true);
                $report = \is_array($decoded) ? $decoded : null;
            } finally {
                $ffi->goldplan_string_free($out);
            }
        }
        return Failure::fromReport($report, $status);
    }
}
