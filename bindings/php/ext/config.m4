dnl config.m4 of the goldplan extension: links libgoldplan.so (bindings/c), found with
dnl pkg-config (module "goldplan") or under --with-goldplan=PREFIX.

PHP_ARG_WITH([goldplan],
  [for goldplan support],
  [AS_HELP_STRING([[--with-goldplan[=PREFIX]]],
    [Include goldplan support (WeChat Pay APIv3 + Gold Plan over libgoldplan). PREFIX is
     where libgoldplan is installed (include/goldplan.h, lib/libgoldplan.so); without it,
     pkg-config finds the module "goldplan"])])

if test "$PHP_GOLDPLAN" != "no"; then
  if test "$PHP_GOLDPLAN" != "yes" && test -r "$PHP_GOLDPLAN/include/goldplan.h"; then
    AC_MSG_CHECKING([for libgoldplan under $PHP_GOLDPLAN])
    GOLDPLAN_CFLAGS="-I$PHP_GOLDPLAN/include"
    GOLDPLAN_LIBDIR="$PHP_GOLDPLAN/lib"
    AC_MSG_RESULT([yes])
    PHP_EVAL_INCLINE($GOLDPLAN_CFLAGS)
    PHP_ADD_LIBRARY_WITH_PATH(goldplan, $GOLDPLAN_LIBDIR, GOLDPLAN_SHARED_LIBADD)
  elif test "$PHP_GOLDPLAN" != "yes"; then
    AC_MSG_ERROR([no include/goldplan.h under $PHP_GOLDPLAN])
  else
    PKG_CHECK_MODULES([GOLDPLAN], [goldplan >= 0.1.0], [],
      [AC_MSG_ERROR([libgoldplan not found: install it (bindings/c/install.sh), set PKG_CONFIG_PATH, or pass --with-goldplan=PREFIX])])
    PHP_EVAL_INCLINE($GOLDPLAN_CFLAGS)
    PHP_EVAL_LIBLINE($GOLDPLAN_LIBS, GOLDPLAN_SHARED_LIBADD)
    dnl The runtime linker must find libgoldplan.so where pkg-config says it is.
    GOLDPLAN_LIBDIR=`$PKG_CONFIG --variable=libdir goldplan`
    if test -n "$GOLDPLAN_LIBDIR"; then
      PHP_ADD_LIBPATH($GOLDPLAN_LIBDIR, GOLDPLAN_SHARED_LIBADD)
    fi
  fi

  PHP_CHECK_LIBRARY(goldplan, goldplan_client_call,
    [AC_DEFINE(HAVE_GOLDPLAN, 1, [Have libgoldplan])],
    [AC_MSG_ERROR([libgoldplan does not link (goldplan_client_call missing)])],
    [$GOLDPLAN_SHARED_LIBADD])

  PHP_ADD_EXTENSION_DEP(goldplan, json)
  PHP_SUBST(GOLDPLAN_SHARED_LIBADD)
  PHP_NEW_EXTENSION(goldplan,
    goldplan.c goldplan_errors.c goldplan_json.c goldplan_client.c goldplan_signer_verifier.c goldplan_protocol.c,
    $ext_shared,, -DZEND_ENABLE_STATIC_TSRMLS_CACHE=1 -Wall -Wextra)
fi
