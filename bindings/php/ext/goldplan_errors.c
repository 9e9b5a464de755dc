/* Exceptions: every failure maps once from the library's error report (goldplan.h) to
 * GoldPlan\Exception\<Family>Exception with kind, family, requestId, status, detail, retryable;
 * getCode() is WeChat Pay's code string for API errors (as PDOException does with SQLSTATE). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "php_goldplan.h"
#include "zend_exceptions.h"
#include "zend_builtin_functions.h"
#include "ext/json/php_json.h"

zend_class_entry *gp_ce_exception;

/* Indexed by goldplan_status - 1: the family names of the report and their classes. */
static const char *const family_names[12] = {
	"configuration", "invalid_input", "signature", "signing", "encryption", "decryption",
	"certificate", "replay", "decode", "api", "transport", "internal",
};
static zend_class_entry *family_ces[12];

void gp_errors_minit(zend_class_entry *base, zend_class_entry *const ces[12])
{
	gp_ce_exception = base;
	memcpy(family_ces, ces, sizeof family_ces);
}

static zend_class_entry *class_of(const char *family, size_t len)
{
	for (size_t i = 0; i < 12; i++) {
		if (strlen(family_names[i]) == len && memcmp(family_names[i], family, len) == 0) {
			return family_ces[i];
		}
	}
	return NULL;
}

static const char *family_of_status(goldplan_status status)
{
	if (status >= GOLDPLAN_STATUS_CONFIGURATION && status <= GOLDPLAN_STATUS_INTERNAL) {
		return family_names[status - 1];
	}
	/* NULL pointer, invalid UTF-8, invalid handle: the report's kind is invalid_input. */
	if (status >= GOLDPLAN_STATUS_NULL_POINTER && status <= GOLDPLAN_STATUS_INVALID_HANDLE) {
		return "invalid_input";
	}
	return "internal";
}

static void set_prop(zend_object *ex, const char *name, zval *value)
{
	zend_update_property(gp_ce_exception, ex, name, strlen(name), value);
}

static zval *field(HashTable *report, const char *name)
{
	return report ? zend_hash_str_find(report, name, strlen(name)) : NULL;
}

/* Throws from a decoded report (or NULL: then only the fallbacks count). */
static void throw_report(HashTable *report, const char *fallback_family, const char *fallback_message)
{
	zval *family = field(report, "family"), *kind = field(report, "kind");
	zval *message = field(report, "message");
	const char *fam = fallback_family;
	size_t fam_len = strlen(fallback_family);
	/* A family this extension does not know (a newer library) counts as the status's, as in
	 * the package's Failure::fromReport. */
	if (family && Z_TYPE_P(family) == IS_STRING && class_of(Z_STRVAL_P(family), Z_STRLEN_P(family))) {
		fam = Z_STRVAL_P(family);
		fam_len = Z_STRLEN_P(family);
	}
	zend_class_entry *ce = class_of(fam, fam_len);
	if (!ce) {
		ce = family_ces[11];
	}
	zval exz, v;
	object_init_ex(&exz, ce);
	zend_object *ex = Z_OBJ(exz);
	if (message && Z_TYPE_P(message) == IS_STRING && Z_STRLEN_P(message) > 0) {
		zend_update_property_ex(zend_ce_exception, ex, ZSTR_KNOWN(ZEND_STR_MESSAGE), message);
	} else {
		ZVAL_STRING(&v, fallback_message);
		zend_update_property_ex(zend_ce_exception, ex, ZSTR_KNOWN(ZEND_STR_MESSAGE), &v);
		zval_ptr_dtor(&v);
	}
	/* Several calls take keys (a configuration, an APIv3 key): the trace of a goldplan
	 * exception never records arguments, whatever zend.exception_ignore_args says. */
	zend_fetch_debug_backtrace(&v, 0, DEBUG_BACKTRACE_IGNORE_ARGS, 0);
	zend_update_property_ex(zend_ce_exception, ex, ZSTR_KNOWN(ZEND_STR_TRACE), &v);
	zval_ptr_dtor(&v);

	ZVAL_STRINGL(&v, fam, fam_len);
	set_prop(ex, "family", &v);
	zval_ptr_dtor(&v);
	if (kind && Z_TYPE_P(kind) == IS_STRING) {
		set_prop(ex, "kind", kind);
	} else {
		ZVAL_STRINGL(&v, fam, fam_len);
		set_prop(ex, "kind", &v);
		zval_ptr_dtor(&v);
	}
	zval *request_id = field(report, "request_id");
	if (request_id && Z_TYPE_P(request_id) == IS_STRING) {
		set_prop(ex, "requestId", request_id);
	}
	zval *status = field(report, "status");
	if (status && Z_TYPE_P(status) == IS_LONG) {
		set_prop(ex, "status", status);
	}
	zval *detail = field(report, "detail");
	if (detail) {
		set_prop(ex, "detail", detail);
	}
	zval *retryable = field(report, "retryable");
	ZVAL_BOOL(&v, retryable && Z_TYPE_P(retryable) == IS_TRUE);
	set_prop(ex, "retryable", &v);
	zval *code = field(report, "code");
	if (code && Z_TYPE_P(code) == IS_STRING && fam_len == 3 && memcmp(fam, "api", 3) == 0) {
		zend_update_property_ex(zend_ce_exception, ex, ZSTR_KNOWN(ZEND_STR_CODE), code);
	}
	zend_throw_exception_object(&exz);
}

void gp_throw_last_error(goldplan_status status)
{
	char *text = NULL;
	size_t len = 0;
	zval report;
	ZVAL_UNDEF(&report);
	if (goldplan_last_error_report(&text, &len) == GOLDPLAN_STATUS_OK && text) {
		/* Not gp_json_decode: a failure here must not throw a second exception. */
		php_json_decode_ex(&report, text, len, PHP_JSON_OBJECT_AS_ARRAY, PHP_JSON_PARSER_DEFAULT_DEPTH);
		goldplan_string_free(text);
	}
	char fallback[96];
	snprintf(fallback, sizeof fallback, "goldplan failed with status %d and no error report", (int)status);
	throw_report(Z_TYPE(report) == IS_ARRAY ? Z_ARRVAL(report) : NULL, family_of_status(status), fallback);
	zval_ptr_dtor(&report);
}

void gp_throw(const char *family, const char *kind, const char *message)
{
	zval report;
	array_init(&report);
	add_assoc_string(&report, "family", (char *)family);
	add_assoc_string(&report, "kind", (char *)kind);
	add_assoc_string(&report, "message", (char *)message);
	throw_report(Z_ARRVAL(report), family, message);
	zval_ptr_dtor(&report);
}

/* ---- the getters of GoldPlanException ---- */

#define GETTER(method, prop)                                                                    \
	ZEND_METHOD(GoldPlan_Exception_GoldPlanException, method)                                   \
	{                                                                                           \
		ZEND_PARSE_PARAMETERS_NONE();                                                           \
		zval rv;                                                                                \
		zval *value = zend_read_property(gp_ce_exception, Z_OBJ_P(ZEND_THIS), prop,             \
			sizeof(prop) - 1, 1, &rv);                                                          \
		RETURN_COPY_DEREF(value);                                                               \
	}

GETTER(getKind, "kind")
GETTER(getFamily, "family")
GETTER(getRequestId, "requestId")
GETTER(getStatus, "status")
GETTER(getDetail, "detail")
GETTER(isRetryable, "retryable")
