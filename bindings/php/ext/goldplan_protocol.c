/* GoldPlan\Protocol and GoldPlan\Receipt: the protocol's pure functions. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "php_goldplan.h"

/* ---- Protocol ---- */

ZEND_METHOD(GoldPlan_Protocol, messageToSign)
{
	zend_string *method, *url, *nonce, *body;
	zend_long timestamp;
	ZEND_PARSE_PARAMETERS_START(5, 5)
		Z_PARAM_STR(method)
		Z_PARAM_STR(url)
		Z_PARAM_LONG(timestamp)
		Z_PARAM_STR(nonce)
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
	zend_string *timestamp, *nonce, *body;
	ZEND_PARSE_PARAMETERS_START(3, 3)
		Z_PARAM_STR(timestamp)
		Z_PARAM_STR(nonce)
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

ZEND_METHOD(GoldPlan_Receipt, checkCode)
{
	zend_string *link, *sub, *trade, *txn;
	ZEND_PARSE_PARAMETERS_START(4, 4)
		Z_PARAM_STR(link)
		Z_PARAM_STR(sub)
		Z_PARAM_STR(trade)
		Z_PARAM_STR(txn)
	ZEND_PARSE_PARAMETERS_END();
	char *out = NULL;
	size_t len = 0;
	goldplan_status st = goldplan_receipt_check_code(ZSTR_VAL(link), ZSTR_LEN(link), ZSTR_VAL(sub), ZSTR_LEN(sub),
		ZSTR_VAL(trade), ZSTR_LEN(trade), ZSTR_VAL(txn), ZSTR_LEN(txn), &out, &len);
	gp_return_library_string(st, out, len, return_value);
}

ZEND_METHOD(GoldPlan_Receipt, verifyCheckCode)
{
	zend_string *link, *sub, *trade, *txn, *code;
	ZEND_PARSE_PARAMETERS_START(5, 5)
		Z_PARAM_STR(link)
		Z_PARAM_STR(sub)
		Z_PARAM_STR(trade)
		Z_PARAM_STR(txn)
		Z_PARAM_STR(code)
	ZEND_PARSE_PARAMETERS_END();
	bool valid = false;
	goldplan_status st = goldplan_receipt_verify_check_code(ZSTR_VAL(link), ZSTR_LEN(link), ZSTR_VAL(sub),
		ZSTR_LEN(sub), ZSTR_VAL(trade), ZSTR_LEN(trade), ZSTR_VAL(txn), ZSTR_LEN(txn), ZSTR_VAL(code), ZSTR_LEN(code),
		&valid);
	if (st != GOLDPLAN_STATUS_OK) {
		gp_throw_last_error(st);
		return;
	}
	RETURN_BOOL(valid);
}

ZEND_METHOD(GoldPlan_Receipt, parseUrl)
{
	zend_string *url;
	ZEND_PARSE_PARAMETERS_START(1, 1)
		Z_PARAM_STR(url)
	ZEND_PARSE_PARAMETERS_END();
	goldplan_response *r = NULL;
	goldplan_status st = goldplan_receipt_parse_url(ZSTR_VAL(url), ZSTR_LEN(url), &r);
	gp_return_response(st, r, return_value);
}
