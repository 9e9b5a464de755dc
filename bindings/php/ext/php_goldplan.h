/* The goldplan extension: what its files share. */
#ifndef PHP_GOLDPLAN_H
#define PHP_GOLDPLAN_H

#include "php.h"
#include "zend_smart_str.h"
#include <goldplan.h>

extern zend_module_entry goldplan_module_entry;
#define phpext_goldplan_ptr &goldplan_module_entry

#define PHP_GOLDPLAN_VERSION "0.1.0"

#if defined(ZTS) && defined(COMPILE_DL_GOLDPLAN)
ZEND_TSRMLS_CACHE_EXTERN()
#endif

/* Class entries and handlers: written once in MINIT, read-only afterwards (ZTS-safe). */
extern zend_class_entry *gp_ce_client, *gp_ce_signer, *gp_ce_verifier;
extern zend_class_entry *gp_ce_exception;

/* ---- objects (goldplan_client.c, goldplan_signer_verifier.c) ---- */

typedef struct {
	goldplan_client *handle;
	zend_string *last_request_id;
	zend_object std;
} gp_client_object;

typedef struct {
	goldplan_signer *handle;
	zend_object std;
} gp_signer_object;

typedef struct {
	goldplan_verifier *handle;
	zend_object std;
} gp_verifier_object;

void gp_client_minit(zend_class_entry *ce);
void gp_signer_verifier_minit(zend_class_entry *signer_ce, zend_class_entry *verifier_ce);

/* ---- errors (goldplan_errors.c) ---- */

/* Registers the family => class table; ces are in the order of GOLDPLAN_STATUS_CONFIGURATION..INTERNAL. */
void gp_errors_minit(zend_class_entry *base, zend_class_entry *const family_ces[12]);
/* Throws the exception the library's last error report describes (call right after a failure). */
void gp_throw_last_error(goldplan_status status);
/* Throws an exception the extension itself detected (never with a secret in the message). */
void gp_throw(const char *family, const char *kind, const char *message);

/* ---- JSON and results (goldplan_json.c), with PHP's json extension ---- */

/* Encodes `value` compactly into `buf` (sized up front and wiped by gp_json_release, because
 * configurations hold keys). On failure throws InvalidInputException naming `what`. */
bool gp_json_encode(smart_str *buf, zval *value, const char *what);
/* Wipes and frees a buffer of gp_json_encode. */
void gp_json_release(smart_str *buf);
/* The constructors' first half: refuses a second __construct (`initialised`) and encodes the
 * configuration array into `json` for the library's *_new function. False once it has thrown. */
bool gp_constructor_config(bool initialised, const char *class_name, HashTable *config, smart_str *json);
/* Their second half: wipes `json`, then throws the library's error unless `status` is OK. */
bool gp_constructor_done(goldplan_status status, smart_str *json);
/* Decodes JSON from the library into `out` (objects as arrays); throws DecodeException. */
bool gp_json_decode(const char *json, size_t len, zval *out);
/* Headers as the library takes them (a JSON list of [name, value] pairs) from a PHP array:
 * name => value, name => [values], or a list of [name, value] pairs. */
bool gp_headers_json(smart_str *buf, HashTable *headers);
/* Adds `items` to `args` under `key` as a JSON list whatever their PHP keys are (a PHP array
 * with string keys would otherwise go as a JSON object). */
void gp_add_list(zval *args, const char *key, HashTable *items);
/* A response's JSON into `return_value` (JSON null => []); frees the response. */
bool gp_response_to_array(goldplan_response *response, zval *return_value);

/* A string from the library into return_value, then wiped by goldplan_string_free; or the
 * exception of a failed status. */
/* The PHP callable a parseNotification got as its replay guard, for gp_replay_hook. */
typedef struct {
	zend_fcall_info fci;
	zend_fcall_info_cache fcc;
	/* The guard threw (or answered something else than a bool): the exception is pending. */
	bool failed;
} gp_replay_context;

bool gp_replay_hook(void *context, const char *notification_id, size_t notification_id_len);
void gp_return_notification(goldplan_status st, goldplan_response *r, const gp_replay_context *ctx, zval *return_value);

void gp_return_library_string(goldplan_status st, char *out, size_t len, zval *return_value);
/* A response into return_value as an array; or the exception of a failed status. */
void gp_return_response(goldplan_status st, goldplan_response *r, zval *return_value);

#endif
