/* This is a generated file, edit the .stub.php file instead.
 * Stub hash: 04baf241493036d39f0c66f46a8b0b03c9091015 */

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_GoldPlan_version, 0, 0, IS_STRING, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_INFO_EX(arginfo_class_GoldPlan_Client___construct, 0, 0, 1)
	ZEND_ARG_TYPE_INFO(0, config, IS_ARRAY, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_OBJ_INFO_EX(arginfo_class_GoldPlan_Client_fromFile, 0, 1, GoldPlan\\Client, 0)
	ZEND_ARG_TYPE_INFO(0, path, IS_STRING, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_GoldPlan_Client_changeGoldPlanStatus, 0, 2, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, subMchid, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, operationType, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, operationPayScene, IS_STRING, 1, "null")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_GoldPlan_Client_changeCustomPageStatus, 0, 2, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, subMchid, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, operationType, IS_STRING, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_GoldPlan_Client_setAdvertisingIndustryFilter, 0, 2, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, subMchid, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, advertisingIndustryFilters, IS_ARRAY, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_GoldPlan_Client_openAdvertisingShow, 0, 1, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, subMchid, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, advertisingIndustryFilters, IS_ARRAY, 1, "null")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_GoldPlan_Client_closeAdvertisingShow, 0, 1, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, subMchid, IS_STRING, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_GoldPlan_Client_jsapiPrepay, 0, 8, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, spAppid, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, spMchid, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, subMchid, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, description, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, outTradeNo, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, notifyUrl, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, amount, IS_MIXED, 0)
	ZEND_ARG_TYPE_INFO(0, payer, IS_MIXED, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, attach, IS_STRING, 1, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, detail, IS_MIXED, 0, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, goodsTag, IS_STRING, 1, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, limitPay, IS_ARRAY, 1, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, sceneInfo, IS_MIXED, 0, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, settleInfo, IS_MIXED, 0, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, subAppid, IS_STRING, 1, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, supportFapiao, _IS_BOOL, 1, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, timeExpire, IS_STRING, 1, "null")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_GoldPlan_Client_queryOrderByOutTradeNo, 0, 3, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, outTradeNo, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, spMchid, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, subMchid, IS_STRING, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_GoldPlan_Client_queryOrderByTransactionId, 0, 3, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, transactionId, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, spMchid, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, subMchid, IS_STRING, 0)
ZEND_END_ARG_INFO()

#define arginfo_class_GoldPlan_Client_closeOrder arginfo_class_GoldPlan_Client_queryOrderByOutTradeNo

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_GoldPlan_Client_requestPayment, 0, 2, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, appId, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, prepayId, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, nonceStr, IS_STRING, 1, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, timeStamp, IS_LONG, 1, "null")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_GoldPlan_Client_resolveTransactionId, 0, 2, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, subMchId, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, outTradeNo, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, timeoutMs, IS_LONG, 1, "null")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_GoldPlan_Client_uploadImage, 0, 2, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, filename, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, content, IS_STRING, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_GoldPlan_Client_request, 0, 2, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, method, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, path, IS_STRING, 0)
	ZEND_ARG_TYPE_MASK(0, body, MAY_BE_ARRAY|MAY_BE_STRING|MAY_BE_NULL, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, wechatpaySerial, IS_STRING, 1, "null")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_GoldPlan_Client_parseNotification, 0, 2, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, headers, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, rawBody, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, replayGuard, IS_CALLABLE, 1, "null")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_GoldPlan_Client_encryptSensitive, 0, 1, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, plaintext, IS_STRING, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_GoldPlan_Client_decryptSensitive, 0, 1, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, ciphertext, IS_STRING, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_GoldPlan_Client_refreshCertificates, 0, 0, IS_ARRAY, 0)
ZEND_END_ARG_INFO()

#define arginfo_class_GoldPlan_Client_probe arginfo_class_GoldPlan_Client_refreshCertificates

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_GoldPlan_Client_lastRequestId, 0, 0, IS_STRING, 1)
ZEND_END_ARG_INFO()

#define arginfo_class_GoldPlan_Signer___construct arginfo_class_GoldPlan_Client___construct

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_GoldPlan_Signer_sign, 0, 1, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, message, IS_STRING, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_GoldPlan_Signer_signRequest, 0, 2, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, method, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, pathAndQuery, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, body, IS_STRING, 0, "\"\"")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, timestamp, IS_LONG, 0, "0")
ZEND_END_ARG_INFO()

#define arginfo_class_GoldPlan_Signer_decryptSensitive arginfo_class_GoldPlan_Client_decryptSensitive

#define arginfo_class_GoldPlan_Verifier___construct arginfo_class_GoldPlan_Client___construct

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_GoldPlan_Verifier_verify, 0, 2, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, headers, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, rawBody, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, now, IS_LONG, 0, "0")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, maxSkewSecs, IS_LONG, 0, "0")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_GoldPlan_Verifier_parseNotification, 0, 3, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, apiv3Key, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, headers, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, rawBody, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, now, IS_LONG, 0, "0")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, maxSkewSecs, IS_LONG, 0, "0")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, replayGuard, IS_CALLABLE, 1, "null")
ZEND_END_ARG_INFO()

#define arginfo_class_GoldPlan_Verifier_encryptSensitive arginfo_class_GoldPlan_Client_encryptSensitive

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_GoldPlan_Protocol_checkCodeInput, 0, 4, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, configuredLink, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, subMchId, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, outTradeNo, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, transactionId, IS_STRING, 0)
ZEND_END_ARG_INFO()

#define arginfo_class_GoldPlan_Protocol_expectedCheckCode arginfo_class_GoldPlan_Protocol_checkCodeInput

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_GoldPlan_Protocol_verifyCheckCode, 0, 5, _IS_BOOL, 0)
	ZEND_ARG_TYPE_INFO(0, configuredLink, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, subMchId, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, outTradeNo, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, transactionId, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, checkCode, IS_STRING, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_GoldPlan_Protocol_parseReceiptQuery, 0, 1, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, url, IS_STRING, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_GoldPlan_Protocol_decryptCertificates, 0, 3, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, headers, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, body, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, apiv3Key, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, now, IS_LONG, 0, "0")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, trustedCertificates, IS_ARRAY, 1, "null")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_GoldPlan_Protocol_messageToSign, 0, 4, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, method, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, canonicalUrl, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, timestamp, IS_LONG, 0)
	ZEND_ARG_TYPE_INFO(0, nonce, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, body, IS_STRING, 0, "\"\"")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_GoldPlan_Protocol_messageToVerify, 0, 2, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, timestamp, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, nonce, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, body, IS_STRING, 0, "\"\"")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_GoldPlan_Protocol_canonicalUrl, 0, 1, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, pathAndQuery, IS_STRING, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_GoldPlan_Protocol_authorizationHeader, 0, 1, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, fields, IS_ARRAY, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_GoldPlan_Protocol_aeadDecrypt, 0, 4, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, apiv3Key, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, associatedData, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, nonce, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, ciphertext, IS_STRING, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_GoldPlan_Protocol_aeadEncrypt, 0, 4, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, apiv3Key, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, associatedData, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, nonce, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, plaintext, IS_STRING, 0)
ZEND_END_ARG_INFO()

#define arginfo_class_GoldPlan_Receipt_checkCode arginfo_class_GoldPlan_Protocol_checkCodeInput

#define arginfo_class_GoldPlan_Receipt_verifyCheckCode arginfo_class_GoldPlan_Protocol_verifyCheckCode

#define arginfo_class_GoldPlan_Receipt_parseUrl arginfo_class_GoldPlan_Protocol_parseReceiptQuery

#define arginfo_class_GoldPlan_Exception_GoldPlanException_getKind arginfo_GoldPlan_version

#define arginfo_class_GoldPlan_Exception_GoldPlanException_getFamily arginfo_GoldPlan_version

#define arginfo_class_GoldPlan_Exception_GoldPlanException_getRequestId arginfo_class_GoldPlan_Client_lastRequestId

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_GoldPlan_Exception_GoldPlanException_getStatus, 0, 0, IS_LONG, 1)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_GoldPlan_Exception_GoldPlanException_getDetail, 0, 0, IS_MIXED, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_GoldPlan_Exception_GoldPlanException_isRetryable, 0, 0, _IS_BOOL, 0)
ZEND_END_ARG_INFO()


ZEND_FUNCTION(GoldPlan_version);
ZEND_METHOD(GoldPlan_Client, __construct);
ZEND_METHOD(GoldPlan_Client, fromFile);
ZEND_METHOD(GoldPlan_Client, changeGoldPlanStatus);
ZEND_METHOD(GoldPlan_Client, changeCustomPageStatus);
ZEND_METHOD(GoldPlan_Client, setAdvertisingIndustryFilter);
ZEND_METHOD(GoldPlan_Client, openAdvertisingShow);
ZEND_METHOD(GoldPlan_Client, closeAdvertisingShow);
ZEND_METHOD(GoldPlan_Client, jsapiPrepay);
ZEND_METHOD(GoldPlan_Client, queryOrderByOutTradeNo);
ZEND_METHOD(GoldPlan_Client, queryOrderByTransactionId);
ZEND_METHOD(GoldPlan_Client, closeOrder);
ZEND_METHOD(GoldPlan_Client, requestPayment);
ZEND_METHOD(GoldPlan_Client, resolveTransactionId);
ZEND_METHOD(GoldPlan_Client, uploadImage);
ZEND_METHOD(GoldPlan_Client, request);
ZEND_METHOD(GoldPlan_Client, parseNotification);
ZEND_METHOD(GoldPlan_Client, encryptSensitive);
ZEND_METHOD(GoldPlan_Client, decryptSensitive);
ZEND_METHOD(GoldPlan_Client, refreshCertificates);
ZEND_METHOD(GoldPlan_Client, probe);
ZEND_METHOD(GoldPlan_Client, lastRequestId);
ZEND_METHOD(GoldPlan_Signer, __construct);
ZEND_METHOD(GoldPlan_Signer, sign);
ZEND_METHOD(GoldPlan_Signer, signRequest);
ZEND_METHOD(GoldPlan_Signer, decryptSensitive);
ZEND_METHOD(GoldPlan_Verifier, __construct);
ZEND_METHOD(GoldPlan_Verifier, verify);
ZEND_METHOD(GoldPlan_Verifier, parseNotification);
ZEND_METHOD(GoldPlan_Verifier, encryptSensitive);
ZEND_METHOD(GoldPlan_Protocol, checkCodeInput);
ZEND_METHOD(GoldPlan_Protocol, expectedCheckCode);
ZEND_METHOD(GoldPlan_Protocol, verifyCheckCode);
ZEND_METHOD(GoldPlan_Protocol, parseReceiptQuery);
ZEND_METHOD(GoldPlan_Protocol, decryptCertificates);
ZEND_METHOD(GoldPlan_Protocol, messageToSign);
ZEND_METHOD(GoldPlan_Protocol, messageToVerify);
ZEND_METHOD(GoldPlan_Protocol, canonicalUrl);
ZEND_METHOD(GoldPlan_Protocol, authorizationHeader);
ZEND_METHOD(GoldPlan_Protocol, aeadDecrypt);
ZEND_METHOD(GoldPlan_Protocol, aeadEncrypt);
ZEND_METHOD(GoldPlan_Receipt, checkCode);
ZEND_METHOD(GoldPlan_Receipt, verifyCheckCode);
ZEND_METHOD(GoldPlan_Receipt, parseUrl);
ZEND_METHOD(GoldPlan_Exception_GoldPlanException, getKind);
ZEND_METHOD(GoldPlan_Exception_GoldPlanException, getFamily);
ZEND_METHOD(GoldPlan_Exception_GoldPlanException, getRequestId);
ZEND_METHOD(GoldPlan_Exception_GoldPlanException, getStatus);
ZEND_METHOD(GoldPlan_Exception_GoldPlanException, getDetail);
ZEND_METHOD(GoldPlan_Exception_GoldPlanException, isRetryable);


static const zend_function_entry ext_functions[] = {
	ZEND_NS_FALIAS("GoldPlan", version, GoldPlan_version, arginfo_GoldPlan_version)
	ZEND_FE_END
};


static const zend_function_entry class_GoldPlan_Client_methods[] = {
	ZEND_ME(GoldPlan_Client, __construct, arginfo_class_GoldPlan_Client___construct, ZEND_ACC_PUBLIC)
	ZEND_ME(GoldPlan_Client, fromFile, arginfo_class_GoldPlan_Client_fromFile, ZEND_ACC_PUBLIC|ZEND_ACC_STATIC)
	ZEND_ME(GoldPlan_Client, changeGoldPlanStatus, arginfo_class_GoldPlan_Client_changeGoldPlanStatus, ZEND_ACC_PUBLIC)
	ZEND_ME(GoldPlan_Client, changeCustomPageStatus, arginfo_class_GoldPlan_Client_changeCustomPageStatus, ZEND_ACC_PUBLIC)
	ZEND_ME(GoldPlan_Client, setAdvertisingIndustryFilter, arginfo_class_GoldPlan_Client_setAdvertisingIndustryFilter, ZEND_ACC_PUBLIC)
	ZEND_ME(GoldPlan_Client, openAdvertisingShow, arginfo_class_GoldPlan_Client_openAdvertisingShow, ZEND_ACC_PUBLIC)
	ZEND_ME(GoldPlan_Client, closeAdvertisingShow, arginfo_class_GoldPlan_Client_closeAdvertisingShow, ZEND_ACC_PUBLIC)
	ZEND_ME(GoldPlan_Client, jsapiPrepay, arginfo_class_GoldPlan_Client_jsapiPrepay, ZEND_ACC_PUBLIC)
	ZEND_ME(GoldPlan_Client, queryOrderByOutTradeNo, arginfo_class_GoldPlan_Client_queryOrderByOutTradeNo, ZEND_ACC_PUBLIC)
	ZEND_ME(GoldPlan_Client, queryOrderByTransactionId, arginfo_class_GoldPlan_Client_queryOrderByTransactionId, ZEND_ACC_PUBLIC)
	ZEND_ME(GoldPlan_Client, closeOrder, arginfo_class_GoldPlan_Client_closeOrder, ZEND_ACC_PUBLIC)
	ZEND_ME(GoldPlan_Client, requestPayment, arginfo_class_GoldPlan_Client_requestPayment, ZEND_ACC_PUBLIC)
	ZEND_ME(GoldPlan_Client, resolveTransactionId, arginfo_class_GoldPlan_Client_resolveTransactionId, ZEND_ACC_PUBLIC)
	ZEND_ME(GoldPlan_Client, uploadImage, arginfo_class_GoldPlan_Client_uploadImage, ZEND_ACC_PUBLIC)
	ZEND_ME(GoldPlan_Client, request, arginfo_class_GoldPlan_Client_request, ZEND_ACC_PUBLIC)
	ZEND_ME(GoldPlan_Client, parseNotification, arginfo_class_GoldPlan_Client_parseNotification, ZEND_ACC_PUBLIC)
	ZEND_ME(GoldPlan_Client, encryptSensitive, arginfo_class_GoldPlan_Client_encryptSensitive, ZEND_ACC_PUBLIC)
	ZEND_ME(GoldPlan_Client, decryptSensitive, arginfo_class_GoldPlan_Client_decryptSensitive, ZEND_ACC_PUBLIC)
	ZEND_ME(GoldPlan_Client, refreshCertificates, arginfo_class_GoldPlan_Client_refreshCertificates, ZEND_ACC_PUBLIC)
	ZEND_ME(GoldPlan_Client, probe, arginfo_class_GoldPlan_Client_probe, ZEND_ACC_PUBLIC)
	ZEND_ME(GoldPlan_Client, lastRequestId, arginfo_class_GoldPlan_Client_lastRequestId, ZEND_ACC_PUBLIC)
	ZEND_FE_END
};


static const zend_function_entry class_GoldPlan_Signer_methods[] = {
	ZEND_ME(GoldPlan_Signer, __construct, arginfo_class_GoldPlan_Signer___construct, ZEND_ACC_PUBLIC)
	ZEND_ME(GoldPlan_Signer, sign, arginfo_class_GoldPlan_Signer_sign, ZEND_ACC_PUBLIC)
	ZEND_ME(GoldPlan_Signer, signRequest, arginfo_class_GoldPlan_Signer_signRequest, ZEND_ACC_PUBLIC)
	ZEND_ME(GoldPlan_Signer, decryptSensitive, arginfo_class_GoldPlan_Signer_decryptSensitive, ZEND_ACC_PUBLIC)
	ZEND_FE_END
};


static const zend_function_entry class_GoldPlan_Verifier_methods[] = {
	ZEND_ME(GoldPlan_Verifier, __construct, arginfo_class_GoldPlan_Verifier___construct, ZEND_ACC_PUBLIC)
	ZEND_ME(GoldPlan_Verifier, verify, arginfo_class_GoldPlan_Verifier_verify, ZEND_ACC_PUBLIC)
	ZEND_ME(GoldPlan_Verifier, parseNotification, arginfo_class_GoldPlan_Verifier_parseNotification, ZEND_ACC_PUBLIC)
	ZEND_ME(GoldPlan_Verifier, encryptSensitive, arginfo_class_GoldPlan_Verifier_encryptSensitive, ZEND_ACC_PUBLIC)
	ZEND_FE_END
};


static const zend_function_entry class_GoldPlan_Protocol_methods[] = {
	ZEND_ME(GoldPlan_Protocol, checkCodeInput, arginfo_class_GoldPlan_Protocol_checkCodeInput, ZEND_ACC_PUBLIC|ZEND_ACC_STATIC)
	ZEND_ME(GoldPlan_Protocol, expectedCheckCode, arginfo_class_GoldPlan_Protocol_expectedCheckCode, ZEND_ACC_PUBLIC|ZEND_ACC_STATIC)
	ZEND_ME(GoldPlan_Protocol, verifyCheckCode, arginfo_class_GoldPlan_Protocol_verifyCheckCode, ZEND_ACC_PUBLIC|ZEND_ACC_STATIC)
	ZEND_ME(GoldPlan_Protocol, parseReceiptQuery, arginfo_class_GoldPlan_Protocol_parseReceiptQuery, ZEND_ACC_PUBLIC|ZEND_ACC_STATIC)
	ZEND_ME(GoldPlan_Protocol, decryptCertificates, arginfo_class_GoldPlan_Protocol_decryptCertificates, ZEND_ACC_PUBLIC|ZEND_ACC_STATIC)
	ZEND_ME(GoldPlan_Protocol, messageToSign, arginfo_class_GoldPlan_Protocol_messageToSign, ZEND_ACC_PUBLIC|ZEND_ACC_STATIC)
	ZEND_ME(GoldPlan_Protocol, messageToVerify, arginfo_class_GoldPlan_Protocol_messageToVerify, ZEND_ACC_PUBLIC|ZEND_ACC_STATIC)
	ZEND_ME(GoldPlan_Protocol, canonicalUrl, arginfo_class_GoldPlan_Protocol_canonicalUrl, ZEND_ACC_PUBLIC|ZEND_ACC_STATIC)
	ZEND_ME(GoldPlan_Protocol, authorizationHeader, arginfo_class_GoldPlan_Protocol_authorizationHeader, ZEND_ACC_PUBLIC|ZEND_ACC_STATIC)
	ZEND_ME(GoldPlan_Protocol, aeadDecrypt, arginfo_class_GoldPlan_Protocol_aeadDecrypt, ZEND_ACC_PUBLIC|ZEND_ACC_STATIC)
	ZEND_ME(GoldPlan_Protocol, aeadEncrypt, arginfo_class_GoldPlan_Protocol_aeadEncrypt, ZEND_ACC_PUBLIC|ZEND_ACC_STATIC)
	ZEND_FE_END
};


static const zend_function_entry class_GoldPlan_Receipt_methods[] = {
	ZEND_ME(GoldPlan_Receipt, checkCode, arginfo_class_GoldPlan_Receipt_checkCode, ZEND_ACC_PUBLIC|ZEND_ACC_STATIC|ZEND_ACC_DEPRECATED)
	ZEND_ME(GoldPlan_Receipt, verifyCheckCode, arginfo_class_GoldPlan_Receipt_verifyCheckCode, ZEND_ACC_PUBLIC|ZEND_ACC_STATIC|ZEND_ACC_DEPRECATED)
	ZEND_ME(GoldPlan_Receipt, parseUrl, arginfo_class_GoldPlan_Receipt_parseUrl, ZEND_ACC_PUBLIC|ZEND_ACC_STATIC|ZEND_ACC_DEPRECATED)
	ZEND_FE_END
};


static const zend_function_entry class_GoldPlan_Exception_GoldPlanException_methods[] = {
	ZEND_ME(GoldPlan_Exception_GoldPlanException, getKind, arginfo_class_GoldPlan_Exception_GoldPlanException_getKind, ZEND_ACC_PUBLIC)
	ZEND_ME(GoldPlan_Exception_GoldPlanException, getFamily, arginfo_class_GoldPlan_Exception_GoldPlanException_getFamily, ZEND_ACC_PUBLIC)
	ZEND_ME(GoldPlan_Exception_GoldPlanException, getRequestId, arginfo_class_GoldPlan_Exception_GoldPlanException_getRequestId, ZEND_ACC_PUBLIC)
	ZEND_ME(GoldPlan_Exception_GoldPlanException, getStatus, arginfo_class_GoldPlan_Exception_GoldPlanException_getStatus, ZEND_ACC_PUBLIC)
	ZEND_ME(GoldPlan_Exception_GoldPlanException, getDetail, arginfo_class_GoldPlan_Exception_GoldPlanException_getDetail, ZEND_ACC_PUBLIC)
	ZEND_ME(GoldPlan_Exception_GoldPlanException, isRetryable, arginfo_class_GoldPlan_Exception_GoldPlanException_isRetryable, ZEND_ACC_PUBLIC)
	ZEND_FE_END
};


static const zend_function_entry class_GoldPlan_Exception_ConfigurationException_methods[] = {
	ZEND_FE_END
};


static const zend_function_entry class_GoldPlan_Exception_InvalidInputException_methods[] = {
	ZEND_FE_END
};


static const zend_function_entry class_GoldPlan_Exception_SignatureException_methods[] = {
	ZEND_FE_END
};


static const zend_function_entry class_GoldPlan_Exception_SigningException_methods[] = {
	ZEND_FE_END
};


static const zend_function_entry class_GoldPlan_Exception_EncryptionException_methods[] = {
	ZEND_FE_END
};


static const zend_function_entry class_GoldPlan_Exception_DecryptionException_methods[] = {
	ZEND_FE_END
};


static const zend_function_entry class_GoldPlan_Exception_CertificateException_methods[] = {
	ZEND_FE_END
};


static const zend_function_entry class_GoldPlan_Exception_ReplayException_methods[] = {
	ZEND_FE_END
};


static const zend_function_entry class_GoldPlan_Exception_DecodeException_methods[] = {
	ZEND_FE_END
};


static const zend_function_entry class_GoldPlan_Exception_ApiException_methods[] = {
	ZEND_FE_END
};


static const zend_function_entry class_GoldPlan_Exception_TransportException_methods[] = {
	ZEND_FE_END
};


static const zend_function_entry class_GoldPlan_Exception_InternalException_methods[] = {
	ZEND_FE_END
};

static zend_class_entry *register_class_GoldPlan_Client(void)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "GoldPlan", "Client", class_GoldPlan_Client_methods);
	class_entry = zend_register_internal_class_ex(&ce, NULL);
	class_entry->ce_flags |= ZEND_ACC_FINAL|ZEND_ACC_NO_DYNAMIC_PROPERTIES|ZEND_ACC_NOT_SERIALIZABLE;

	return class_entry;
}

static zend_class_entry *register_class_GoldPlan_Signer(void)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "GoldPlan", "Signer", class_GoldPlan_Signer_methods);
	class_entry = zend_register_internal_class_ex(&ce, NULL);
	class_entry->ce_flags |= ZEND_ACC_FINAL|ZEND_ACC_NO_DYNAMIC_PROPERTIES|ZEND_ACC_NOT_SERIALIZABLE;

	return class_entry;
}

static zend_class_entry *register_class_GoldPlan_Verifier(void)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "GoldPlan", "Verifier", class_GoldPlan_Verifier_methods);
	class_entry = zend_register_internal_class_ex(&ce, NULL);
	class_entry->ce_flags |= ZEND_ACC_FINAL|ZEND_ACC_NO_DYNAMIC_PROPERTIES|ZEND_ACC_NOT_SERIALIZABLE;

	return class_entry;
}

static zend_class_entry *register_class_GoldPlan_Protocol(void)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "GoldPlan", "Protocol", class_GoldPlan_Protocol_methods);
	class_entry = zend_register_internal_class_ex(&ce, NULL);
	class_entry->ce_flags |= ZEND_ACC_FINAL;

	return class_entry;
}

static zend_class_entry *register_class_GoldPlan_Receipt(void)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "GoldPlan", "Receipt", class_GoldPlan_Receipt_methods);
	class_entry = zend_register_internal_class_ex(&ce, NULL);
	class_entry->ce_flags |= ZEND_ACC_FINAL;

	return class_entry;
}

static zend_class_entry *register_class_GoldPlan_Exception_GoldPlanException(zend_class_entry *class_entry_RuntimeException)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "GoldPlan\\Exception", "GoldPlanException", class_GoldPlan_Exception_GoldPlanException_methods);
	class_entry = zend_register_internal_class_ex(&ce, class_entry_RuntimeException);

	zval property_kind_default_value;
	zend_string *property_kind_default_value_str = zend_string_init("internal", strlen("internal"), 1);
	ZVAL_STR(&property_kind_default_value, property_kind_default_value_str);
	zend_string *property_kind_name = zend_string_init("kind", sizeof("kind") - 1, 1);
	zend_declare_typed_property(class_entry, property_kind_name, &property_kind_default_value, ZEND_ACC_PROTECTED, NULL, (zend_type) ZEND_TYPE_INIT_MASK(MAY_BE_STRING));
	zend_string_release(property_kind_name);

	zval property_family_default_value;
	zend_string *property_family_default_value_str = zend_string_init("internal", strlen("internal"), 1);
	ZVAL_STR(&property_family_default_value, property_family_default_value_str);
	zend_string *property_family_name = zend_string_init("family", sizeof("family") - 1, 1);
	zend_declare_typed_property(class_entry, property_family_name, &property_family_default_value, ZEND_ACC_PROTECTED, NULL, (zend_type) ZEND_TYPE_INIT_MASK(MAY_BE_STRING));
	zend_string_release(property_family_name);

	zval property_requestId_default_value;
	ZVAL_NULL(&property_requestId_default_value);
	zend_string *property_requestId_name = zend_string_init("requestId", sizeof("requestId") - 1, 1);
	zend_declare_typed_property(class_entry, property_requestId_name, &property_requestId_default_value, ZEND_ACC_PROTECTED, NULL, (zend_type) ZEND_TYPE_INIT_MASK(MAY_BE_STRING|MAY_BE_NULL));
	zend_string_release(property_requestId_name);

	zval property_status_default_value;
	ZVAL_NULL(&property_status_default_value);
	zend_string *property_status_name = zend_string_init("status", sizeof("status") - 1, 1);
	zend_declare_typed_property(class_entry, property_status_name, &property_status_default_value, ZEND_ACC_PROTECTED, NULL, (zend_type) ZEND_TYPE_INIT_MASK(MAY_BE_LONG|MAY_BE_NULL));
	zend_string_release(property_status_name);

	zval property_detail_default_value;
	ZVAL_NULL(&property_detail_default_value);
	zend_string *property_detail_name = zend_string_init("detail", sizeof("detail") - 1, 1);
	zend_declare_typed_property(class_entry, property_detail_name, &property_detail_default_value, ZEND_ACC_PROTECTED, NULL, (zend_type) ZEND_TYPE_INIT_MASK(MAY_BE_ANY));
	zend_string_release(property_detail_name);

	zval property_retryable_default_value;
	ZVAL_FALSE(&property_retryable_default_value);
	zend_string *property_retryable_name = zend_string_init("retryable", sizeof("retryable") - 1, 1);
	zend_declare_typed_property(class_entry, property_retryable_name, &property_retryable_default_value, ZEND_ACC_PROTECTED, NULL, (zend_type) ZEND_TYPE_INIT_MASK(MAY_BE_BOOL));
	zend_string_release(property_retryable_name);

	return class_entry;
}

static zend_class_entry *register_class_GoldPlan_Exception_ConfigurationException(zend_class_entry *class_entry_GoldPlan_Exception_GoldPlanException)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "GoldPlan\\Exception", "ConfigurationException", class_GoldPlan_Exception_ConfigurationException_methods);
	class_entry = zend_register_internal_class_ex(&ce, class_entry_GoldPlan_Exception_GoldPlanException);

	return class_entry;
}

static zend_class_entry *register_class_GoldPlan_Exception_InvalidInputException(zend_class_entry *class_entry_GoldPlan_Exception_GoldPlanException)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "GoldPlan\\Exception", "InvalidInputException", class_GoldPlan_Exception_InvalidInputException_methods);
	class_entry = zend_register_internal_class_ex(&ce, class_entry_GoldPlan_Exception_GoldPlanException);

	return class_entry;
}

static zend_class_entry *register_class_GoldPlan_Exception_SignatureException(zend_class_entry *class_entry_GoldPlan_Exception_GoldPlanException)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "GoldPlan\\Exception", "SignatureException", class_GoldPlan_Exception_SignatureException_methods);
	class_entry = zend_register_internal_class_ex(&ce, class_entry_GoldPlan_Exception_GoldPlanException);

	return class_entry;
}

static zend_class_entry *register_class_GoldPlan_Exception_SigningException(zend_class_entry *class_entry_GoldPlan_Exception_GoldPlanException)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "GoldPlan\\Exception", "SigningException", class_GoldPlan_Exception_SigningException_methods);
	class_entry = zend_register_internal_class_ex(&ce, class_entry_GoldPlan_Exception_GoldPlanException);

	return class_entry;
}

static zend_class_entry *register_class_GoldPlan_Exception_EncryptionException(zend_class_entry *class_entry_GoldPlan_Exception_GoldPlanException)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "GoldPlan\\Exception", "EncryptionException", class_GoldPlan_Exception_EncryptionException_methods);
	class_entry = zend_register_internal_class_ex(&ce, class_entry_GoldPlan_Exception_GoldPlanException);

	return class_entry;
}

static zend_class_entry *register_class_GoldPlan_Exception_DecryptionException(zend_class_entry *class_entry_GoldPlan_Exception_GoldPlanException)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "GoldPlan\\Exception", "DecryptionException", class_GoldPlan_Exception_DecryptionException_methods);
	class_entry = zend_register_internal_class_ex(&ce, class_entry_GoldPlan_Exception_GoldPlanException);

	return class_entry;
}

static zend_class_entry *register_class_GoldPlan_Exception_CertificateException(zend_class_entry *class_entry_GoldPlan_Exception_GoldPlanException)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "GoldPlan\\Exception", "CertificateException", class_GoldPlan_Exception_CertificateException_methods);
	class_entry = zend_register_internal_class_ex(&ce, class_entry_GoldPlan_Exception_GoldPlanException);

	return class_entry;
}

static zend_class_entry *register_class_GoldPlan_Exception_ReplayException(zend_class_entry *class_entry_GoldPlan_Exception_GoldPlanException)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "GoldPlan\\Exception", "ReplayException", class_GoldPlan_Exception_ReplayException_methods);
	class_entry = zend_register_internal_class_ex(&ce, class_entry_GoldPlan_Exception_GoldPlanException);

	return class_entry;
}

static zend_class_entry *register_class_GoldPlan_Exception_DecodeException(zend_class_entry *class_entry_GoldPlan_Exception_GoldPlanException)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "GoldPlan\\Exception", "DecodeException", class_GoldPlan_Exception_DecodeException_methods);
	class_entry = zend_register_internal_class_ex(&ce, class_entry_GoldPlan_Exception_GoldPlanException);

	return class_entry;
}

static zend_class_entry *register_class_GoldPlan_Exception_ApiException(zend_class_entry *class_entry_GoldPlan_Exception_GoldPlanException)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "GoldPlan\\Exception", "ApiException", class_GoldPlan_Exception_ApiException_methods);
	class_entry = zend_register_internal_class_ex(&ce, class_entry_GoldPlan_Exception_GoldPlanException);

	return class_entry;
}

static zend_class_entry *register_class_GoldPlan_Exception_TransportException(zend_class_entry *class_entry_GoldPlan_Exception_GoldPlanException)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "GoldPlan\\Exception", "TransportException", class_GoldPlan_Exception_TransportException_methods);
	class_entry = zend_register_internal_class_ex(&ce, class_entry_GoldPlan_Exception_GoldPlanException);

	return class_entry;
}

static zend_class_entry *register_class_GoldPlan_Exception_InternalException(zend_class_entry *class_entry_GoldPlan_Exception_GoldPlanException)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "GoldPlan\\Exception", "InternalException", class_GoldPlan_Exception_InternalException_methods);
	class_entry = zend_register_internal_class_ex(&ce, class_entry_GoldPlan_Exception_GoldPlanException);

	return class_entry;
}
