/* GoldPlan\Client: one goldplan_client handle per object, freed with the object. Every call
 * goes through goldplan_client_call with the operation names and argument JSON of the core
 * (crates/goldplan/src/client/operation.rs); the registry's operations are generated below. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "php_goldplan.h"
#include "ext/standard/base64.h"

zend_class_entry *gp_ce_client;
static zend_object_handlers client_handlers;

static inline gp_client_object *client_from(zend_object *obj)
{
	return (gp_client_object *)((char *)obj - XtOffsetOf(gp_client_object, std));
}

static zend_object *client_create(zend_class_entry *ce)
{
	gp_client_object *c = zend_object_alloc(sizeof(gp_client_object), ce);
	zend_object_std_init(&c->std, ce);
	object_properties_init(&c->std, ce);
	c->std.handlers = &client_handlers;
	return &c->std;
}

static void client_free(zend_object *obj)
{
	gp_client_object *c = client_from(obj);
	if (c->handle) {
		/* In a forked child the library keeps the parent's runtime alive on purpose. */
		goldplan_client_free(c->handle);
		c->handle = NULL;
	}
	if (c->last_request_id) {
		zend_string_release(c->last_request_id);
		c->last_request_id = NULL;
	}
	zend_object_std_dtor(obj);
}

void gp_client_minit(zend_class_entry *ce)
{
	gp_ce_client = ce;
	ce->create_object = client_create;
	memcpy(&client_handlers, zend_get_std_object_handlers(), sizeof client_handlers);
	client_handlers.offset = XtOffsetOf(gp_client_object, std);
	client_handlers.free_obj = client_free;
	client_handlers.clone_obj = NULL; /* one handle, one owner */
}

/* The object's handle, or an Error for an object whose constructor did not finish. */
static gp_client_object *live_client(zval *this_zv)
{
	gp_client_object *c = client_from(Z_OBJ_P(this_zv));
	if (!c->handle) {
		zend_throw_error(NULL, "GoldPlan\\Client is not initialised");
		return NULL;
	}
	return c;
}

static void remember_request_id(gp_client_object *c, goldplan_response *r)
{
	const char *id = NULL;
	size_t len = 0;
	if (c->last_request_id) {
		zend_string_release(c->last_request_id);
		c->last_request_id = NULL;
	}
	if (goldplan_response_request_id(r, &id, &len) == GOLDPLAN_STATUS_OK && id) {
		c->last_request_id = zend_string_init(id, len, 0);
	}
}

/* A gateway call's response: remembers its Request-ID, then returns its JSON as an array. */
static void finish_call(gp_client_object *c, goldplan_status st, goldplan_response *r, zval *return_value)
{
	if (st != GOLDPLAN_STATUS_OK) {
		gp_throw_last_error(st);
		return;
	}
	remember_request_id(c, r);
	gp_response_to_array(r, return_value);
}

/* Runs an operation with `args` (an array, consumed) as its JSON arguments. */
static void call_operation(zval *this_zv, const char *operation, zval *args, zval *return_value)
{
	gp_client_object *c = live_client(this_zv);
	if (!c) {
		zval_ptr_dtor(args);
		return;
	}
	smart_str json = {0};
	char what[80];
	snprintf(what, sizeof what, "the arguments of %s", operation);
	bool ok = gp_json_encode(&json, args, what);
	zval_ptr_dtor(args);
	if (!ok) {
		gp_json_release(&json);
		return;
	}
	goldplan_response *r = NULL;
	goldplan_status st = goldplan_client_call(c->handle, operation, strlen(operation), ZSTR_VAL(json.s),
		ZSTR_LEN(json.s), &r);
	gp_json_release(&json);
	finish_call(c, st, r, return_value);
}

ZEND_METHOD(GoldPlan_Client, __construct)
{
	(void)return_value; /* constructors return nothing */
	HashTable *config;
	ZEND_PARSE_PARAMETERS_START(1, 1)
		Z_PARAM_ARRAY_HT(config)
	ZEND_PARSE_PARAMETERS_END();
	gp_client_object *c = client_from(Z_OBJ_P(ZEND_THIS));
	smart_str json = {0};
	if (!gp_constructor_config(c->handle != NULL, "GoldPlan\\Client", config, &json)) {
		return;
	}
	goldplan_client *handle = NULL;
	goldplan_status st = goldplan_client_new(ZSTR_VAL(json.s), ZSTR_LEN(json.s), &handle);
	if (gp_constructor_done(st, &json)) {
		c->handle = handle;
	}
}

ZEND_METHOD(GoldPlan_Client, fromFile)
{
	zend_string *path;
	ZEND_PARSE_PARAMETERS_START(1, 1)
		Z_PARAM_STR(path)
	ZEND_PARSE_PARAMETERS_END();
	goldplan_client *handle = NULL;
	goldplan_status st = goldplan_client_new_from_file(ZSTR_VAL(path), ZSTR_LEN(path), &handle);
	if (st != GOLDPLAN_STATUS_OK) {
		gp_throw_last_error(st);
		return;
	}
	object_init_ex(return_value, gp_ce_client);
	client_from(Z_OBJ_P(return_value))->handle = handle;
}

/* The registry's operations: the lines between this comment and the end marker are generated
 * by `cargo run -p goldplan-codegen` from the operation registry
 * (crates/goldplan/src/client/operation.rs) and must not be edited by hand.
 * goldplan-codegen:begin operations */
/* 点金计划管理: opens or closes Gold Plan for a special merchant (without a scene, JSAPI only).
 * POST /v3/goldplan/merchants/changegoldplanstatus */
ZEND_METHOD(GoldPlan_Client, changeGoldPlanStatus)
{
	zend_string *sub_mchid;
	zend_string *operation_type;
	zend_string *operation_pay_scene = NULL;
	ZEND_PARSE_PARAMETERS_START(2, 3)
		Z_PARAM_STR(sub_mchid)
		Z_PARAM_STR(operation_type)
		Z_PARAM_OPTIONAL
		Z_PARAM_STR_OR_NULL(operation_pay_scene)
	ZEND_PARSE_PARAMETERS_END();
	zval args;
	array_init(&args);
	add_assoc_str(&args, "sub_mchid", zend_string_copy(sub_mchid));
	add_assoc_str(&args, "operation_type", zend_string_copy(operation_type));
	if (operation_pay_scene) {
		add_assoc_str(&args, "operation_pay_scene", zend_string_copy(operation_pay_scene));
	}
	call_operation(ZEND_THIS, "change_gold_plan_status", &args, return_value);
}

/* 商家小票管理: turns the merchant receipt on or off for a special merchant.
 * POST /v3/goldplan/merchants/changecustompagestatus */
ZEND_METHOD(GoldPlan_Client, changeCustomPageStatus)
{
	zend_string *sub_mchid;
	zend_string *operation_type;
	ZEND_PARSE_PARAMETERS_START(2, 2)
		Z_PARAM_STR(sub_mchid)
		Z_PARAM_STR(operation_type)
	ZEND_PARSE_PARAMETERS_END();
	zval args;
	array_init(&args);
	add_assoc_str(&args, "sub_mchid", zend_string_copy(sub_mchid));
	add_assoc_str(&args, "operation_type", zend_string_copy(operation_type));
	call_operation(ZEND_THIS, "change_custom_page_status", &args, return_value);
}

/* 同业过滤标签管理: replaces the industry filter (1 to 3 tags).
 * POST /v3/goldplan/merchants/set-advertising-industry-filter */
ZEND_METHOD(GoldPlan_Client, setAdvertisingIndustryFilter)
{
	zend_string *sub_mchid;
	HashTable *advertising_industry_filters;
	ZEND_PARSE_PARAMETERS_START(2, 2)
		Z_PARAM_STR(sub_mchid)
		Z_PARAM_ARRAY_HT(advertising_industry_filters)
	ZEND_PARSE_PARAMETERS_END();
	zval args;
	array_init(&args);
	add_assoc_str(&args, "sub_mchid", zend_string_copy(sub_mchid));
	gp_add_list(&args, "advertising_industry_filters", advertising_industry_filters);
	call_operation(ZEND_THIS, "set_advertising_industry_filter", &args, return_value);
}

/* 开通广告展示: turns ad display on, optionally with up to 3 industry filters.
 * PATCH /v3/goldplan/merchants/open-advertising-show */
ZEND_METHOD(GoldPlan_Client, openAdvertisingShow)
{
	zend_string *sub_mchid;
	HashTable *advertising_industry_filters = NULL;
	ZEND_PARSE_PARAMETERS_START(1, 2)
		Z_PARAM_STR(sub_mchid)
		Z_PARAM_OPTIONAL
		Z_PARAM_ARRAY_HT_OR_NULL(advertising_industry_filters)
	ZEND_PARSE_PARAMETERS_END();
	zval args;
	array_init(&args);
	add_assoc_str(&args, "sub_mchid", zend_string_copy(sub_mchid));
	if (advertising_industry_filters) {
		gp_add_list(&args, "advertising_industry_filters", advertising_industry_filters);
	}
	call_operation(ZEND_THIS, "open_advertising_show", &args, return_value);
}

/* 关闭广告展示: turns ad display off.
 * POST /v3/goldplan/merchants/close-advertising-show */
ZEND_METHOD(GoldPlan_Client, closeAdvertisingShow)
{
	zend_string *sub_mchid;
	ZEND_PARSE_PARAMETERS_START(1, 1)
		Z_PARAM_STR(sub_mchid)
	ZEND_PARSE_PARAMETERS_END();
	zval args;
	array_init(&args);
	add_assoc_str(&args, "sub_mchid", zend_string_copy(sub_mchid));
	call_operation(ZEND_THIS, "close_advertising_show", &args, return_value);
}

/* JSAPI下单 (partner): creates an order for a special merchant and answers the prepay_id a pay-sign
 * needs.
 * POST /v3/pay/partner/transactions/jsapi */
ZEND_METHOD(GoldPlan_Client, jsapiPrepay)
{
	zend_string *sp_appid;
	zend_string *sp_mchid;
	zend_string *sub_mchid;
	zend_string *description;
	zend_string *out_trade_no;
	zend_string *notify_url;
	zval *amount;
	zval *payer;
	zend_string *attach = NULL;
	zval *detail = NULL;
	zend_string *goods_tag = NULL;
	HashTable *limit_pay = NULL;
	zval *scene_info = NULL;
	zval *settle_info = NULL;
	zend_string *sub_appid = NULL;
	bool support_fapiao = false;
	bool support_fapiao_is_null = true;
	zend_string *time_expire = NULL;
	ZEND_PARSE_PARAMETERS_START(8, 17)
		Z_PARAM_STR(sp_appid)
		Z_PARAM_STR(sp_mchid)
		Z_PARAM_STR(sub_mchid)
		Z_PARAM_STR(description)
		Z_PARAM_STR(out_trade_no)
		Z_PARAM_STR(notify_url)
		Z_PARAM_ZVAL(amount)
		Z_PARAM_ZVAL(payer)
		Z_PARAM_OPTIONAL
		Z_PARAM_STR_OR_NULL(attach)
		Z_PARAM_ZVAL_OR_NULL(detail)
		Z_PARAM_STR_OR_NULL(goods_tag)
		Z_PARAM_ARRAY_HT_OR_NULL(limit_pay)
		Z_PARAM_ZVAL_OR_NULL(scene_info)
		Z_PARAM_ZVAL_OR_NULL(settle_info)
		Z_PARAM_STR_OR_NULL(sub_appid)
		Z_PARAM_BOOL_OR_NULL(support_fapiao, support_fapiao_is_null)
		Z_PARAM_STR_OR_NULL(time_expire)
	ZEND_PARSE_PARAMETERS_END();
	zval args;
	array_init(&args);
	add_assoc_str(&args, "sp_appid", zend_string_copy(sp_appid));
	add_assoc_str(&args, "sp_mchid", zend_string_copy(sp_mchid));
	add_assoc_str(&args, "sub_mchid", zend_string_copy(sub_mchid));
	add_assoc_str(&args, "description", zend_string_copy(description));
	add_assoc_str(&args, "out_trade_no", zend_string_copy(out_trade_no));
	add_assoc_str(&args, "notify_url", zend_string_copy(notify_url));
	Z_TRY_ADDREF_P(amount);
	add_assoc_zval(&args, "amount", amount);
	Z_TRY_ADDREF_P(payer);
	add_assoc_zval(&args, "payer", payer);
	if (attach) {
		add_assoc_str(&args, "attach", zend_string_copy(attach));
	}
	if (detail) {
		Z_TRY_ADDREF_P(detail);
		add_assoc_zval(&args, "detail", detail);
	}
	if (goods_tag) {
		add_assoc_str(&args, "goods_tag", zend_string_copy(goods_tag));
	}
	if (limit_pay) {
		gp_add_list(&args, "limit_pay", limit_pay);
	}
	if (scene_info) {
		Z_TRY_ADDREF_P(scene_info);
		add_assoc_zval(&args, "scene_info", scene_info);
	}
	if (settle_info) {
		Z_TRY_ADDREF_P(settle_info);
		add_assoc_zval(&args, "settle_info", settle_info);
	}
	if (sub_appid) {
		add_assoc_str(&args, "sub_appid", zend_string_copy(sub_appid));
	}
	if (!support_fapiao_is_null) {
		add_assoc_bool(&args, "support_fapiao", support_fapiao);
	}
	if (time_expire) {
		add_assoc_str(&args, "time_expire", zend_string_copy(time_expire));
	}
	call_operation(ZEND_THIS, "jsapi_prepay", &args, return_value);
}

/* 商户订单号查询订单 (partner): the order in any state; 404 ORDER_NOT_EXIST when there is none.
 * GET /v3/pay/partner/transactions/out-trade-no/{out_trade_no} */
ZEND_METHOD(GoldPlan_Client, queryOrderByOutTradeNo)
{
	zend_string *out_trade_no;
	zend_string *sp_mchid;
	zend_string *sub_mchid;
	ZEND_PARSE_PARAMETERS_START(3, 3)
		Z_PARAM_STR(out_trade_no)
		Z_PARAM_STR(sp_mchid)
		Z_PARAM_STR(sub_mchid)
	ZEND_PARSE_PARAMETERS_END();
	zval args;
	array_init(&args);
	add_assoc_str(&args, "out_trade_no", zend_string_copy(out_trade_no));
	add_assoc_str(&args, "sp_mchid", zend_string_copy(sp_mchid));
	add_assoc_str(&args, "sub_mchid", zend_string_copy(sub_mchid));
	call_operation(ZEND_THIS, "query_order_by_out_trade_no", &args, return_value);
}

/* 微信支付订单号查询订单 (partner): a paid order; 404 ORDER_NOT_EXIST otherwise.
 * GET /v3/pay/partner/transactions/id/{transaction_id} */
ZEND_METHOD(GoldPlan_Client, queryOrderByTransactionId)
{
	zend_string *transaction_id;
	zend_string *sp_mchid;
	zend_string *sub_mchid;
	ZEND_PARSE_PARAMETERS_START(3, 3)
		Z_PARAM_STR(transaction_id)
		Z_PARAM_STR(sp_mchid)
		Z_PARAM_STR(sub_mchid)
	ZEND_PARSE_PARAMETERS_END();
	zval args;
	array_init(&args);
	add_assoc_str(&args, "transaction_id", zend_string_copy(transaction_id));
	add_assoc_str(&args, "sp_mchid", zend_string_copy(sp_mchid));
	add_assoc_str(&args, "sub_mchid", zend_string_copy(sub_mchid));
	call_operation(ZEND_THIS, "query_order_by_transaction_id", &args, return_value);
}

/* 关闭订单 (partner): closes an unpaid order (204); a paid order cannot be closed.
 * POST /v3/pay/partner/transactions/out-trade-no/{out_trade_no}/close */
ZEND_METHOD(GoldPlan_Client, closeOrder)
{
	zend_string *out_trade_no;
	zend_string *sp_mchid;
	zend_string *sub_mchid;
	ZEND_PARSE_PARAMETERS_START(3, 3)
		Z_PARAM_STR(out_trade_no)
		Z_PARAM_STR(sp_mchid)
		Z_PARAM_STR(sub_mchid)
	ZEND_PARSE_PARAMETERS_END();
	zval args;
	array_init(&args);
	add_assoc_str(&args, "out_trade_no", zend_string_copy(out_trade_no));
	add_assoc_str(&args, "sp_mchid", zend_string_copy(sp_mchid));
	add_assoc_str(&args, "sub_mchid", zend_string_copy(sub_mchid));
	call_operation(ZEND_THIS, "close_order", &args, return_value);
}

/* JSAPI调起支付: the six values a page passes to getBrandWCPayRequest, signed with the merchant key. */
ZEND_METHOD(GoldPlan_Client, requestPayment)
{
	zend_string *app_id;
	zend_string *prepay_id;
	zend_string *nonce_str = NULL;
	zend_long time_stamp = 0;
	bool time_stamp_is_null = true;
	ZEND_PARSE_PARAMETERS_START(2, 4)
		Z_PARAM_STR(app_id)
		Z_PARAM_STR(prepay_id)
		Z_PARAM_OPTIONAL
		Z_PARAM_STR_OR_NULL(nonce_str)
		Z_PARAM_LONG_OR_NULL(time_stamp, time_stamp_is_null)
	ZEND_PARSE_PARAMETERS_END();
	zval args;
	array_init(&args);
	add_assoc_str(&args, "app_id", zend_string_copy(app_id));
	add_assoc_str(&args, "prepay_id", zend_string_copy(prepay_id));
	if (nonce_str) {
		add_assoc_str(&args, "nonce_str", zend_string_copy(nonce_str));
	}
	if (!time_stamp_is_null) {
		add_assoc_long(&args, "time_stamp", time_stamp);
	}
	call_operation(ZEND_THIS, "request_payment", &args, return_value);
}

/* The transaction_id a receipt's check_code needs, by one order query within a deadline; null when
 * the order is not paid or unknown. */
ZEND_METHOD(GoldPlan_Client, resolveTransactionId)
{
	zend_string *sub_mch_id;
	zend_string *out_trade_no;
	zend_long timeout_ms = 0;
	bool timeout_ms_is_null = true;
	ZEND_PARSE_PARAMETERS_START(2, 3)
		Z_PARAM_STR(sub_mch_id)
		Z_PARAM_STR(out_trade_no)
		Z_PARAM_OPTIONAL
		Z_PARAM_LONG_OR_NULL(timeout_ms, timeout_ms_is_null)
	ZEND_PARSE_PARAMETERS_END();
	zval args;
	array_init(&args);
	add_assoc_str(&args, "sub_mch_id", zend_string_copy(sub_mch_id));
	add_assoc_str(&args, "out_trade_no", zend_string_copy(out_trade_no));
	if (!timeout_ms_is_null) {
		add_assoc_long(&args, "timeout_ms", timeout_ms);
	}
	call_operation(ZEND_THIS, "resolve_transaction_id", &args, return_value);
}
/* goldplan-codegen:end operations */

ZEND_METHOD(GoldPlan_Client, uploadImage)
{
	zend_string *filename, *content;
	ZEND_PARSE_PARAMETERS_START(2, 2)
		Z_PARAM_STR(filename)
		Z_PARAM_STR(content)
	ZEND_PARSE_PARAMETERS_END();
	zval args;
	array_init(&args);
	add_assoc_str(&args, "filename", zend_string_copy(filename));
	add_assoc_str(&args, "content_base64",
		php_base64_encode((const unsigned char *)ZSTR_VAL(content), ZSTR_LEN(content)));
	call_operation(ZEND_THIS, "upload_image", &args, return_value);
}

ZEND_METHOD(GoldPlan_Client, request)
{
	zend_string *method, *path, *serial = NULL;
	zend_string *body_text = NULL;
	HashTable *body = NULL;
	ZEND_PARSE_PARAMETERS_START(2, 4)
		Z_PARAM_STR(method)
		Z_PARAM_STR(path)
		Z_PARAM_OPTIONAL
		Z_PARAM_ARRAY_HT_OR_STR_OR_NULL(body, body_text)
		Z_PARAM_STR_OR_NULL(serial)
	ZEND_PARSE_PARAMETERS_END();
	zval args;
	array_init(&args);
	add_assoc_str(&args, "method", zend_string_copy(method));
	add_assoc_str(&args, "path", zend_string_copy(path));
	if (body) {
		zval b;
		if (zend_hash_num_elements(body) == 0) {
			/* [] is PHP's empty object as much as its empty list; a request body is an object. */
			object_init(&b);
		} else {
			ZVAL_ARR(&b, zend_array_dup(body));
		}
		add_assoc_zval(&args, "body", &b);
	} else if (body_text) {
		add_assoc_str(&args, "body_text", zend_string_copy(body_text));
	}
	if (serial) {
		add_assoc_str(&args, "wechatpay_serial", zend_string_copy(serial));
	}
	call_operation(ZEND_THIS, "request", &args, return_value);
}

ZEND_METHOD(GoldPlan_Client, parseNotification)
{
	HashTable *headers;
	zend_string *body;
	gp_replay_context guard = {.fci = empty_fcall_info, .fcc = empty_fcall_info_cache, .failed = false};
	ZEND_PARSE_PARAMETERS_START(2, 3)
		Z_PARAM_ARRAY_HT(headers)
		Z_PARAM_STR(body)
		Z_PARAM_OPTIONAL
		Z_PARAM_FUNC_OR_NULL(guard.fci, guard.fcc)
	ZEND_PARSE_PARAMETERS_END();
	gp_client_object *c = live_client(ZEND_THIS);
	if (!c) {
		return;
	}
	smart_str json = {0};
	if (!gp_headers_json(&json, headers)) {
		gp_json_release(&json);
		return;
	}
	bool guarded = ZEND_FCI_INITIALIZED(guard.fci);
	goldplan_response *r = NULL;
	goldplan_status st = goldplan_client_parse_notification_with_guard(c->handle, ZSTR_VAL(json.s), ZSTR_LEN(json.s),
		(const uint8_t *)ZSTR_VAL(body), ZSTR_LEN(body), NULL, guarded ? gp_replay_hook : NULL,
		guarded ? &guard : NULL, &r);
	gp_json_release(&json);
	gp_return_notification(st, r, &guard, return_value);
}

ZEND_METHOD(GoldPlan_Client, encryptSensitive)
{
	zend_string *plaintext;
	ZEND_PARSE_PARAMETERS_START(1, 1)
		Z_PARAM_STR(plaintext)
	ZEND_PARSE_PARAMETERS_END();
	gp_client_object *c = live_client(ZEND_THIS);
	if (!c) {
		return;
	}
	goldplan_response *r = NULL;
	goldplan_status st = goldplan_client_encrypt_sensitive(c->handle, ZSTR_VAL(plaintext), ZSTR_LEN(plaintext), &r);
	if (st != GOLDPLAN_STATUS_OK) {
		gp_throw_last_error(st);
		return;
	}
	gp_response_to_array(r, return_value);
}

ZEND_METHOD(GoldPlan_Client, decryptSensitive)
{
	zend_string *ciphertext;
	ZEND_PARSE_PARAMETERS_START(1, 1)
		Z_PARAM_STR(ciphertext)
	ZEND_PARSE_PARAMETERS_END();
	gp_client_object *c = live_client(ZEND_THIS);
	if (!c) {
		return;
	}
	char *plain = NULL;
	size_t len = 0;
	goldplan_status st = goldplan_client_decrypt_sensitive(c->handle, ZSTR_VAL(ciphertext), ZSTR_LEN(ciphertext),
		&plain, &len);
	if (st != GOLDPLAN_STATUS_OK) {
		gp_throw_last_error(st);
		return;
	}
	RETVAL_STRINGL(plain, len);
	goldplan_string_free(plain); /* wipes */
}

ZEND_METHOD(GoldPlan_Client, refreshCertificates)
{
	ZEND_PARSE_PARAMETERS_NONE();
	gp_client_object *c = live_client(ZEND_THIS);
	if (!c) {
		return;
	}
	goldplan_response *r = NULL;
	goldplan_status st = goldplan_client_refresh_certificates(c->handle, &r);
	finish_call(c, st, r, return_value);
}

ZEND_METHOD(GoldPlan_Client, probe)
{
	ZEND_PARSE_PARAMETERS_NONE();
	gp_client_object *c = live_client(ZEND_THIS);
	if (!c) {
		return;
	}
	goldplan_response *r = NULL;
	goldplan_status st = goldplan_client_probe(c->handle, &r);
	finish_call(c, st, r, return_value);
}

ZEND_METHOD(GoldPlan_Client, lastRequestId)
{
	ZEND_PARSE_PARAMETERS_NONE();
	gp_client_object *c = client_from(Z_OBJ_P(ZEND_THIS));
	if (c->last_request_id) {
		RETURN_STR_COPY(c->last_request_id);
	}
	RETURN_NULL();
}
