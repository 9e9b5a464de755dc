/* The goldplan extension: module entry, class registration (from the generated arginfo of
 * ../goldplan.stub.php) and GoldPlan\version(). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "php_goldplan.h"
#include "ext/standard/info.h"
#include "ext/spl/spl_exceptions.h"
#include "goldplan_arginfo.h"

#if defined(ZTS) && defined(COMPILE_DL_GOLDPLAN)
ZEND_TSRMLS_CACHE_DEFINE()
#endif

ZEND_FUNCTION(GoldPlan_version)
{
	ZEND_PARSE_PARAMETERS_NONE();
	const char *v = NULL;
	size_t len = 0;
	goldplan_status st = goldplan_version(&v, &len);
	if (st != GOLDPLAN_STATUS_OK) {
		gp_throw_last_error(st);
		return;
	}
	RETURN_STRINGL(v, len); /* static in the library: never freed */
}

static PHP_MINIT_FUNCTION(goldplan)
{
	(void)type;
	(void)module_number;
	gp_client_minit(register_class_GoldPlan_Client());
	gp_signer_verifier_minit(register_class_GoldPlan_Signer(), register_class_GoldPlan_Verifier());
	register_class_GoldPlan_Protocol();
	register_class_GoldPlan_Receipt();

	zend_class_entry *base = register_class_GoldPlan_Exception_GoldPlanException(spl_ce_RuntimeException);
	zend_class_entry *const families[12] = {
		register_class_GoldPlan_Exception_ConfigurationException(base),
		register_class_GoldPlan_Exception_InvalidInputException(base),
		register_class_GoldPlan_Exception_SignatureException(base),
		register_class_GoldPlan_Exception_SigningException(base),
		register_class_GoldPlan_Exception_EncryptionException(base),
		register_class_GoldPlan_Exception_DecryptionException(base),
		register_class_GoldPlan_Exception_CertificateException(base),
		register_class_GoldPlan_Exception_ReplayException(base),
		register_class_GoldPlan_Exception_DecodeException(base),
		register_class_GoldPlan_Exception_ApiException(base),
		register_class_GoldPlan_Exception_TransportException(base),
		register_class_GoldPlan_Exception_InternalException(base),
	};
	gp_errors_minit(base, families);
	return SUCCESS;
}

static PHP_RINIT_FUNCTION(goldplan)
{
	(void)type;
	(void)module_number;
#if defined(ZTS) && defined(COMPILE_DL_GOLDPLAN)
	ZEND_TSRMLS_CACHE_UPDATE();
#endif
	return SUCCESS;
}

static PHP_MINFO_FUNCTION(goldplan)
{
	(void)zend_module;
	const char *v = NULL;
	size_t len = 0;
	char library[64] = "unknown";
	if (goldplan_version(&v, &len) == GOLDPLAN_STATUS_OK && v) {
		snprintf(library, sizeof library, "%.*s", (int)len, v);
	}
	php_info_print_table_start();
	php_info_print_table_row(2, "goldplan support", "enabled");
	php_info_print_table_row(2, "extension version", PHP_GOLDPLAN_VERSION);
	php_info_print_table_row(2, "libgoldplan version", library);
	php_info_print_table_end();
}

static const zend_module_dep goldplan_deps[] = {
	ZEND_MOD_REQUIRED("json")
	ZEND_MOD_REQUIRED("spl")
	ZEND_MOD_END
};

zend_module_entry goldplan_module_entry = {
	STANDARD_MODULE_HEADER_EX,
	NULL,
	goldplan_deps,
	"goldplan",
	ext_functions,
	PHP_MINIT(goldplan),
	NULL,
	PHP_RINIT(goldplan),
	NULL,
	PHP_MINFO(goldplan),
	PHP_GOLDPLAN_VERSION,
	STANDARD_MODULE_PROPERTIES
};

#ifdef COMPILE_DL_GOLDPLAN
ZEND_GET_MODULE(goldplan)
#endif
