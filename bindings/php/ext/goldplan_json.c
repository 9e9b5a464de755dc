/* JSON between PHP and libgoldplan, always through PHP's own json extension. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include "php_goldplan.h"
#include "ext/json/php_json.h"

/* Keys in a configuration are copied into the JSON text: the buffer is allocated once, large
 * enough for the worst case, so that no smaller copy is left behind by a realloc. */
#define GP_PREALLOC_MAX (1024 * 1024)

static size_t json_bound(zval *v, int depth, size_t *budget)
{
	ZVAL_DEREF(v);
	if (depth > 16 || *budget == 0) {
		return 4096;
	}
	(*budget)--;
	switch (Z_TYPE_P(v)) {
	case IS_STRING:
		return 6 * Z_STRLEN_P(v) + 2; /* every byte as \u00XX at worst */
	case IS_ARRAY: {
		size_t n = 2;
		zend_string *key;
		zend_ulong idx;
		zval *item;
		ZEND_HASH_FOREACH_KEY_VAL(Z_ARRVAL_P(v), idx, key, item) {
			(void)idx;
			n += (key ? 6 * ZSTR_LEN(key) + 2 : 24) + 2 + json_bound(item, depth + 1, budget);
			if (n > GP_PREALLOC_MAX) {
				return n;
			}
		} ZEND_HASH_FOREACH_END();
		return n;
	}
	case IS_OBJECT:
		return 4096;
	default:
		return 32;
	}
}

static const char *encode_problem(php_json_error_code code)
{
	switch (code) {
	/* The same words as the package's Json::encode: both doors fail alike. */
	case PHP_JSON_ERROR_UTF8:
		return "a string is not valid UTF-8";
	case PHP_JSON_ERROR_DEPTH:
		return "it is nested too deeply";
	case PHP_JSON_ERROR_RECURSION:
		return "it contains a recursive reference";
	case PHP_JSON_ERROR_INF_OR_NAN:
		return "it contains INF or NAN";
	case PHP_JSON_ERROR_UNSUPPORTED_TYPE:
		return "it contains a value that has no JSON form (a resource or a closure)";
	default:
		return "it has no JSON form";
	}
}

bool gp_json_encode(smart_str *buf, zval *value, const char *what)
{
	size_t budget = 100000;
	size_t bound = json_bound(value, 0, &budget);
	smart_str_alloc(buf, bound < GP_PREALLOC_MAX ? bound : GP_PREALLOC_MAX, 0);
	zval *plain = value;
	ZVAL_DEREF(plain);
	if (Z_TYPE_P(plain) == IS_ARRAY && zend_hash_num_elements(Z_ARRVAL_P(plain)) == 0) {
		/* PHP has one empty array; every top-level value this extension sends is an object. */
		smart_str_appendl(buf, "{}", 2);
		smart_str_0(buf);
		return true;
	}
	/* Keep the caller's json_last_error() as it was. */
	php_json_error_code saved = JSON_G(error_code);
	zend_result result = php_json_encode_ex(buf, plain, PHP_JSON_UNESCAPED_UNICODE | PHP_JSON_UNESCAPED_SLASHES,
		PHP_JSON_PARSER_DEFAULT_DEPTH);
	php_json_error_code error = JSON_G(error_code);
	JSON_G(error_code) = saved;
	smart_str_0(buf);
	if (result == FAILURE || error != PHP_JSON_ERROR_NONE) {
		if (!EG(exception)) {
			char message[200];
			snprintf(message, sizeof message, "%s cannot be sent as JSON: %s", what, encode_problem(error));
			gp_throw("invalid_input", "invalid_input", message);
		}
		return false;
	}
	return true;
}

void gp_json_release(smart_str *buf)
{
	if (buf->s) {
		/* The whole allocation, not ZSTR_LEN: a failed encode (a key that is not valid UTF-8,
		 * a DER key) rolls the length back over bytes it already wrote. */
		explicit_bzero(ZSTR_VAL(buf->s), buf->a > ZSTR_LEN(buf->s) ? buf->a : ZSTR_LEN(buf->s));
	}
	smart_str_free(buf);
}

bool gp_constructor_config(bool initialised, const char *class_name, HashTable *config, smart_str *json)
{
	if (initialised) {
		zend_throw_error(NULL, "%s is already initialised", class_name);
		return false;
	}
	zval config_zv;
	ZVAL_ARR(&config_zv, config);
	if (!gp_json_encode(json, &config_zv, "the configuration")) {
		gp_json_release(json);
		return false;
	}
	return true;
}

bool gp_constructor_done(goldplan_status status, smart_str *json)
{
	gp_json_release(json);
	if (status != GOLDPLAN_STATUS_OK) {
		gp_throw_last_error(status);
		return false;
	}
	return true;
}

bool gp_json_decode(const char *json, size_t len, zval *out)
{
	php_json_error_code saved = JSON_G(error_code);
	/* Integers beyond PHP_INT_MAX (u64 values) as exact strings, not rounded floats. */
	zend_result result = php_json_decode_ex(out, json, len, PHP_JSON_OBJECT_AS_ARRAY | PHP_JSON_BIGINT_AS_STRING,
		PHP_JSON_PARSER_DEFAULT_DEPTH);
	JSON_G(error_code) = saved;
	if (result == FAILURE) {
		zval_ptr_dtor(out);
		ZVAL_UNDEF(out);
		gp_throw("decode", "decode", "the library returned JSON that PHP cannot decode (nested too deeply?)");
		return false;
	}
	return true;
}

static void add_pair(zval *pairs, zval *name, zval *value)
{
	zval pair;
	array_init_size(&pair, 2);
	Z_TRY_ADDREF_P(name);
	add_next_index_zval(&pair, name);
	Z_TRY_ADDREF_P(value);
	add_next_index_zval(&pair, value);
	add_next_index_zval(pairs, &pair);
}

void gp_add_list(zval *args, const char *key, HashTable *items)
{
	zval list;
	array_init_size(&list, zend_hash_num_elements(items));
	zval *item;
	ZEND_HASH_FOREACH_VAL(items, item) {
		ZVAL_DEREF(item);
		Z_TRY_ADDREF_P(item);
		add_next_index_zval(&list, item);
	} ZEND_HASH_FOREACH_END();
	add_assoc_zval(args, key, &list);
}

bool gp_headers_json(smart_str *buf, HashTable *headers)
{
	zval pairs;
	if (zend_hash_num_elements(headers) == 0) {
		smart_str_appendl(buf, "[]", 2);
		smart_str_0(buf);
		return true;
	}
	if (zend_array_is_list(headers)) {
		/* Already [name, value] pairs: the library checks each one. */
		ZVAL_ARR(&pairs, zend_array_dup(headers));
	} else {
		array_init(&pairs);
		zend_string *key;
		zend_ulong idx;
		zval *value;
		ZEND_HASH_FOREACH_KEY_VAL(headers, idx, key, value) {
			zval name;
			if (key) {
				ZVAL_STR_COPY(&name, key);
			} else {
				ZVAL_STR(&name, zend_long_to_str((zend_long)idx));
			}
			ZVAL_DEREF(value);
			if (Z_TYPE_P(value) == IS_ARRAY) {
				zval *item;
				ZEND_HASH_FOREACH_VAL(Z_ARRVAL_P(value), item) {
					ZVAL_DEREF(item);
					add_pair(&pairs, &name, item);
				} ZEND_HASH_FOREACH_END();
			} else {
				add_pair(&pairs, &name, value);
			}
			zval_ptr_dtor(&name);
		} ZEND_HASH_FOREACH_END();
		if (zend_hash_num_elements(Z_ARRVAL(pairs)) == 0) {
			zval_ptr_dtor(&pairs);
			smart_str_appendl(buf, "[]", 2);
			smart_str_0(buf);
			return true;
		}
	}
	bool ok = gp_json_encode(buf, &pairs, "the headers");
	zval_ptr_dtor(&pairs);
	return ok;
}

bool gp_response_to_array(goldplan_response *response, zval *return_value)
{
	const char *json = NULL;
	size_t len = 0;
	goldplan_status st = goldplan_response_json(response, &json, &len);
	if (st != GOLDPLAN_STATUS_OK) {
		gp_throw_last_error(st);
		goldplan_response_free(response);
		return false;
	}
	zval decoded;
	bool ok = gp_json_decode(json, len, &decoded);
	goldplan_response_free(response);
	if (!ok) {
		return false;
	}
	if (Z_TYPE(decoded) == IS_NULL) {
		array_init(return_value);
		return true;
	}
	if (Z_TYPE(decoded) != IS_ARRAY) {
		zval_ptr_dtor(&decoded);
		gp_throw("internal", "internal", "the library returned a result that is not a JSON object");
		return false;
	}
	ZVAL_COPY_VALUE(return_value, &decoded);
	return true;
}

void gp_return_library_string(goldplan_status st, char *out, size_t len, zval *return_value)
{
	if (st != GOLDPLAN_STATUS_OK) {
		gp_throw_last_error(st);
		return;
	}
	RETVAL_STRINGL(out, len);
	goldplan_string_free(out);
}

void gp_return_response(goldplan_status st, goldplan_response *r, zval *return_value)
{
	if (st != GOLDPLAN_STATUS_OK) {
		gp_throw_last_error(st);
		return;
	}
	gp_response_to_array(r, return_value);
}
