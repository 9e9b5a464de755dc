/* GoldPlan\Signer and GoldPlan\Verifier: one library handle each, freed with the object. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "php_goldplan.h"

zend_class_entry *gp_ce_signer, *gp_ce_verifier;
static zend_object_handlers signer_handlers, verifier_handlers;

static inline gp_signer_object *signer_from(zend_object *obj)
{
	return (gp_signer_object *)((char *)obj - XtOffsetOf(gp_signer_object, std));
}

static inline gp_verifier_object *verifier_from(zend_object *obj)
{
	return (gp_verifier_object *)((char *)obj - XtOffsetOf(gp_verifier_object, std));
}

static zend_object *signer_create(zend_class_entry *ce)
{
	gp_signer_object *s = zend_object_alloc(sizeof(gp_signer_object), ce);
	zend_object_std_init(&s->std, ce);
	object_properties_init(&s->std, ce);
	s->std.handlers = &signer_handlers;
	return &s->std;
}

static zend_object *verifier_create(zend_class_entry *ce)
{
	gp_verifier_object *v = zend_object_alloc(sizeof(gp_verifier_object), ce);
	zend_object_std_init(&v->std, ce);
	object_properties_init(&v->std, ce);
	v->std.handlers = &verifier_handlers;
	return &v->std;
}

static void signer_free(zend_object *obj)
{
	gp_signer_object *s = signer_from(obj);
	goldplan_signer_free(s->handle);
	s->handle = NULL;
	zend_object_std_dtor(obj);
}

static void verifier_free(zend_object *obj)
{
	gp_verifier_object *v = verifier_from(obj);
	goldplan_verifier_free(v->handle);
	v->handle = NULL;
	zend_object_std_dtor(obj);
}

void gp_signer_verifier_minit(zend_class_entry *signer_ce, zend_class_entry *verifier_ce)
{
	gp_ce_signer = signer_ce;
	gp_ce_verifier = verifier_ce;
	signer_ce->create_object = signer_create;
	verifier_ce->create_object = verifier_create;
	memcpy(&signer_handlers, zend_get_std_object_handlers(), sizeof signer_handlers);
	signer_handlers.offset = XtOffsetOf(gp_signer_object, std);
	signer_handlers.free_obj = signer_free;
	signer_handlers.clone_obj = NULL;
	memcpy(&verifier_handlers, zend_get_std_object_handlers(), sizeof verifier_handlers);
	verifier_handlers.offset = XtOffsetOf(gp_verifier_object, std);
	verifier_handlers.free_obj = verifier_free;
	verifier_handlers.clone_obj = NULL;
}

/* ---- Signer ---- */

static goldplan_signer *live_signer(zval *this_zv)
{
	goldplan_signer *h = signer_from(Z_OBJ_P(this_zv))->handle;
	if (!h) {
		zend_throw_error(NULL, "GoldPlan\\Signer is not initialised");
	}
	return h;
}

ZEND_METHOD(GoldPlan_Signer, __construct)
{
	(void)return_value; /* constructors return nothing */
	HashTable *config;
	ZEND_PARSE_PARAMETERS_START(1, 1)
		Z_PARAM_ARRAY_HT(config)
	ZEND_PARSE_PARAMETERS_END();
	gp_signer_object *s = signer_from(Z_OBJ_P(ZEND_THIS));
	smart_str json = {0};
	if (!gp_constructor_config(s->handle != NULL, "GoldPlan\\Signer", config, &json)) {
		return;
	}
	goldplan_signer *handle = NULL;
	goldplan_status st = goldplan_signer_new(ZSTR_VAL(json.s), ZSTR_LEN(json.s), &handle);
	if (gp_constructor_done(st, &json)) {
		s->handle = handle;
	}
}

ZEND_METHOD(GoldPlan_Signer, sign)
{
	zend_string *message;
	ZEND_PARSE_PARAMETERS_START(1, 1)
		Z_PARAM_STR(message)
	ZEND_PARSE_PARAMETERS_END();
	goldplan_signer *h = live_signer(ZEND_THIS);
	if (!h) {
		return;
	}
	char *out = NULL;
	size_t len = 0;
	goldplan_status st = goldplan_signer_sign(h, (const uint8_t *)ZSTR_VAL(message), ZSTR_LEN(message), &out, &len);
	gp_return_library_string(st, out, len, return_value);
}

ZEND_METHOD(GoldPlan_Signer, signRequest)
{
	zend_string *method, *path;
	zend_string *body = ZSTR_EMPTY_ALLOC();
	zend_long timestamp = 0;
	ZEND_PARSE_PARAMETERS_START(2, 4)
		Z_PARAM_STR(method)
		Z_PARAM_STR(path)
		Z_PARAM_OPTIONAL
		Z_PARAM_STR(body)
		Z_PARAM_LONG(timestamp)
	ZEND_PARSE_PARAMETERS_END();
	goldplan_signer *h = live_signer(ZEND_THIS);
	if (!h) {
		return;
	}
	goldplan_response *r = NULL;
	goldplan_status st = goldplan_signer_sign_request(h, ZSTR_VAL(method), ZSTR_LEN(method), ZSTR_VAL(path),
		ZSTR_LEN(path), (const uint8_t *)ZSTR_VAL(body), ZSTR_LEN(body), (int64_t)timestamp, &r);
	gp_return_response(st, r, return_value);
}

ZEND_METHOD(GoldPlan_Signer, decryptSensitive)
{
	zend_string *ciphertext;
	ZEND_PARSE_PARAMETERS_START(1, 1)
		Z_PARAM_STR(ciphertext)
	ZEND_PARSE_PARAMETERS_END();
	goldplan_signer *h = live_signer(ZEND_THIS);
	if (!h) {
		return;
	}
	char *out = NULL;
	size_t len = 0;
	goldplan_status st = goldplan_signer_decrypt_sensitive(h, ZSTR_VAL(ciphertext), ZSTR_LEN(ciphertext), &out, &len);
	gp_return_library_string(st, out, len, return_value);
}

/* ---- Verifier ---- */

static goldplan_verifier *live_verifier(zval *this_zv)
{
	goldplan_verifier *h = verifier_from(Z_OBJ_P(this_zv))->handle;
	if (!h) {
		zend_throw_error(NULL, "GoldPlan\\Verifier is not initialised");
	}
	return h;
}

ZEND_METHOD(GoldPlan_Verifier, __construct)
{
	(void)return_value; /* constructors return nothing */
	HashTable *config;
	ZEND_PARSE_PARAMETERS_START(1, 1)
		Z_PARAM_ARRAY_HT(config)
	ZEND_PARSE_PARAMETERS_END();
	gp_verifier_object *v = verifier_from(Z_OBJ_P(ZEND_THIS));
	smart_str json = {0};
	if (!gp_constructor_config(v->handle != NULL, "GoldPlan\\Verifier", config, &json)) {
		return;
	}
	goldplan_verifier *handle = NULL;
	goldplan_status st = goldplan_verifier_new(ZSTR_VAL(json.s), ZSTR_LEN(json.s), &handle);
	if (gp_constructor_done(st, &json)) {
		v->handle = handle;
	}
}

ZEND_METHOD(GoldPlan_Verifier, verify)
{
	HashTable *headers;
	zend_string *body;
	zend_long now = 0, max_skew = 0;
	ZEND_PARSE_PARAMETERS_START(2, 4)
		Z_PARAM_ARRAY_HT(headers)
		Z_PARAM_STR(body)
		Z_PARAM_OPTIONAL
		Z_PARAM_LONG(now)
		Z_PARAM_LONG(max_skew)
	ZEND_PARSE_PARAMETERS_END();
	goldplan_verifier *h = live_verifier(ZEND_THIS);
	if (!h) {
		return;
	}
	smart_str json = {0};
	if (!gp_headers_json(&json, headers)) {
		gp_json_release(&json);
		return;
	}
	goldplan_response *r = NULL;
	goldplan_status st = goldplan_verifier_verify(h, ZSTR_VAL(json.s), ZSTR_LEN(json.s), (const uint8_t *)ZSTR_VAL(body),
		ZSTR_LEN(body), (int64_t)now, (int64_t)max_skew, &r);
	gp_json_release(&json);
	gp_return_response(st, r, return_value);
}

ZEND_METHOD(GoldPlan_Verifier, parseNotification)
{
	zend_string *key, *body;
	HashTable *headers;
	zend_long now = 0, max_skew = 0;
	gp_replay_context guard = {.fci = empty_fcall_info, .fcc = empty_fcall_info_cache, .failed = false};
	ZEND_PARSE_PARAMETERS_START(3, 6)
		Z_PARAM_STR(key)
		Z_PARAM_ARRAY_HT(headers)
		Z_PARAM_STR(body)
		Z_PARAM_OPTIONAL
		Z_PARAM_LONG(now)
		Z_PARAM_LONG(max_skew)
		Z_PARAM_FUNC_OR_NULL(guard.fci, guard.fcc)
	ZEND_PARSE_PARAMETERS_END();
	goldplan_verifier *h = live_verifier(ZEND_THIS);
	if (!h) {
		return;
	}
	smart_str json = {0};
	if (!gp_headers_json(&json, headers)) {
		gp_json_release(&json);
		return;
	}
	bool guarded = ZEND_FCI_INITIALIZED(guard.fci);
	goldplan_response *r = NULL;
	goldplan_status st = goldplan_verifier_parse_notification_with_guard(h, ZSTR_VAL(key), ZSTR_LEN(key),
		ZSTR_VAL(json.s), ZSTR_LEN(json.s), (const uint8_t *)ZSTR_VAL(body), ZSTR_LEN(body), (int64_t)now,
		(int64_t)max_skew, NULL, guarded ? gp_replay_hook : NULL, guarded ? &guard : NULL, &r);
	gp_json_release(&json);
	gp_return_notification(st, r, &guard, return_value);
}

/* The C API's replay hook over a PHP callable: fn(string $notificationId): bool, "already
 * processed?". It runs on this thread during the parse. When the callable throws, or answers
 * something else than a bool, the answer is "processed", which stops the parse, and the
 * pending exception is what the method throws (gp_return_notification). */
bool gp_replay_hook(void *context, const char *notification_id, size_t notification_id_len)
{
	gp_replay_context *ctx = context;
	zval arg, ret;
	ZVAL_STRINGL(&arg, notification_id, notification_id_len);
	ZVAL_UNDEF(&ret);
	ctx->fci.params = &arg;
	ctx->fci.param_count = 1;
	ctx->fci.retval = &ret;
	zend_result called = zend_call_function(&ctx->fci, &ctx->fcc);
	zval_ptr_dtor(&arg);
	ctx->fci.params = NULL;
	ctx->fci.param_count = 0;
	ctx->fci.retval = NULL;
	if (called != SUCCESS || EG(exception)) {
		zval_ptr_dtor(&ret);
		ctx->failed = true;
		return true;
	}
	if (Z_TYPE(ret) == IS_TRUE || Z_TYPE(ret) == IS_FALSE) {
		return Z_TYPE(ret) == IS_TRUE;
	}
	/* The words of the FFI door (get_debug_type() names). */
	char message[192];
	snprintf(message, sizeof message, "the replay guard must return a bool, not %s",
		Z_TYPE(ret) == IS_OBJECT ? ZSTR_VAL(Z_OBJCE(ret)->name) : zend_zval_type_name(&ret));
	zval_ptr_dtor(&ret);
	gp_throw("invalid_input", "invalid_input", message);
	ctx->failed = true;
	return true;
}

void gp_return_notification(goldplan_status st, goldplan_response *r, const gp_replay_context *ctx, zval *return_value)
{
	if (ctx->failed) {
		/* The guard's exception is pending: it, not the replay it caused, is what is thrown. */
		if (st == GOLDPLAN_STATUS_OK) {
			goldplan_response_free(r);
		}
		return;
	}
	gp_return_response(st, r, return_value);
}

ZEND_METHOD(GoldPlan_Verifier, encryptSensitive)
{
	zend_string *plaintext;
	ZEND_PARSE_PARAMETERS_START(1, 1)
		Z_PARAM_STR(plaintext)
	ZEND_PARSE_PARAMETERS_END();
	goldplan_verifier *h = live_verifier(ZEND_THIS);
	if (!h) {
		return;
	}
	goldplan_response *r = NULL;
	goldplan_status st = goldplan_verifier_encrypt_sensitive(h, ZSTR_VAL(plaintext), ZSTR_LEN(plaintext), &r);
	gp_return_response(st, r, return_value);
}
