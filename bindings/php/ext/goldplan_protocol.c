/* GoldPlan\Protocol (the protocol's pure functions and the registry's helpers) and GoldPlan\Receipt
 * (their deprecated former names). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "php_goldplan.h"

/* ---- Protocol ---- */

/* Runs a helper of the operation registry through goldplan_call_local, so that its rules and
 * messages are the core's: $args' JSON in (wiped after the call: it may hold the APIv3 key),
 * the result decoded as it is (a string, a bool, an array) out. The FFI door's
 * Native::callLocal does the same. */
static void call_local(const char *operation, zval *args, zval *return_value)
{
	char what[64];
	snprintf(what, sizeof what, "the arguments of %s", operation);
	smart_str json = {0};
	if (!gp_json_encode(&json, args, what)) {
		gp_json_release(&json);
		return;
	}
	goldplan_response *r = NULL;
	goldplan_status st = goldplan_call_local(operation, strlen(operation), ZSTR_VAL(json.s), ZSTR_LEN(json.s), &r);
	gp_json_release(&json);
	if (st != GOLDPLAN_STATUS_OK) {
		gp_throw_last_error(st);
		return;
	}
	const char *text = NULL;
	size_t len = 0;
	st = goldplan_response_json(r, &text, &len);
	if (st != GOLDPLAN_STATUS_OK) {
		gp_throw_last_error(st);
		goldplan_response_free(r);
		return;
	}
	zval decoded;
	bool ok = gp_json_decode(text, len, &decoded);
	goldplan_response_free(r);
	if (ok) {
		ZVAL_COPY_VALUE(return_value, &decoded);
	}
}

/* The arguments of the check_code helpers, by their wire names. */
static void check_code_args(zval *args, zend_string *link, zend_string *sub, zend_string *trade, zend_string *txn)
{
	array_init(args);
	add_assoc_str(args, "configured_link", zend_string_copy(link));
	add_assoc_str(args, "sub_mch_id", zend_string_copy(sub));
	add_assoc_str(args, "out_trade_no", zend_string_copy(trade));
	add_assoc_str(args, "transaction_id", zend_string_copy(txn));
}

ZEND_METHOD(GoldPlan_Protocol, checkCodeInput)
{
	zend_string *link, *sub, *trade, *txn;
	ZEND_PARSE_PARAMETERS_START(4, 4)
		Z_PARAM_STR(link)
		Z_PARAM_STR(sub)
		Z_PARAM_STR(trade)
		Z_PARAM_STR(txn)
	ZEND_PARSE_PARAMETERS_END();
	zval args;
	check_code_args(&args, link, sub, trade, txn);
	call_local("check_code_input", &args, return_value);
	zval_ptr_dtor(&args);
}

ZEND_METHOD(GoldPlan_Protocol, expectedCheckCode)
{
	zend_string *link, *sub, *trade, *txn;
	ZEND_PARSE_PARAMETERS_START(4, 4)
		Z_PARAM_STR(link)
		Z_PARAM_STR(sub)
		Z_PARAM_STR(trade)
		Z_PARAM_STR(txn)
	ZEND_PARSE_PARAMETERS_END();
	zval args;
	check_code_args(&args, link, sub, trade, txn);
	call_local("expected_check_code", &args, return_value);
	zval_ptr_dtor(&args);
}

ZEND_METHOD(GoldPlan_Protocol, verifyCheckCode)
{
	zend_string *link, *sub, *trade, *txn, *code;
	ZEND_PARSE_PARAMETERS_START(5, 5)
		Z_PARAM_STR(link)
		Z_PARAM_STR(sub)
		Z_PARAM_STR(trade)
		Z_PARAM_STR(txn)
		Z_PARAM_STR(code)
	ZEND_PARSE_PARAMETERS_END();
	zval args;
	check_code_args(&args, link, sub, trade, txn);
	add_assoc_str(&args, "check_code", zend_string_copy(code));
	call_local("verify_check_code", &args, return_value);
	zval_ptr_dtor(&args);
}

ZEND_METHOD(GoldPlan_Protocol, parseReceiptQuery)
{
	zend_string *url;
	ZEND_PARSE_PARAMETERS_START(1, 1)
		Z_PARAM_STR(url)
	ZEND_PARSE_PARAMETERS_END();
	zval args;
	array_init(&args);
	add_assoc_str(&args, "url", zend_string_copy(url));
	call_local("parse_receipt_query", &args, return_value);
	zval_ptr_dtor(&args);
}

ZEND_METHOD(GoldPlan_Protocol, decryptCertificates)
{
	HashTable *headers, *trusted = NULL;
	zend_string *body, *key;
	zend_long now = 0;
	ZEND_PARSE_PARAMETERS_START(3, 5)
		Z_PARAM_ARRAY_HT(headers)
		Z_PARAM_STR(body)
		Z_PARAM_STR(key)
		Z_PARAM_OPTIONAL
		Z_PARAM_LONG(now)
		Z_PARAM_ARRAY_HT_OR_NULL(trusted)
	ZEND_PARSE_PARAMETERS_END();
	/* The headers as the [name, value] pairs every other call sends, by the same rules. */
	smart_str headers_json = {0};
	if (!gp_headers_json(&headers_json, headers)) {
		gp_json_release(&headers_json);
		return;
	}
	zval pairs;
	bool ok = gp_json_decode(ZSTR_VAL(headers_json.s), ZSTR_LEN(headers_json.s), &pairs);
	gp_json_release(&headers_json);
	if (!ok) {
		return;
	}
	zval args;
	array_init(&args);
	add_assoc_zval(&args, "headers", &pairs);
	add_assoc_str(&args, "body", zend_string_copy(body));
	add_assoc_str(&args, "apiv3_key", zend_string_copy(key));
	if (now != 0) {
		add_assoc_long(&args, "now", now);
	}
	if (trusted) {
		gp_add_list(&args, "trusted_certificates", trusted);
	}
	call_local("decrypt_certificates", &args, return_value);
	zval_ptr_dtor(&args);
}

ZEND_METHOD(GoldPlan_Protocol, messageToSign)
{
	zend_string *method, *url, *nonce, *body = ZSTR_EMPTY_ALLOC();
	zend_long timestamp;
	ZEND_PARSE_PARAMETERS_START(4, 5)
		Z_PARAM_STR(method)
		Z_PARAM_STR(url)
		Z_PARAM_LONG(timestamp)
		Z_PARAM_STR(nonce)
		Z_PARAM_OPTIONAL
		Z_PARAM_STR(body)
	ZEND_PARSE_PARAMETERS_END();
	char *out = NULL;
	size_t len = 0;
	goldplan_status st = goldplan_message_to_sign(ZSTR_VAL(method), ZSTR_LEN(method), ZSTR_VAL(url), ZSTR_LEN(url),
		(int64_t)timestamp, ZSTR_VAL(nonce), ZSTR_LEN(nonce), (const uint8_t *)ZSTR_VAL(body), ZSTR_LEN(body), &out,
		&len);
	gp_return_library_string(st, out, len, return_value);
}

ZEND_METHOD(GoldPlan_Protocol, messageToVerify)
{
	zend_string *timestamp, *nonce, *body = ZSTR_EMPTY_ALLOC();
	ZEND_PARSE_PARAMETERS_START(2, 3)
		Z_PARAM_STR(timestamp)
		Z_PARAM_STR(nonce)
		Z_PARAM_OPTIONAL
		Z_PARAM_STR(body)
	ZEND_PARSE_PARAMETERS_END();
	char *out = NULL;
	size_t len = 0;
	goldplan_status st = goldplan_message_to_verify(ZSTR_VAL(timestamp), ZSTR_LEN(timestamp), ZSTR_VAL(nonce),
		ZSTR_LEN(nonce), (const uint8_t *)ZSTR_VAL(body), ZSTR_LEN(body), &out, &len);
	gp_return_library_string(st, out, len, return_value);
}

ZEND_METHOD(GoldPlan_Protocol, canonicalUrl)
{
	zend_string *path;
	ZEND_PARSE_PARAMETERS_START(1, 1)
		Z_PARAM_STR(path)
	ZEND_PARSE_PARAMETERS_END();
	char *out = NULL;
	size_t len = 0;
	goldplan_status st = goldplan_canonical_url(ZSTR_VAL(path), ZSTR_LEN(path), &out, &len);
	gp_return_library_string(st, out, len, return_value);
}

ZEND_METHOD(GoldPlan_Protocol, authorizationHeader)
{
	HashTable *fields;
	ZEND_PARSE_PARAMETERS_START(1, 1)
		Z_PARAM_ARRAY_HT(fields)
	ZEND_PARSE_PARAMETERS_END();
	zval fields_zv;
	ZVAL_ARR(&fields_zv, fields);
	smart_str json = {0};
	if (!gp_json_encode(&json, &fields_zv, "the Authorization fields")) {
		gp_json_release(&json);
		return;
	}
	char *out = NULL;
	size_t len = 0;
	goldplan_status st = goldplan_authorization_header(ZSTR_VAL(json.s), ZSTR_LEN(json.s), &out, &len);
	gp_json_release(&json);
	gp_return_library_string(st, out, len, return_value);
}

ZEND_METHOD(GoldPlan_Protocol, aeadDecrypt)
{
	zend_string *key, *ad, *nonce, *ciphertext;
	ZEND_PARSE_PARAMETERS_START(4, 4)
		Z_PARAM_STR(key)
		Z_PARAM_STR(ad)
		Z_PARAM_STR(nonce)
		Z_PARAM_STR(ciphertext)
	ZEND_PARSE_PARAMETERS_END();
	uint8_t *out = NULL;
	size_t len = 0;
	goldplan_status st = goldplan_aead_decrypt(ZSTR_VAL(key), ZSTR_LEN(key), (const uint8_t *)ZSTR_VAL(ad),
		ZSTR_LEN(ad), (const uint8_t *)ZSTR_VAL(nonce), ZSTR_LEN(nonce), ZSTR_VAL(ciphertext), ZSTR_LEN(ciphertext),
		&out, &len);
	if (st != GOLDPLAN_STATUS_OK) {
		gp_throw_last_error(st);
		return;
	}
	RETVAL_STRINGL((const char *)out, len);
	goldplan_bytes_free(out); /* wipes */
}

ZEND_METHOD(GoldPlan_Protocol, aeadEncrypt)
{
	zend_string *key, *ad, *nonce, *plaintext;
	ZEND_PARSE_PARAMETERS_START(4, 4)
		Z_PARAM_STR(key)
		Z_PARAM_STR(ad)
		Z_PARAM_STR(nonce)
		Z_PARAM_STR(plaintext)
	ZEND_PARSE_PARAMETERS_END();
	char *out = NULL;
	size_t len = 0;
	goldplan_status st = goldplan_aead_encrypt(ZSTR_VAL(key), ZSTR_LEN(key), (const uint8_t *)ZSTR_VAL(ad),
		ZSTR_LEN(ad), (const uint8_t *)ZSTR_VAL(nonce), ZSTR_LEN(nonce), (const uint8_t *)ZSTR_VAL(plaintext),
		ZSTR_LEN(plaintext), &out, &len);
	gp_return_library_string(st, out, len, return_value);
}

/* ---- Receipt ---- */

/* The former names, deprecated (ZEND_ACC_DEPRECATED from the stub's @deprecated): each runs the
 * Protocol method it stands for, so both give the same result and the same errors. */

ZEND_METHOD(GoldPlan_Receipt, checkCode)
{
	ZEND_MN(GoldPlan_Protocol_expectedCheckCode)(INTERNAL_FUNCTION_PARAM_PASSTHRU);
}

ZEND_METHOD(GoldPlan_Receipt, verifyCheckCode)
{
	ZEND_MN(GoldPlan_Protocol_verifyCheckCode)(INTERNAL_FUNCTION_PARAM_PASSTHRU);
}

ZEND_METHOD(GoldPlan_Receipt, parseUrl)
{
	ZEND_MN(GoldPlan_Protocol_parseReceiptQuery)(INTERNAL_FUNCTION_PARAM_PASSTHRU);
}
