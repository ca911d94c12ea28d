#ifndef TAI_CGIT2_SHIM_H
#define TAI_CGIT2_SHIM_H
#include <git2.h>

/// GIT_OID_HEXSZ is a macro; expose it as a typed constant.
static inline int tai_git_oid_hexsz(void) { return GIT_OID_HEXSZ; }

/// git_libgit2_opts is variadic; Swift cannot call it. Typed wrapper for the int-valued options.
static inline int tai_git_opts_int(int option, int value) { return git_libgit2_opts(option, value); }

/// git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, file, path): trust a CA bundle for https.
static inline int tai_git_opts_set_ssl_cert_locations(const char *file, const char *path) {
    return git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, file, path);
}
#endif
